"""Span decoding: the best start <= end within a maximum length, mapped back to characters."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TokenSpan:
    score: float  # start logit + end logit
    start: int  # token indices, inclusive
    end: int


def best_spans(start_logits: np.ndarray, end_logits: np.ndarray, first: int, last: int,
               max_tokens: int, top: int = 1, length_penalty: float = 0.0) -> list[TokenSpan]:
    """The `top` highest-scoring spans with first <= start <= end <= last (inclusive token
    indices) and end - start < max_tokens, best first; spans may overlap. A span's score is
    start logit + end logit - length_penalty * (end - start)."""
    if last < first or max_tokens < 1:
        return []
    s = np.asarray(start_logits[first : last + 1], dtype=np.float64)
    e = np.asarray(end_logits[first : last + 1], dtype=np.float64)
    n = len(s)
    scores = s[:, None] + e[None, :]
    i, j = np.indices((n, n))
    if length_penalty:
        scores -= length_penalty * (j - i)
    scores[(j < i) | (j - i >= max_tokens)] = -np.inf
    flat = np.argsort(-scores, axis=None)[:top]
    out = []
    for f in flat:
        a, b = divmod(int(f), n)
        if np.isfinite(scores[a, b]):
            out.append(TokenSpan(float(scores[a, b]), first + a, first + b))
    return out


def char_span(token_start: int, token_end: int, char_starts, char_ends) -> tuple[int, int]:
    """Character [start, end) covered by tokens token_start..token_end (indices into the offsets)."""
    return int(char_starts[token_start]), int(char_ends[token_end])
