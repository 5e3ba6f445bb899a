"""One segment of an index: an immutable folder written once, read by many.

  seg-N/meta.sqlite   files, documents, article copies (with MinHash signatures and their LSH
                      band keys), canonical articles (with the copies they stand for), chunks
                      (with their BM25 tokens)
  seg-N/vectors.npy, seg-N/vectors.faiss   one unit vector per chunk row (no vectors.faiss in
                      a Milvus-backed index: its mirror searches them)
  seg-N/bm25/         the chunks' term counts (qa/store/bm25.py)
  seg-N/manifest.json the index manifest as of the newest write (recovery copy, unchecked)
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from qa.store.bm25 import TermMatrix
from qa.types import Article, Chunk, Document, Segment

META, VECTORS, FAISS, BM25_DIR = "meta.sqlite", "vectors.npy", "vectors.faiss", "bm25"
BATCH_ROWS = 2000  # rows read at a time when a whole table is read (merges, listings)

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
    """What one segment holds (or one batch of it), in memory; what `SegmentBuilder.append` writes."""

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


class SegmentBuilder:
    """Writes one segment in batches (`append`, then `finish`), so that a large segment (a
    merge) never needs its rows, tokens or vectors in memory at once: rows go to SQLite as
    they come, vectors to a raw file; the search files are built from those at the end."""

    BLOCK = 65536  # vectors handled at a time when finishing

    def __init__(self, folder: Path, dim: int):
        self.folder, self.dim, self.rows = Path(folder), dim, 0
        self._db = sqlite3.connect(self.folder / META)
        self._db.executescript(_SCHEMA)
        self._raw_path = self.folder / "vectors.f32.tmp"
        self._raw = open(self._raw_path, "wb")

    def append(self, data: SegmentData) -> None:
        """Add a batch: its chunk rows follow the rows appended before."""
        db = self._db
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
                       [(self.rows + i, c.chunk_id, c.article_id, c.title, c.text, c.start, c.end,
                         c.position, data.tokens[i]) for i, c in enumerate(data.chunks)])
        if data.chunks:
            vectors = np.ascontiguousarray(data.vectors, dtype=np.float32)
            if vectors.shape != (len(data.chunks), self.dim):
                raise ValueError(f"{vectors.shape} vectors for {len(data.chunks)} chunks of dim {self.dim}")
            self._raw.write(vectors.tobytes())
        self.rows += len(data.chunks)

    def finish(self, index_type: str | None) -> None:
        """Index the SQLite tables and write vectors.npy, vectors.faiss and bm25/ (no
        vectors.faiss when `index_type` is None: a Milvus-backed index searches its mirror)."""
        self._db.executescript(_INDEXES)
        self._db.commit()
        self._raw.close()
        with open(self.folder / VECTORS, "wb") as out, open(self._raw_path, "rb") as raw:
            np.lib.format.write_array_header_1_0(out, {"descr": np.dtype(np.float32).str,
                                                      "fortran_order": False, "shape": (self.rows, self.dim)})
            shutil.copyfileobj(raw, out, 1 << 22)
        if index_type is not None:
            self._write_faiss(index_type)
        self._raw_path.unlink()
        tokens = self._db.execute("SELECT tokens FROM chunks ORDER BY row")  # a cursor: streamed
        TermMatrix.build(t.split(" ") if t else [] for (t,) in tokens).save(self.folder / BM25_DIR)
        self._db.close()

    def _write_faiss(self, index_type: str) -> None:
        import faiss

        if index_type == "ivf":  # IVF trains on all vectors: they are read whole
            index = build_faiss(np.fromfile(self._raw_path, dtype=np.float32).reshape(-1, self.dim), index_type)
        else:  # flat and HNSW take vectors block by block
            index = build_faiss(np.zeros((0, self.dim), np.float32), index_type)
            with open(self._raw_path, "rb") as raw:
                while block := raw.read(self.BLOCK * self.dim * 4):
                    index.add(np.frombuffer(block, dtype=np.float32).reshape(-1, self.dim))
        faiss.write_index(index, str(self.folder / FAISS))


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

    def batches(self, select: str, size: int = BATCH_ROWS) -> Iterator[list[sqlite3.Row]]:
        """The rows of `select` ("SELECT rowid AS n, ... FROM table") in write order, `size` at a time."""
        last = 0
        while rows := self.query(f"{select} WHERE rowid > ? ORDER BY rowid LIMIT ?", (last, size)):
            yield rows
            last = rows[-1]["n"]

    def article_batches(self) -> Iterator[list[tuple[Article, tuple[str, ...]]]]:
        """(canonical article, the copy ids it stands for), in write order, a batch at a time."""
        for rows in self.batches(f"SELECT rowid AS n, {_ARTICLE_COLUMNS}, members FROM articles"):
            yield [(row_article(r), tuple(json.loads(r["members"]))) for r in rows]

    def copy_batches(self) -> Iterator[list[StoredCopy]]:
        """Every article copy, in write order, a batch at a time."""
        for rows in self.batches(f"SELECT rowid AS n, copy_id, file, {_ARTICLE_COLUMNS}, signature FROM copies"):
            yield [_row_copy(r) for r in rows]

    def document_batches(self) -> Iterator[list[tuple[str, Document]]]:
        """(file, document) of every document, in write order, a batch at a time."""
        for rows in self.batches("SELECT rowid AS n, * FROM documents"):
            yield [(r["file"], Document(doc_id=r["doc_id"], path=r["path"], text=r["text"], kind=r["kind"],
                                        title=r["title"], date=r["date"], url=r["url"], source=r["source"]))
                   for r in rows]

    def members(self) -> list[tuple[str, list[str]]]:
        """(canonical article id, the copy ids it stands for), in write order."""
        return [(r[0], json.loads(r[1])) for r in
                self.query("SELECT article_id, members FROM articles ORDER BY rowid")]

    def copy_files(self) -> list[tuple[str, str]]:
        """(copy id, file) of every copy, in write order."""
        return [(r[0], r[1]) for r in self.query("SELECT copy_id, file FROM copies ORDER BY rowid")]

    def copies(self, copy_ids: Iterable[str]) -> list[StoredCopy]:
        """The given copies, in write order."""
        sql = f"SELECT rowid AS n, copy_id, file, {_ARTICLE_COLUMNS}, signature FROM copies"
        ids = list(copy_ids)
        rows = sorted((r for part in _parts(ids) for r in self.query(
            f"{sql} WHERE copy_id IN ({_marks(part)})", part)), key=lambda r: r["n"])
        return [_row_copy(r) for r in rows]

    def band_matches(self, band: int, key: int) -> list[str]:
        return [r[0] for r in self.query("SELECT copy_id FROM bands WHERE band = ? AND key = ?",
                                         (band, key))]

    def files(self) -> dict[str, tuple[str, bool]]:
        """file -> (content sha, complete)."""
        return {r[0]: (r[1], bool(r[2])) for r in self.query("SELECT file, sha, complete FROM files")}

    def chunks_of(self, article_ids: Sequence[str]) -> list[tuple[int, Chunk, str]]:
        """(row, chunk, its BM25 tokens space-separated) of the given articles' chunks, in row order."""
        ids = list(article_ids)
        rows = sorted((r for part in _parts(ids) for r in self.query(
            f"SELECT * FROM chunks WHERE article_id IN ({_marks(part)})", part)), key=lambda r: r["row"])
        return [(r["row"], row_chunk(r), r["tokens"]) for r in rows]


def _row_copy(r: sqlite3.Row) -> StoredCopy:
    return StoredCopy(r["copy_id"], row_article(r), np.frombuffer(r["signature"], dtype=np.uint64).copy(),
                      r["file"])


def _parts(ids: list[str], size: int = 500) -> Iterator[list[str]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _marks(part: list) -> str:
    return ",".join("?" * len(part))
