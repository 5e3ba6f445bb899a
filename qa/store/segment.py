"""One segment of an index: an immutable folder written once, read by many.

  seg-N/meta.sqlite   files, documents, article copies (with MinHash signatures and their LSH
                      band keys), canonical articles (with the copies they stand for), chunks
                      (with their BM25 tokens)
  seg-N/vectors.npy, seg-N/vectors.faiss   one unit vector per chunk row
  seg-N/bm25/         the chunks' term counts (qa/store/bm25.py)
  seg-N/manifest.json the index manifest as of the newest write (recovery copy, unchecked)
"""
from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from qa.store.bm25 import TermMatrix
from qa.types import Article, Chunk, Document, Segment

META, VECTORS, FAISS, BM25_DIR = "meta.sqlite", "vectors.npy", "vectors.faiss", "bm25"

_SCHEMA = """
CREATE TABLE files (file TEXT PRIMARY KEY, sha TEXT NOT NULL, complete INTEGER NOT NULL);
CREATE TABLE documents (doc_id TEXT, file TEXT, path TEXT, kind TEXT, title TEXT, date TEXT,
                        url TEXT, source TEXT, text TEXT);
CREATE TABLE copies (copy_id TEXT PRIMARY KEY, file TEXT, article_id TEXT, doc_id TEXT,
                     path TEXT, title TEXT, text TEXT, segments TEXT, dateline TEXT, byline TEXT,
                     kicker TEXT, date TEXT, kind TEXT, sources TEXT, signature BLOB);
CREATE TABLE bands (band INTEGER, key INTEGER, copy_id TEXT);
CREATE TABLE articles (article_id TEXT PRIMARY KEY, doc_id TEXT, path TEXT, title TEXT,
                       text TEXT, segments TEXT, dateline TEXT, byline TEXT, kicker TEXT,
                       date TEXT, kind TEXT, sources TEXT, members TEXT);
CREATE TABLE chunks (row INTEGER PRIMARY KEY, chunk_id TEXT, article_id TEXT, title TEXT,
                     text TEXT, start INTEGER, "end" INTEGER, position INTEGER, tokens TEXT);
"""
_INDEXES = """
CREATE INDEX bands_key ON bands (band, key);
CREATE INDEX copies_file ON copies (file);
CREATE INDEX chunks_article ON chunks (article_id);
"""
_ARTICLE_COLUMNS = ("article_id, doc_id, path, title, text, segments, dateline, byline, kicker, "
                    "date, kind, sources")


@dataclass(frozen=True)
class StoredCopy:
    """One article as segmented from one input file, with its MinHash signature."""

    copy_id: str
    article: Article
    signature: np.ndarray
    file: str


@dataclass
class SegmentData:
    """What one segment holds, in memory; what `write_segment` persists."""

    # file path -> (content sha, whether its last piece is here: a large file's first pieces
    # may be written by an earlier segment of the same ingest)
    files: dict[str, tuple[str, bool]] = field(default_factory=dict)
    documents: list[tuple[str, Document]] = field(default_factory=list)  # (file, document)
    copies: list[StoredCopy] = field(default_factory=list)
    bands: list[tuple[int, int, str]] = field(default_factory=list)  # (band, key, copy_id)
    articles: list[tuple[Article, tuple[str, ...]]] = field(default_factory=list)  # (canonical, copy ids)
    chunks: list[Chunk] = field(default_factory=list)  # row i <-> vector i
    tokens: list[str] = field(default_factory=list)  # each chunk's BM25 tokens, space-separated
    vectors: np.ndarray | None = None


def _article_values(a: Article) -> tuple:
    segs = json.dumps([[s.start, s.end, s.text_start] for s in a.segments])
    return (a.article_id, a.doc_id, a.path, a.title, a.text, segs, a.dateline, a.byline,
            a.kicker, a.date, a.kind, json.dumps(list(a.sources), ensure_ascii=False))


def row_article(r: sqlite3.Row) -> Article:
    return Article(
        article_id=r["article_id"], doc_id=r["doc_id"], path=r["path"], title=r["title"],
        text=r["text"], segments=tuple(Segment(*s) for s in json.loads(r["segments"])),
        dateline=r["dateline"], byline=r["byline"], kicker=r["kicker"], date=r["date"],
        kind=r["kind"], sources=tuple(json.loads(r["sources"])),
    )


def row_chunk(r: sqlite3.Row) -> Chunk:
    return Chunk(r["chunk_id"], r["article_id"], r["title"], r["text"], r["start"], r["end"],
                 r["position"])


def build_faiss(vectors: np.ndarray, index_type: str):
    """Inner-product FAISS index over normalised vectors: exact (flat), HNSW or IVF."""
    import faiss

    n, dim = vectors.shape
    if index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 64
    elif index_type == "ivf" and n >= 40:
        nlist = max(1, min(int(np.sqrt(n)), n // 39))  # FAISS wants ~39 points per centroid
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
        index.nprobe = max(1, nlist // 4)
    else:  # flat, or IVF on a segment too small to train (exact search is then as fast)
        index = faiss.IndexFlatIP(dim)
    if n:
        index.add(vectors)
    return index


def write_segment(folder: Path, data: SegmentData, dim: int, index_type: str) -> None:
    """Write `data` into the empty folder `folder` (the caller renames it into place)."""
    import faiss

    db = sqlite3.connect(folder / META)
    db.executescript(_SCHEMA)
    db.executemany("INSERT INTO files VALUES (?, ?, ?)",
                   [(f, sha, int(done)) for f, (sha, done) in sorted(data.files.items())])
    db.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?)",
                   [(d.doc_id, f, d.path, d.kind, d.title, d.date, d.url, d.source, d.text)
                    for f, d in data.documents])
    db.executemany("INSERT INTO copies VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   [(c.copy_id, c.file) + _article_values(c.article)
                    + (c.signature.astype(np.uint64).tobytes(),) for c in data.copies])
    db.executemany("INSERT INTO bands VALUES (?,?,?)", data.bands)
    db.executemany("INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   [_article_values(a) + (json.dumps(list(m)),) for a, m in data.articles])
    db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?)",
                   [(i, c.chunk_id, c.article_id, c.title, c.text, c.start, c.end, c.position,
                     data.tokens[i]) for i, c in enumerate(data.chunks)])
    db.executescript(_INDEXES)
    db.commit()
    db.close()
    vectors = data.vectors if data.vectors is not None else np.zeros((0, dim), np.float32)
    np.save(folder / VECTORS, vectors.astype(np.float32), allow_pickle=False)
    faiss.write_index(build_faiss(vectors, index_type), str(folder / FAISS))
    TermMatrix.build(t.split(" ") if t else [] for t in data.tokens).save(folder / BM25_DIR)


class SegmentFile:
    """Read access to one segment's meta.sqlite, shared by threads (one connection, a lock)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._db = sqlite3.connect(f"{(self.folder / META).resolve().as_uri()}?mode=ro", uri=True,
                                   check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def query(self, sql: str, args: Sequence = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    def count(self, table: str) -> int:
        return self.query(f"SELECT COUNT(*) FROM {table}")[0][0]

    def chunk(self, row: int) -> Chunk:
        return row_chunk(self.query("SELECT * FROM chunks WHERE row = ?", (row,))[0])

    def chunk_rows(self, article_ids: Iterable[str]) -> list[int]:
        ids = list(article_ids)
        return [r[0] for part in _parts(ids)
                for r in self.query(f"SELECT row FROM chunks WHERE article_id IN ({_marks(part)})", part)]

    def article(self, article_id: str) -> Article | None:
        rows = self.query(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE article_id = ?", (article_id,))
        return row_article(rows[0]) if rows else None

    def article_ids(self) -> list[str]:
        return [r[0] for r in self.query("SELECT article_id FROM articles ORDER BY rowid")]

    def articles(self) -> list[tuple[Article, tuple[str, ...]]]:
        """(canonical article, the copy ids it stands for), in write order."""
        return [(row_article(r), tuple(json.loads(r["members"]))) for r in
                self.query(f"SELECT {_ARTICLE_COLUMNS}, members FROM articles ORDER BY rowid")]

    def members(self) -> list[tuple[str, list[str]]]:
        """(canonical article id, the copy ids it stands for), in write order."""
        return [(r[0], json.loads(r[1])) for r in
                self.query("SELECT article_id, members FROM articles ORDER BY rowid")]

    def copy_files(self) -> list[tuple[str, str]]:
        """(copy id, file) of every copy, in write order."""
        return [(r[0], r[1]) for r in self.query("SELECT copy_id, file FROM copies ORDER BY rowid")]

    def copies(self, copy_ids: Iterable[str] | None = None) -> list[StoredCopy]:
        """The given copies (all when None), in write order."""
        sql = f"SELECT rowid AS n, copy_id, file, {_ARTICLE_COLUMNS}, signature FROM copies"
        if copy_ids is None:
            rows = self.query(sql + " ORDER BY rowid")
        else:
            ids = list(copy_ids)
            rows = sorted((r for part in _parts(ids) for r in self.query(
                f"{sql} WHERE copy_id IN ({_marks(part)})", part)), key=lambda r: r["n"])
        return [StoredCopy(r["copy_id"], row_article(r),
                           np.frombuffer(r["signature"], dtype=np.uint64).copy(), r["file"])
                for r in rows]

    def band_matches(self, band: int, key: int) -> list[str]:
        return [r[0] for r in self.query("SELECT copy_id FROM bands WHERE band = ? AND key = ?",
                                         (band, key))]

    def files(self) -> dict[str, tuple[str, bool]]:
        """file -> (content sha, complete)."""
        return {r[0]: (r[1], bool(r[2])) for r in self.query("SELECT file, sha, complete FROM files")}

    def documents(self) -> list[tuple[str, Document]]:
        return [(r["file"], Document(doc_id=r["doc_id"], path=r["path"], text=r["text"],
                                     kind=r["kind"], title=r["title"], date=r["date"], url=r["url"],
                                     source=r["source"]))
                for r in self.query("SELECT * FROM documents ORDER BY rowid")]

    def chunks_of(self, article_ids: Sequence[str]) -> Iterator[tuple[int, Chunk, str]]:
        """(row, chunk, its BM25 tokens space-separated) of the given articles' chunks, in row order."""
        wanted = set(article_ids)
        for r in self.query("SELECT * FROM chunks ORDER BY row"):
            if r["article_id"] in wanted:
                yield r["row"], row_chunk(r), r["tokens"]


def _parts(ids: list[str], size: int = 500) -> Iterator[list[str]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _marks(part: list) -> str:
    return ",".join("?" * len(part))
