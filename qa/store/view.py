"""An open index for searching: every segment's vectors and term counts, with deletions masked.

Chunks and articles are read from the segments' SQLite on demand, so memory holds only the
vectors and the term counts, not the text. A Milvus-backed index (qa/store/backend.py) has no
vectors here: its dense and BM25 searches run in its Milvus mirror, with the same rows and
scores. Rows are numbered across segments in manifest order (segment offset + row in the
segment).
"""
from __future__ import annotations

import bisect
import collections
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Iterator

import numpy as np

from qa.integrity import check_sizes, corrupt, faiss_problem, faiss_reason
from qa.store import bm25
from qa.store.bm25 import TermMatrix
from qa.store.backend import open_mirror
from qa.store.manifest import Manifest
from qa.store.segment import BM25_DIR, FAISS, SegmentFile
from qa.types import Article, Chunk


class IndexView:
    """The segments of one manifest, opened; damage shown on the way is IndexCorruptError."""

    def __init__(self, root: Path, manifest: Manifest, mirror=None):
        """`mirror`: an open MilvusMirror of this index to search through, which the caller
        keeps and closes (a writer's); otherwise a Milvus-backed index's mirror is opened here."""
        import faiss
        import sqlite3

        self.root, self.manifest = Path(root), manifest
        check_sizes(self.root, manifest)
        self.segments: list[SegmentFile] = []
        self.faiss, self.terms, self.deleted, self.offsets = [], [], [], []
        offset = 0
        for entry in manifest.segments:
            name = entry.name
            try:
                seg = SegmentFile(self.root / name)
                rows = seg.count("chunks")
                deleted = np.asarray(sorted(seg.chunk_rows(entry.deleted_articles)), dtype=np.int64)
            except sqlite3.DatabaseError as exc:
                raise corrupt(root, manifest, f"{name}/meta.sqlite", f"unreadable ({exc})") from exc
            if rows != entry.chunks:
                raise corrupt(root, manifest, f"{name}/meta.sqlite",
                              f"{rows} chunks, the manifest records {entry.chunks}")
            index = None
            if manifest.store.backend == "local":
                try:
                    index = faiss.read_index(str(self.root / name / FAISS))
                except RuntimeError as exc:
                    raise corrupt(root, manifest, f"{name}/{FAISS}", faiss_reason(exc)) from exc
                if problem := faiss_problem(index, manifest.dim, rows):
                    raise corrupt(root, manifest, f"{name}/{FAISS}", problem)
            try:
                terms = TermMatrix.load(self.root / name / BM25_DIR)
                file, problem = terms.problem(rows)
            except Exception:  # noqa: BLE001 - which file, and why, is found file by file
                file, problem = bm25.files_problem(self.root / name / BM25_DIR, rows)
            if problem:
                raise corrupt(root, manifest, f"{name}/{BM25_DIR}/{file}", problem)
            self.segments.append(seg)
            self.faiss.append(index)
            self.terms.append(terms)
            self.deleted.append(deleted)
            self.offsets.append(offset)
            offset += rows
        self.rows = offset
        self.chunks = SegmentedChunks(self)
        self.articles = LiveArticles(self)
        self._own_mirror = mirror is None
        self.mirror = mirror if mirror is not None else \
            open_mirror(self.root, manifest.store, manifest.dim, manifest.index_type)  # None: local

    def locate(self, row: int) -> tuple[int, int]:
        """(segment position, row in the segment) of an index-wide row."""
        if not 0 <= row < self.rows:
            raise IndexError(row)
        i = bisect.bisect_right(self.offsets, row) - 1
        return i, row - self.offsets[i]

    def dense(self, vector: np.ndarray, depth: int) -> list[tuple[int, float]]:
        """(row, cosine) of the `depth` live chunks nearest to `vector`, best first."""
        if self.mirror is not None:
            return self.mirror.dense(self, vector, depth) if self.rows else []
        q = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        found: list[tuple[int, float]] = []
        for index, deleted, offset in zip(self.faiss, self.deleted, self.offsets):
            want = min(index.ntotal, depth + len(deleted))  # deleted rows are fetched, then dropped
            if not want:
                continue
            scores, rows = index.search(q, want)
            keep = [(int(r), float(s)) for r, s in zip(rows[0], scores[0])
                    if r >= 0 and not _holds(deleted, int(r))]
            found += [(offset + r, s) for r, s in keep[:depth]]
        return sorted(found, key=lambda t: (-t[1], t[0]))[:depth]

    def sparse(self, tokens: list[str], depth: int) -> list[tuple[int, float]]:
        """(row, BM25 score) of the `depth` best live chunks with a positive score."""
        if self.mirror is not None:
            return self.mirror.sparse(self, tokens, depth) if self.rows else []
        found: list[tuple[int, float]] = []
        for scores, deleted, offset in zip(bm25.scores(self.terms, tokens), self.deleted, self.offsets):
            scores[deleted] = 0.0
            top = np.argsort(-scores, kind="stable")[:depth]
            found += [(offset + int(r), float(scores[r])) for r in top if scores[r] > 0]
        return sorted(found, key=lambda t: (-t[1], t[0]))[:depth]

    def chunk_counts(self) -> dict[str, int]:
        """The number of live chunks of each live article, by article id."""
        counts: collections.Counter = collections.Counter()
        for seg, entry in zip(self.segments, self.manifest.segments):
            gone = set(entry.deleted_articles)
            counts.update({a: n for a, n in seg.query(
                "SELECT article_id, COUNT(*) FROM chunks GROUP BY article_id") if a not in gone})
        return dict(counts)

    def close(self) -> None:
        for seg in self.segments:
            seg.close()
        if self.mirror is not None and self._own_mirror:
            self.mirror.close()


def _holds(sorted_rows: np.ndarray, row: int) -> bool:
    i = int(np.searchsorted(sorted_rows, row))
    return i < len(sorted_rows) and sorted_rows[i] == row


class SegmentedChunks(Sequence):
    """Every chunk row of the index (deleted ones included), read on demand."""

    def __init__(self, view: IndexView):
        self._view = view

    def __len__(self) -> int:
        return self._view.rows

    def __getitem__(self, row: int) -> Chunk:  # type: ignore[override]
        i, local = self._view.locate(row)
        return self._view.segments[i].chunk(local)


class LiveArticles(Mapping):
    """The live canonical articles by id, read on demand."""

    def __init__(self, view: IndexView):
        self._view = view
        self._gone = [set(e.deleted_articles) for e in view.manifest.segments]
        self._count = view.manifest.counts.get("articles", 0)

    def __getitem__(self, article_id: str) -> Article:
        for seg, gone in zip(reversed(self._view.segments), reversed(self._gone)):
            if article_id not in gone and (article := seg.article(article_id)) is not None:
                return article
        raise KeyError(article_id)

    def __iter__(self) -> Iterator[str]:
        for seg, gone in zip(self._view.segments, self._gone):
            yield from (a for a in seg.article_ids() if a not in gone)

    def __len__(self) -> int:
        return self._count

    def values(self) -> Iterator[Article]:  # type: ignore[override]
        """Every live article, one query per segment (not one per article)."""
        for seg, gone in zip(self._view.segments, self._gone):
            for batch in seg.article_batches():
                yield from (a for a, _ in batch if a.article_id not in gone)
