"""Building and updating an index: files -> Documents -> Articles -> canonical Articles -> Chunks.

Incremental: a file stored whole with the same bytes adds nothing; a changed file replaces
its old documents; `remove_paths` drops files. Each write adds one
segment holding only what it changes (qa/store/writer.py), with vectors taken from the
embedding cache, so nothing is embedded twice and a small file costs what it holds, not what
the index holds. Every write holds the index lock (qa/lock.py) from reading the manifest to
switching it.
"""
from __future__ import annotations

import hashlib
import itertools
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from qa.chunking import ChunkConfig
from qa.dedup import DEFAULT_THRESHOLD
from qa.errors import ConfigError, InputError
from qa.lock import Wait, index_lock
from qa.store import INDEX_TYPES, EmbeddingCache, IndexWriter, read_manifest
from qa.store.backend import parse_store
from qa.store.manifest import StoreConfig
from qa.store.writer import Progress
from qa.text import content_hash
from qa.types import Document

BATCH_CHARS = 2_000_000  # text stored before a segment is written: bounds an ingest's memory


@dataclass(frozen=True)
class IngestReport:
    """What one ingest did; `skipped` holds one InputError per input that was not read."""

    files: int
    documents_added: int
    documents_unchanged: int
    documents_replaced: int
    articles: int  # canonical articles in the index after the ingest
    articles_found: int  # article copies found in the files of this ingest
    duplicates_merged: int  # copies merged into another article, over the whole index
    chunks: int
    embedded: int  # chunks embedded now (not found in the cache)
    skipped: tuple[InputError, ...]
    seconds: float


def file_of(doc: Document) -> str:
    """The absolute path of the input file a document came from (a JSONL record's is FILE:LINE).

    Links are not followed: a linked file is stored under the path the user gave, so removing
    that path (or its folder) removes it."""
    path = doc.path.rsplit(":", 1)[0] if doc.kind == "jsonl" and ":" in doc.path else doc.path
    return os.path.abspath(path)


def ingest(paths: Iterable[str | Path], index_dir: str | Path, embedder, *,
           cache: EmbeddingCache | None = None, chunk_config: ChunkConfig = ChunkConfig(),
           index_type: str | None = None, threshold: float = DEFAULT_THRESHOLD,
           progress: Progress | None = None, wait: Wait = False, store: str | None = None) -> IngestReport:
    """Add files (or folders) to the index at `index_dir`, creating it if needed.

    Files are read one at a time (a large one in pieces) and written every BATCH_CHARS of
    text, so memory does not grow with the input. `wait`: what to do when another process is
    writing the index (qa.lock.WAIT_DOC); `store`: where its chunks are searched
    (qa.store.backend.STORE_DOC; None: as the index records, local for a new one)."""
    from qa.loading import iter_documents

    t0 = time.perf_counter()
    _check_index_type(index_type)
    wanted = parse_store(store, index_dir)
    with index_lock(index_dir, wait):  # taken first, so a busy index is refused at once
        skipped: list[InputError] = []
        unsplit: list[InputError] = []
        files = ((file, file_digest(file), _segmented(docs, unsplit))
                 for file, docs in itertools.groupby(iter_documents(paths, skipped), key=file_of))
        report = _ingest_locked(files, Path(index_dir), embedder, cache or EmbeddingCache(),
                                chunk_config, index_type, threshold, progress, skipped, t0, wanted)
    return replace(report, skipped=report.skipped + tuple(unsplit))


def ingest_articles(by_file: dict[str, list[tuple[Document, list]]], index_dir: str | Path,
                    embedder, *, cache: EmbeddingCache | None = None,
                    chunk_config: ChunkConfig = ChunkConfig(), index_type: str | None = None,
                    threshold: float = DEFAULT_THRESHOLD, progress: Progress | None = None,
                    skipped: Sequence[InputError] = (), started: float | None = None,
                    wait: Wait = False, store: str | None = None) -> IngestReport:
    """Add already segmented documents, grouped by input file, to the index at `index_dir`."""
    t0 = started if started is not None else time.perf_counter()
    _check_index_type(index_type)
    wanted = parse_store(store, index_dir)
    files = ((file, content_hash(*sorted(d.doc_id for d, _ in items)), iter(items))
             for file, items in by_file.items())
    with index_lock(index_dir, wait):
        return _ingest_locked(files, Path(index_dir), embedder, cache or EmbeddingCache(),
                              chunk_config, index_type, threshold, progress, list(skipped), t0, wanted)


def file_digest(file: str) -> str:
    """sha256 of a file's bytes (read in blocks): what says a file is unchanged; "" (never
    unchanged) when it cannot be read again."""
    h = hashlib.sha256()
    try:
        with open(file, "rb") as f:
            while block := f.read(1 << 20):
                h.update(block)
    except OSError:  # gone or unreadable since it was loaded: store what was read
        return ""
    return h.hexdigest()


def _segmented(docs: Iterable[Document], skipped: list[InputError]) -> Iterator[tuple[Document, list]]:
    """(document, its articles) for each document that splits into articles; others skipped."""
    from qa.segment import segment_page

    for doc in docs:
        try:
            articles = segment_page(doc)
        except Exception as exc:  # never lose the rest of the run over one document
            skipped.append(InputError(doc.path, f"could not split into articles: {exc}"))
            continue
        if not articles:  # e.g. a few characters without a sentence read as a lone title
            skipped.append(InputError(doc.path, f"no article found in its {len(doc.text.strip())} "
                                                "characters; give the article's full sentences"))
            continue
        yield doc, articles


def _check_index_type(index_type: str | None) -> None:
    if index_type is not None and index_type not in INDEX_TYPES:
        raise ConfigError(f"index type {index_type!r}: use one of {', '.join(INDEX_TYPES)}")


def _ingest_locked(files: Iterable[tuple[str, str, Iterator[tuple[Document, list]]]], index_dir: Path,
                   embedder, cache: EmbeddingCache, chunk_config: ChunkConfig,
                   index_type: str | None, threshold: float, progress: Progress | None,
                   skipped: list[InputError], t0: float, store: StoreConfig | None = None) -> IngestReport:
    """Store (file, content sha, its documents and articles) in order, writing a segment every
    BATCH_CHARS of text; a file whose reading fails part way is not kept in part."""
    writer = IndexWriter(index_dir, embedder, cache, chunk_config, threshold, index_type, store)
    n_files = added = unchanged = replaced = found = embedded = 0
    try:
        writer.reconcile_mirror()  # a write killed after its switch left Milvus behind: caught up first
        for file, sha, items in files:
            if writer.unchanged(file, sha):
                kept = sum(1 for _ in items)
                n_files += kept > 0
                unchanged += kept
                continue
            if file in writer.files:
                replaced += writer.document_count(file)
            before = len(skipped)
            stored = False
            for doc, articles in items:
                writer.add(file, sha, [(doc, articles)], continues=stored, complete=False)
                stored = True
                found += len(articles)
                added += 1
                if writer.pending_chars >= BATCH_CHARS:
                    embedded += writer.commit(progress).embedded
                    writer = writer.next_batch()
            if any(e.path == file and e.line is None for e in skipped[before:]):
                writer.remove(file)  # its reading failed after some pieces: keep none of it
            elif stored:
                writer.add(file, sha, [], continues=True, complete=True)
            n_files += stored
        result = writer.commit(progress)
    finally:
        writer.close()
    counts = result.counts
    return IngestReport(
        files=n_files, documents_added=added, documents_unchanged=unchanged,
        documents_replaced=replaced, articles=counts["articles"], articles_found=found,
        duplicates_merged=counts["article_copies"] - counts["articles"], chunks=counts["chunks"],
        embedded=embedded + result.embedded, skipped=tuple(skipped), seconds=time.perf_counter() - t0,
    )


def remove_paths(paths: Iterable[str | Path], index_dir: str | Path, embedder, *,
                 cache: EmbeddingCache | None = None,
                 chunk_config: ChunkConfig = ChunkConfig(), wait: Wait = False,
                 store: str | None = None) -> list[str]:
    """Drop the given files (or every file under given folders) from the index; returns them.

    `wait`: what to do when another process is writing the index (qa.lock.WAIT_DOC)."""
    index_dir = Path(index_dir)
    read_manifest(index_dir)  # not an index: say so, and do not create the folder for the lock
    wanted = parse_store(store, index_dir)
    with index_lock(index_dir, wait):
        writer = IndexWriter(index_dir, embedder, cache or EmbeddingCache(), chunk_config,
                             DEFAULT_THRESHOLD, None, wanted)
        try:
            writer.reconcile_mirror()
            # Files are stored under the path given (new) or its link target (older indexes).
            wanted = sorted({form for p in paths for form in (os.path.abspath(p), str(Path(p).resolve()))})
            gone = [f for f in writer.files
                    if any(f == w or f.startswith(w.rstrip("/") + "/") for w in wanted)]
            for f in gone:
                writer.remove(f)
            writer.commit()
        finally:
            writer.close()
    return gone
