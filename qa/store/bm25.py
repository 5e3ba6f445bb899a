"""BM25 over segments with index-wide statistics.

Each segment stores its chunks' term counts (a term x chunk CSC matrix) and lengths; at query
time the document frequencies and the average length are summed over all segments, so a small
new segment scores as it would inside one large index. The formula is bm25s's Lucene variant
(k1 1.5, b 0.75), the one the index used before segments (a test checks the scores agree);
bm25s itself precomputes scores with one segment's statistics, which segments cannot share.
As in Lucene, rows of deleted articles count in the statistics until their segment is merged.
"""
from __future__ import annotations

import json
from array import array
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

K1 = 1.5
B = 0.75
FILES = ("terms.json", "pointers.npy", "rows.npy", "counts.npy", "lengths.npy")


@dataclass(frozen=True)
class TermMatrix:
    """One segment's term counts: column t (rows[pointers[t]:pointers[t+1]]) lists the chunk
    rows holding term t, ascending, with their counts; `lengths` is each chunk's token count."""

    terms: dict[str, int]
    pointers: np.ndarray  # int64, len(terms) + 1
    rows: np.ndarray  # int32
    counts: np.ndarray  # float32
    lengths: np.ndarray  # float32, one per chunk

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]]) -> "TermMatrix":
        """The matrix of pre-tokenised chunks (row i = the i-th token list), built in compact
        arrays (4 bytes an entry, not a Python int), so a large merge stays small."""
        terms: dict[str, int] = {}
        cols, rows, counts, lengths = array("q"), array("i"), array("f"), array("f")
        for row, tokens in enumerate(token_lists):
            lengths.append(len(tokens))
            for term, n in Counter(tokens).items():
                cols.append(terms.setdefault(term, len(terms)))
                rows.append(row)
                counts.append(n)
        col = np.frombuffer(cols, dtype=np.int64) if cols else np.zeros(0, np.int64)
        order = np.argsort(col, kind="stable")  # rows stay ascending within a term
        pointers = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(col, minlength=len(terms)), out=pointers[1:])
        return cls(terms, pointers, np.asarray(rows, dtype=np.int32)[order],
                   np.asarray(counts, dtype=np.float32)[order], np.asarray(lengths, dtype=np.float32))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        vocab = sorted(self.terms, key=self.terms.__getitem__)
        (folder / "terms.json").write_text(json.dumps(vocab, ensure_ascii=False), "utf-8")
        for name, values in (("pointers", self.pointers), ("rows", self.rows),
                             ("counts", self.counts), ("lengths", self.lengths)):
            np.save(folder / f"{name}.npy", values, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> "TermMatrix":
        """Read a saved matrix; raises OSError/ValueError/EOFError on unreadable files."""
        vocab = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        if not isinstance(vocab, list):
            raise ValueError("terms.json is not a list of terms")
        arrays = {n: np.load(folder / f"{n}.npy", allow_pickle=False)
                  for n in ("pointers", "rows", "counts", "lengths")}
        return cls({t: i for i, t in enumerate(vocab)}, **arrays)

    def problem(self, chunks: int) -> tuple[str, str]:
        """(file, reason) of the first inconsistency; ("", "") when sound."""
        p = self.pointers
        if self.lengths.shape != (chunks,) or not np.all(np.isfinite(self.lengths)) \
                or (chunks and self.lengths.min() < 0):
            return "lengths.npy", f"{self.lengths.shape} lengths for {chunks} chunks, or not counts"
        if p.ndim != 1 or len(p) != len(self.terms) + 1 or (len(p) and p[0] != 0) \
                or np.any(np.diff(p) < 0) or (len(p) and p[-1] != len(self.rows)):
            return "pointers.npy", "column pointers out of order or out of range"
        if self.rows.shape != self.counts.shape or (len(self.rows) and (
                self.rows.min() < 0 or self.rows.max() >= chunks)):
            return "rows.npy", "chunk rows out of range"
        rises = np.diff(self.rows.astype(np.int64)) > 0
        starts = p[1:-1]
        rises[starts[(starts > 0) & (starts < len(self.rows))] - 1] = True
        if not np.all(rises):
            return "rows.npy", "chunk rows out of order within a term"
        if not np.all(np.isfinite(self.counts)) or (len(self.counts) and self.counts.min() < 1):
            return "counts.npy", "term counts non-finite or below 1"
        return "", ""


def files_problem(folder: Path, chunks: int) -> tuple[str, str]:
    """(file, reason) for a saved matrix: each file loaded on its own (to name the bad one),
    then checked together; ("", "") when sound."""
    for name in FILES:
        try:
            if name.endswith(".npy"):
                np.load(folder / name, allow_pickle=False)
            elif not isinstance(json.loads((folder / name).read_text(encoding="utf-8")), list):
                return name, "not a list of terms"
        except Exception as exc:  # a damaged .npy header fails numpy's parser in many ways
            return name, f"does not load ({type(exc).__name__}: {exc})"
    try:
        return TermMatrix.load(folder).problem(chunks)
    except (ValueError, TypeError) as exc:
        return "terms.json", f"does not load ({exc})"


def average_length(matrices: Sequence[TermMatrix]) -> float:
    """The average token count of the rows of all segments together (1.0 when there are none)."""
    total = sum(len(m.lengths) for m in matrices)
    return float(sum(float(m.lengths.sum()) for m in matrices)) / total if total else 1.0


def document_frequency(matrices: Sequence[TermMatrix], term: str) -> int:
    """Rows of all segments together that hold `term`."""
    return sum(int(m.pointers[c + 1] - m.pointers[c]) for m in matrices if (c := m.terms.get(term)) is not None)


def idf(total: int, df: int) -> float:
    """Lucene's BM25 idf of a term held by `df` of `total` rows."""
    return float(np.log(1 + (total - df + 0.5) / (df + 0.5)))


def scores(matrices: Sequence[TermMatrix], tokens: Sequence[str]) -> list[np.ndarray]:
    """BM25 score of every row of every segment for the query tokens (a repeated token counts
    again, as in bm25s); statistics are those of all segments together."""
    total = sum(len(m.lengths) for m in matrices)
    out = [np.zeros(len(m.lengths), dtype=np.float32) for m in matrices]
    if not total:
        return out
    avg = average_length(matrices)
    for term in tokens:
        df = document_frequency(matrices, term)
        if not df:
            continue
        weight = np.float32(idf(total, df))
        cols = [m.terms.get(term) for m in matrices]
        for m, c, acc in zip(matrices, cols, out):
            if c is None:
                continue
            lo, hi = m.pointers[c], m.pointers[c + 1]
            rows, tf = m.rows[lo:hi], m.counts[lo:hi]
            norm = np.float32(K1) * (np.float32(1 - B) + np.float32(B) * m.lengths[rows] / np.float32(avg))
            acc[rows] += weight * tf / (norm + tf)
    return out
