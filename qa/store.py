"""The index folder: a manifest, and generations of SQLite metadata, FAISS vectors and BM25 data.

Layout of an index folder DIR:
  DIR/manifest.json      format version, embedder id and dimension, index type, counts, the
                         current generation; replaced atomically (os.replace) as the last step
  DIR/gen-N/meta.sqlite  files, documents, articles (every copy), canonical chunks
  DIR/gen-N/vectors.faiss, DIR/gen-N/bm25/ (bm25s arrays + JSON, loaded without pickle)
  DIR/gen-N/manifest.json  a copy of the manifest that switched to gen-N (for recovery)
  DIR/.lock, DIR/.lock.pid the writers' lock and its holder (qa/lock.py)
A write builds a complete new generation beside the current one and only then switches the
manifest, so a crash or kill mid-write leaves the previous index fully usable. Writers hold
the index lock; the manifest records each file's size and sha256 (qa/integrity.py).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from qa.embedding_cache import EmbeddingCache  # noqa: F401  (imported from here too)
from qa.errors import EmbedderMismatch, IndexBusyError, IndexStoreError
from qa.integrity import (GEN_MANIFEST, bm25_files_problem, bm25_problem, check_sizes, corrupt,
                          faiss_problem, faiss_reason, file_records, source_folders,
                          vectors_problem)
from qa.types import Article, Chunk, Document, Segment

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
INDEX_TYPES = ("flat", "hnsw", "ivf")


@dataclass(frozen=True)
class Manifest:
    """What an index folder holds; JSON on disk."""

    format_version: int
    embedder_id: str
    dim: int
    index_type: str
    generation: str
    created: str
    updated: str
    counts: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)  # name in the generation -> {"size", "sha256"}
    sources: list = field(default_factory=list)  # folders the files came from (recovery advice)


@dataclass(frozen=True)
class StoredArticle:
    """One article as segmented from one document, with its MinHash signature."""

    article: Article
    signature: np.ndarray
    file: str  # the input file it came from (a JSONL file holds many documents)


@dataclass
class IndexState:
    """Everything a generation holds, in memory; what `write_generation` persists."""

    files: dict[str, str] = field(default_factory=dict)  # file path -> content sha
    documents: list[tuple[str, Document]] = field(default_factory=list)  # (file, document)
    raw_articles: list[StoredArticle] = field(default_factory=list)
    articles: dict[str, Article] = field(default_factory=dict)  # canonical, by id
    chunks: list[Chunk] = field(default_factory=list)  # row i <-> vector i
    vectors: np.ndarray | None = None
    tokens: list[list[str]] = field(default_factory=list)  # BM25 tokens per chunk


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def read_manifest(root: Path) -> Manifest:
    """Read DIR/manifest.json; a missing or unreadable one is an IndexStoreError saying what to do."""
    path = Path(root) / MANIFEST
    if not path.exists():
        raise IndexStoreError(
            f"{root} is not an index (no {MANIFEST}): build one with `qa ingest PATH --index {root}`"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(**data)
    except (ValueError, TypeError) as exc:
        raise IndexStoreError(f"{path}: unreadable manifest ({exc}); rebuild the index") from exc
    if manifest.format_version != FORMAT_VERSION:
        raise IndexStoreError(
            f"{path}: index format {manifest.format_version}, this version reads {FORMAT_VERSION}; "
            "rebuild the index with `qa ingest`"
        )
    return manifest


def generation_number(name: str) -> int:
    """N of "gen-N" (0 for anything else)."""
    number = name[4:] if name.startswith("gen-") else ""
    return int(number) if number.isdigit() else 0


def refuse_orphaned_generations(root: Path) -> None:
    """Refuse to build over a folder that holds generations but no manifest: its index would be
    silently overwritten. Says how to restore the manifest or start again."""
    root = Path(root)
    if (root / MANIFEST).exists() or not root.is_dir():
        return
    gens = sorted((p for p in root.iterdir() if p.is_dir() and generation_number(p.name)),
                  key=lambda p: generation_number(p.name))
    if not gens:
        return
    newest = gens[-1]
    restore = (f"restore the manifest with `cp {newest / GEN_MANIFEST} {root / MANIFEST}` (the "
               f"copy {newest.name} keeps), or " if (newest / GEN_MANIFEST).exists() else "")
    raise IndexStoreError(
        f"{root} holds index generations ({', '.join(p.name for p in gens)}) but no {MANIFEST}: "
        f"refusing to overwrite them. To recover, {restore}move the folder aside "
        f"(`mv {root} {root}.broken`) and ingest its sources again"
    )


def check_embedder(manifest: Manifest, embedder_id: str, dim: int, root: Path) -> None:
    """Refuse an embedder other than the one that built the index."""
    if manifest.embedder_id != embedder_id or manifest.dim != dim:
        raise EmbedderMismatch(
            f"index {root} was built with embedder {manifest.embedder_id!r} (dim {manifest.dim}), "
            f"not {embedder_id!r} (dim {dim}): open it with the same embedder or rebuild it"
        )


_SCHEMA = """
CREATE TABLE files (file TEXT PRIMARY KEY, sha TEXT NOT NULL);
CREATE TABLE documents (doc_id TEXT, file TEXT, path TEXT, kind TEXT, title TEXT, date TEXT,
                        url TEXT, source TEXT, text TEXT);
CREATE TABLE articles (article_id TEXT, doc_id TEXT, path TEXT, title TEXT, text TEXT,
                       segments TEXT, dateline TEXT, byline TEXT, kicker TEXT, date TEXT,
                       kind TEXT, sources TEXT, signature BLOB, canonical INTEGER, file TEXT);
CREATE TABLE chunks (row INTEGER PRIMARY KEY, chunk_id TEXT, article_id TEXT, title TEXT,
                     text TEXT, start INTEGER, "end" INTEGER, position INTEGER, tokens TEXT);
"""


def _article_row(a: Article, sig: np.ndarray | None, canonical: bool, file: str = "") -> tuple:
    segs = json.dumps([[s.start, s.end, s.text_start] for s in a.segments])
    blob = sig.astype(np.uint64).tobytes() if sig is not None else None
    return (a.article_id, a.doc_id, a.path, a.title, a.text, segs, a.dateline, a.byline,
            a.kicker, a.date, a.kind, json.dumps(list(a.sources), ensure_ascii=False), blob,
            int(canonical), file)


def _row_article(r: sqlite3.Row) -> Article:
    return Article(
        article_id=r["article_id"], doc_id=r["doc_id"], path=r["path"], title=r["title"],
        text=r["text"], segments=tuple(Segment(*s) for s in json.loads(r["segments"])),
        dateline=r["dateline"], byline=r["byline"], kicker=r["kicker"], date=r["date"],
        kind=r["kind"], sources=tuple(json.loads(r["sources"])),
    )


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
    else:  # flat, or IVF on a corpus too small to train (exact search is then as fast)
        index = faiss.IndexFlatIP(dim)
    if n:
        index.add(vectors)
    return index


def write_generation(root: Path, state: IndexState, embedder_id: str, dim: int,
                     index_type: str, created: str | None = None, *,
                     base: str | None = None) -> Manifest:
    """Persist `state` as a new generation, then switch the manifest to it atomically.

    The caller holds the index lock (qa.lock.index_lock) and read `state` from generation
    `base` (None: a new index); the switch is refused if the manifest moved on meanwhile."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    old = read_manifest(root) if (root / MANIFEST).exists() else None
    _check_base(root, old, base)
    # Above every generation folder present, so a leftover of a killed write is never reused.
    number = max([generation_number(p.name) for p in root.iterdir()]
                 + [generation_number(old.generation) if old else 0]) + 1
    gen = f"gen-{number}"
    tmp = root / f".{gen}.tmp-{os.getpid()}-{secrets.token_hex(4)}"  # never another writer's
    tmp.mkdir()
    tmp_manifest = root / f".{MANIFEST}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        manifest = _build_generation(tmp, state, embedder_id, dim, index_type, old, created, gen)
        tmp_manifest.write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=2), "utf-8")
        _fsync_file(tmp_manifest)
        # Checked last, just before the switch: still switching from the generation read.
        _check_base(root, read_manifest(root) if (root / MANIFEST).exists() else None, base)
        os.replace(tmp, root / gen)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp_manifest.unlink(missing_ok=True)
        raise
    os.replace(tmp_manifest, root / MANIFEST)  # the switch: atomic on POSIX and Windows
    _fsync_dir(root)
    for stale in root.iterdir():  # old generations and leftovers of killed writes
        if stale.name != gen and (generation_number(stale.name) or ".tmp-" in stale.name):
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(True)
    return manifest


def _check_base(root: Path, current: Manifest | None, base: str | None) -> None:
    now = current.generation if current else None
    if now != base:
        raise IndexBusyError(
            f"index {root} changed while this write ran ({base or 'no index'} -> {now or 'no index'}): "
            "another writer did not take the lock; nothing was written, run the command again"
        )


def _build_generation(tmp: Path, state: IndexState, embedder_id: str, dim: int, index_type: str,
                      old: Manifest | None, created: str | None, gen: str) -> Manifest:
    """Write the generation's files into `tmp` (and its manifest copy); returns its manifest."""
    import faiss

    db = sqlite3.connect(tmp / "meta.sqlite")
    db.executescript(_SCHEMA)
    db.executemany("INSERT INTO files VALUES (?, ?)", sorted(state.files.items()))
    db.executemany(
        "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?)",
        [(d.doc_id, f, d.path, d.kind, d.title, d.date, d.url, d.source, d.text)
         for f, d in state.documents],
    )
    canonical_ids = set(state.articles)
    rows = [_article_row(s.article, s.signature, False, s.file) for s in state.raw_articles]
    rows += [_article_row(a, None, True) for a in state.articles.values()]
    db.executemany("INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.executemany(
        "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?)",
        [(i, c.chunk_id, c.article_id, c.title, c.text, c.start, c.end, c.position,
          " ".join(state.tokens[i])) for i, c in enumerate(state.chunks)],
    )
    db.commit()
    db.close()
    vectors = state.vectors if state.vectors is not None else np.zeros((0, dim), np.float32)
    faiss.write_index(build_faiss(vectors, index_type), str(tmp / "vectors.faiss"))
    np.save(tmp / "vectors.npy", vectors.astype(np.float32), allow_pickle=False)
    if state.chunks:
        from qa.retrieval import build_bm25

        build_bm25(state.tokens).save(str(tmp / "bm25"))
    stamp = now_iso()
    manifest = Manifest(
        format_version=FORMAT_VERSION, embedder_id=embedder_id, dim=dim, index_type=index_type,
        generation=gen, created=(old.created if old else created or stamp), updated=stamp,
        counts={"files": len(state.files), "documents": len(state.documents),
                "articles": len(canonical_ids), "article_copies": len(state.raw_articles),
                "chunks": len(state.chunks)},
        files=file_records(tmp), sources=source_folders(state.files),
    )
    (tmp / GEN_MANIFEST).write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=2),
                                    "utf-8")
    _fsync_tree(tmp)
    return manifest


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # directories cannot be opened on Windows; nothing to sync there
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for dirpath, _, files in os.walk(root):
        for name in files:
            _fsync_file(Path(dirpath) / name)
        _fsync_dir(Path(dirpath))


def read_state(root: Path, manifest: Manifest, full: bool = True) -> IndexState:
    """Load a generation into memory (`full=False` skips documents and article copies).
    Files missing, resized or unreadable raise IndexCorruptError naming the file."""
    check_sizes(root, manifest)
    gen = Path(root) / manifest.generation
    try:
        state = _read_rows(gen, full)
    except (sqlite3.DatabaseError, ValueError) as exc:
        raise corrupt(root, manifest, "meta.sqlite", f"unreadable ({exc})") from exc
    if len(state.chunks) != manifest.counts.get("chunks", len(state.chunks)):
        raise corrupt(root, manifest, "meta.sqlite", f"{len(state.chunks)} chunks, the manifest "
                      f"records {manifest.counts['chunks']}")
    if full:
        try:
            state.vectors = np.load(gen / "vectors.npy", allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise corrupt(root, manifest, "vectors.npy", f"does not load ({exc})") from exc
        if problem := vectors_problem(state.vectors, manifest.dim, len(state.chunks)):
            raise corrupt(root, manifest, "vectors.npy", problem)
    return state


def _read_rows(gen: Path, full: bool) -> IndexState:
    db = sqlite3.connect(f"{(gen / 'meta.sqlite').resolve().as_uri()}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    state = IndexState()
    state.files = {r["file"]: r["sha"] for r in db.execute("SELECT * FROM files")}
    for r in db.execute("SELECT * FROM articles WHERE canonical = 1"):
        state.articles[r["article_id"]] = _row_article(r)
    for r in db.execute("SELECT * FROM chunks ORDER BY row"):
        state.chunks.append(Chunk(r["chunk_id"], r["article_id"], r["title"], r["text"],
                                  r["start"], r["end"], r["position"]))
        state.tokens.append(r["tokens"].split(" ") if r["tokens"] else [])
    if full:
        for r in db.execute("SELECT * FROM documents"):
            state.documents.append((r["file"], Document(
                doc_id=r["doc_id"], path=r["path"], text=r["text"], kind=r["kind"],
                title=r["title"], date=r["date"], url=r["url"], source=r["source"])))
        for r in db.execute("SELECT * FROM articles WHERE canonical = 0"):
            sig = np.frombuffer(r["signature"], dtype=np.uint64).copy()
            state.raw_articles.append(StoredArticle(_row_article(r), sig, r["file"]))
    db.close()
    return state


def load_search_files(root: Path, manifest: Manifest):
    """(faiss index, bm25s retriever or None) of the current generation; what loading shows
    of damage (unreadable, wrong counts, sampled vectors not unit length) is IndexCorruptError."""
    import faiss

    gen = Path(root) / manifest.generation
    count = manifest.counts.get("chunks", 0)
    try:
        index = faiss.read_index(str(gen / "vectors.faiss"))
    except RuntimeError as exc:
        raise corrupt(root, manifest, "vectors.faiss", faiss_reason(exc)) from exc
    if problem := faiss_problem(index, manifest.dim, count):
        raise corrupt(root, manifest, "vectors.faiss", problem)
    bm25 = None
    if count:  # check_sizes has made sure the bm25/ files are there
        import bm25s

        try:
            bm25 = bm25s.BM25.load(str(gen / "bm25"), allow_pickle=False)
        except (OSError, ValueError, EOFError, KeyError, TypeError, AttributeError) as exc:
            name, reason = bm25_files_problem(gen / "bm25", count)  # which file, and why
            raise corrupt(root, manifest, f"bm25/{name}" if name else "bm25",
                          reason or f"BM25 files do not load ({exc})") from exc
        name, reason = bm25_problem(bm25.scores["data"], bm25.scores["indices"],
                                    bm25.scores["indptr"], bm25.scores.get("num_docs"),
                                    bm25.vocab_dict, count)
        if reason:
            raise corrupt(root, manifest, f"bm25/{name}", reason)
    return index, bm25


def size_on_disk(root: Path) -> int:
    """Bytes used by the manifest and the current generation."""
    return sum(p.stat().st_size for p in Path(root).rglob("*") if p.is_file())


def drop_files(state: IndexState, files: Sequence[str]) -> None:
    """Remove the given files' documents and article copies from `state` (in place)."""
    gone = set(files)
    for f in gone:
        state.files.pop(f, None)
    state.documents = [(f, d) for f, d in state.documents if f not in gone]
    state.raw_articles = [s for s in state.raw_articles if s.file not in gone]
