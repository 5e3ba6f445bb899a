"""Building and updating an index: files -> Documents -> Articles -> canonical Articles -> Chunks.

Incremental: a file whose documents are unchanged (same content hashes) adds nothing; a
changed file replaces its old documents; `remove_paths` drops files. Canonical articles,
chunks, vectors and BM25 are re-derived from every stored article copy on each write, with
vectors taken from the embedding cache, so nothing is embedded twice. Every write holds the
index lock (qa/lock.py) from reading the current generation to switching the manifest.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from qa.chunking import ChunkConfig, chunk_article
from qa.dedup import DEFAULT_THRESHOLD, merge_duplicates, signature
from qa.errors import ConfigError, InputError
from qa.lock import Wait, index_lock
from qa.retrieval import bm25_tokens
from qa.store import (INDEX_TYPES, MANIFEST, EmbeddingCache, IndexState, StoredArticle,
                      drop_files, read_manifest, read_state, check_embedder,
                      refuse_orphaned_generations, write_generation)
from qa.text import content_hash
from qa.types import Document

Progress = Callable[[int, int], None]  # (done, total) of chunks embedded


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


def embed_chunks(texts: Sequence[str], embedder, cache: EmbeddingCache,
                 progress: Progress | None = None, batch: int = 32) -> tuple[np.ndarray, int]:
    """Vectors for `texts` (cache first, then the embedder in batches); returns (vectors, embedded)."""
    hashes = [content_hash(t) for t in texts]
    found = cache.get_many(embedder.id, hashes, embedder.dim)
    todo = sorted({h: i for i, h in enumerate(hashes) if h not in found}.items(), key=lambda t: t[1])
    total = len(todo)
    if progress:
        progress(0, total)
    for start in range(0, total, batch):
        part = todo[start : start + batch]
        vecs = embedder.encode_passages([texts[i] for _, i in part])
        new = {h: v for (h, _), v in zip(part, vecs)}
        cache.put_many(embedder.id, new)  # committed per batch: a killed run keeps its work
        found.update(new)
        if progress:
            progress(min(start + batch, total), total)
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for i, h in enumerate(hashes):
        out[i] = found[h]
    return out, total


def open_state(index_dir: Path, embedder) -> tuple[IndexState, str | None, str, str | None]:
    """The stored state (empty for a new folder), its creation time, index type and generation.
    A folder with generations but no manifest is refused, never overwritten."""
    if not (Path(index_dir) / MANIFEST).exists():
        refuse_orphaned_generations(index_dir)
        return IndexState(), None, "flat", None
    manifest = read_manifest(index_dir)
    check_embedder(manifest, embedder.id, embedder.dim, index_dir)
    return (read_state(index_dir, manifest), manifest.created, manifest.index_type,
            manifest.generation)


def rebuild(state: IndexState, embedder, cache: EmbeddingCache, chunk_config: ChunkConfig,
            threshold: float, progress: Progress | None) -> tuple[int, int]:
    """Re-derive canonical articles, chunks, tokens and vectors; returns (merged, embedded)."""
    result = merge_duplicates([s.article for s in state.raw_articles],
                              [s.signature for s in state.raw_articles], threshold)
    state.articles = {a.article_id: a for a in result.articles}
    state.chunks = [c for a in result.articles for c in chunk_article(a, chunk_config)]
    state.tokens = [bm25_tokens(f"{c.title}\n{c.text}") for c in state.chunks]
    # The title is embedded with the text: it often names what the body only implies.
    texts = [f"{c.title}\n{c.text}" if c.title else c.text for c in state.chunks]
    state.vectors, embedded = embed_chunks(texts, embedder, cache, progress)
    return len(result.merged), embedded


def ingest(paths: Iterable[str | Path], index_dir: str | Path, embedder, *,
           cache: EmbeddingCache | None = None, chunk_config: ChunkConfig = ChunkConfig(),
           index_type: str | None = None, threshold: float = DEFAULT_THRESHOLD,
           progress: Progress | None = None, wait: Wait = False) -> IngestReport:
    """Add files (or folders) to the index at `index_dir`, creating it if needed.

    `wait`: what to do when another process is writing the index (qa.lock.WAIT_DOC)."""
    from qa.loading import load_paths
    from qa.segment import segment_page

    t0 = time.perf_counter()
    _check_index_type(index_type)
    with index_lock(index_dir, wait):  # taken first, so a busy index is refused at once
        loaded = load_paths(paths)
        skipped = list(loaded.skipped)
        by_file: dict[str, list[tuple[Document, list]]] = {}
        for doc in loaded.documents:
            try:
                articles = segment_page(doc)
            except Exception as exc:  # never lose the rest of the run over one document
                skipped.append(InputError(doc.path, f"could not split into articles: {exc}"))
                continue
            if not articles:  # e.g. a few characters without a sentence read as a lone title
                skipped.append(InputError(doc.path, f"no article found in its {len(doc.text.strip())} "
                                                    "characters; give the article's full sentences"))
                continue
            by_file.setdefault(file_of(doc), []).append((doc, articles))
        return _ingest_locked(by_file, Path(index_dir), embedder, cache or EmbeddingCache(),
                              chunk_config, index_type, threshold, progress, skipped, t0)


def ingest_articles(by_file: dict[str, list[tuple[Document, list]]], index_dir: str | Path,
                    embedder, *, cache: EmbeddingCache | None = None,
                    chunk_config: ChunkConfig = ChunkConfig(), index_type: str | None = None,
                    threshold: float = DEFAULT_THRESHOLD, progress: Progress | None = None,
                    skipped: Sequence[InputError] = (), started: float | None = None,
                    wait: Wait = False) -> IngestReport:
    """Add already segmented documents, grouped by input file, to the index at `index_dir`."""
    t0 = started if started is not None else time.perf_counter()
    _check_index_type(index_type)
    with index_lock(index_dir, wait):
        return _ingest_locked(by_file, Path(index_dir), embedder, cache or EmbeddingCache(),
                              chunk_config, index_type, threshold, progress, skipped, t0)


def _check_index_type(index_type: str | None) -> None:
    if index_type is not None and index_type not in INDEX_TYPES:
        raise ConfigError(f"index type {index_type!r}: use one of {', '.join(INDEX_TYPES)}")


def _ingest_locked(by_file, index_dir: Path, embedder, cache: EmbeddingCache,
                   chunk_config: ChunkConfig, index_type: str | None, threshold: float,
                   progress: Progress | None, skipped: Sequence[InputError],
                   t0: float) -> IngestReport:
    state, created, stored_type, base = open_state(index_dir, embedder)
    added = unchanged = replaced = found = 0
    for file, items in by_file.items():
        sha = content_hash(*sorted(d.doc_id for d, _ in items))
        if state.files.get(file) == sha:
            unchanged += len(items)
            continue
        if file in state.files:
            replaced += sum(1 for f, _ in state.documents if f == file)
            drop_files(state, [file])
        state.files[file] = sha
        for doc, articles in items:
            state.documents.append((file, doc))
            state.raw_articles.extend(StoredArticle(a, signature(a.text), file) for a in articles)
            found += len(articles)
            added += 1
    merged, embedded = 0, 0
    if added or replaced or index_type not in (None, stored_type) or created is None:
        merged, embedded = rebuild(state, embedder, cache, chunk_config, threshold, progress)
        write_generation(index_dir, state, embedder.id, embedder.dim,
                         index_type or stored_type, created, base=base)
    else:
        merged = len(state.raw_articles) - len(state.articles)
    return IngestReport(
        files=len(by_file), documents_added=added, documents_unchanged=unchanged,
        documents_replaced=replaced, articles=len(state.articles), articles_found=found,
        duplicates_merged=merged, chunks=len(state.chunks), embedded=embedded,
        skipped=tuple(skipped), seconds=time.perf_counter() - t0,
    )


def remove_paths(paths: Iterable[str | Path], index_dir: str | Path, embedder, *,
                 cache: EmbeddingCache | None = None,
                 chunk_config: ChunkConfig = ChunkConfig(), wait: Wait = False) -> list[str]:
    """Drop the given files (or every file under given folders) from the index; returns them.

    `wait`: what to do when another process is writing the index (qa.lock.WAIT_DOC)."""
    index_dir = Path(index_dir)
    read_manifest(index_dir)  # not an index: say so, and do not create the folder for the lock
    with index_lock(index_dir, wait):
        state, created, stored_type, base = open_state(index_dir, embedder)
        # Files are stored under the path given (new) or its link target (older indexes).
        wanted = sorted({form for p in paths for form in (os.path.abspath(p), str(Path(p).resolve()))})
        gone = [f for f in state.files
                if any(f == w or f.startswith(w.rstrip("/") + "/") for w in wanted)]
        if gone:
            drop_files(state, gone)
            rebuild(state, embedder, cache or EmbeddingCache(), chunk_config, DEFAULT_THRESHOLD,
                    None)
            write_generation(index_dir, state, embedder.id, embedder.dim, stored_type, created,
                             base=base)
    return gone
