"""One write to an index: files added or removed become one new segment plus deletions.

The new segment holds the new files' documents and article copies, and a canonical article
for every duplicate group the write touches: a group with a removed copy is re-derived from
its surviving copies, a group a new copy joins is re-derived with it; the old canonical
articles of those groups are marked deleted in their segments. Groups are found with the LSH
band keys each segment stores, so a write reads only the copies it may join. The result is
the index a clean build of the same files would give (same groups, same canonical copies).
When there are too many segments, or one is mostly deleted, the newest ones are merged
(qa/store/merge.py). The caller holds the index lock (qa.lock.index_lock).
"""
from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from qa.chunking import ChunkConfig, chunk_article
from qa.dedup import band_keys, band_ranges, canonical, group_duplicates, signature
from qa.embedding_cache import EmbeddingCache, embed_texts
from qa.integrity import file_records, source_folders
from qa.retrieval import bm25_tokens
from qa.store.backend import LOCAL, check_store, open_mirror
from qa.store.manifest import (FORMAT_VERSION, MANIFEST, Manifest, SegmentEntry, StoreConfig, check_base,
                               check_embedder, fsync_dir, fsync_file, fsync_tree, generation_number,
                               now_iso, read_manifest, refuse_orphaned_generations)
from qa.store.merge import live_rows, merge_batches, merge_plan
from qa.store.view import IndexView
from qa.store.segment import SegmentBuilder, SegmentData, SegmentFile, StoredCopy
from qa.text import content_hash
from qa.types import Article, Document

Progress = Callable[[int, int], None]  # (done, total) of chunks embedded


@dataclass(frozen=True)
class StoredFile:
    """A live input file: its content sha, whether all of it is stored, the segments holding it."""

    sha: str
    complete: bool
    segments: tuple[int, ...]


@dataclass(frozen=True)
class WriteResult:
    """Counts of the index after a write, and what the write did."""

    counts: dict
    embedded: int  # chunks embedded now (not found in the cache)
    written: bool  # False when nothing changed and no manifest was switched


class IndexWriter:
    """The current index (or none yet) opened for one write; `commit` writes it."""

    def __init__(self, root: Path, embedder, cache: EmbeddingCache, chunk_config: ChunkConfig,
                 threshold: float, index_type: str | None, store: StoreConfig | None = None,
                 mirror=None):
        """`mirror`: the open MilvusMirror of this index handed on by the previous batch of the
        same write (`next_batch`); otherwise a Milvus-backed index's mirror is opened here."""
        self.root, self.embedder, self.cache = Path(root), embedder, cache
        self.chunk_config, self.threshold, self.ranges = chunk_config, threshold, band_ranges(threshold)
        if (self.root / MANIFEST).exists():
            self.manifest: Manifest | None = read_manifest(self.root)
            check_embedder(self.manifest, embedder.id, embedder.dim, self.root)
            check_store(self.manifest, store, self.root)
        else:
            refuse_orphaned_generations(self.root)
            self.manifest = None
        self.store = self.manifest.store if self.manifest else (store or LOCAL)
        self.stored_type = self.manifest.index_type if self.manifest else "flat"
        self.index_type = index_type or self.stored_type
        # Kept open for the write (a Milvus Lite server is not restarted within it); opened now,
        # so an unreachable or busy Milvus is refused before any work is done. None: local.
        self.mirror = mirror if mirror is not None else \
            open_mirror(self.root, self.store, embedder.dim, self.stored_type)
        self.entries = list(self.manifest.segments) if self.manifest else []
        self.segments = [SegmentFile(self.root / e.name) for e in self.entries]
        self.deleted_files = [set(e.deleted_files) for e in self.entries]
        self.deleted_articles = [set(e.deleted_articles) for e in self.entries]
        self.files: dict[str, StoredFile] = {}  # live files
        for i, seg in enumerate(self.segments):
            for f, (sha, done) in seg.files().items():
                if f not in self.deleted_files[i]:
                    old = self.files.get(f)
                    self.files[f] = StoredFile(sha, done or bool(old and old.complete),
                                               (old.segments if old else ()) + (i,))
        self.new = SegmentData()
        self.removed: set[str] = set()
        self.pending_chars = 0  # text added and not yet written

    def close(self) -> None:
        self._close_segments()
        if self.mirror is not None:
            self.mirror.close()

    def _close_segments(self) -> None:
        for seg in self.segments:
            seg.close()

    # -- what changes --------------------------------------------------------------------
    def unchanged(self, file: str, sha: str) -> bool:
        """Whether the index holds all of `file` with this content sha."""
        stored = self.files.get(file)
        return stored is not None and stored.complete and stored.sha == sha

    def remove(self, file: str) -> None:
        """Delete a live file's documents and article copies."""
        if file in self.new.files:
            self.new.files.pop(file)
            self.new.documents = [(f, d) for f, d in self.new.documents if f != file]
            self.new.copies = [c for c in self.new.copies if c.file != file]
        if file in self.files:
            for i in self.files.pop(file).segments:
                self.deleted_files[i].add(file)
            self.removed.add(file)

    def add(self, file: str, sha: str, items: Sequence[tuple[Document, Sequence[Article]]], *,
            continues: bool = False, complete: bool = True) -> None:
        """Store a file's documents and their articles, replacing the file if it is stored;
        `continues`: more pieces of a file whose first pieces an earlier write of this ingest
        stored; `complete`: the file's last piece is among them."""
        if not continues:
            self.remove(file)
        self.new.files[file] = (sha, complete)
        for doc, articles in items:
            self.pending_chars += len(doc.text)
            self.new.documents.append((file, doc))
            for a in articles:
                copy_id = content_hash(file, a.article_id, str(len(self.new.copies)))
                self.new.copies.append(StoredCopy(copy_id, a, signature(a.text), file))

    def document_count(self, file: str) -> int:
        """Documents the live `file` holds in the index."""
        return sum(self.segments[i].query("SELECT COUNT(*) FROM documents WHERE file = ?", (file,))[0][0]
                   for i in self.files[file].segments)

    @property
    def changed(self) -> bool:
        return bool(self.new.files or self.removed or self.manifest is None
                    or self.index_type != self.stored_type)

    # -- the write -----------------------------------------------------------------------
    def commit(self, progress: Progress | None = None) -> WriteResult:
        """Write the new segment (and any merge) and switch the manifest; returns the counts."""
        if not self.changed:
            return WriteResult(self.counts(), 0, False)
        embedded = self._derive_articles(progress)
        names = iter(self._new_names())
        written: list[tuple[str, Path]] = []
        try:
            if self.new.files or self.new.articles or self.new.copies:
                name = next(names)
                written.append((name, self._write_tmp(name, [self.new])[0]))
                self.entries.append(SegmentEntry(name, len(self.new.chunks)))
                self.deleted_files.append(set())
                self.deleted_articles.append(set())
                self.segments.append(SegmentFile(written[-1][1]))
            self._refresh_deletions()
            # Another index type rebuilds every segment's vectors: all are merged into one.
            start = 0 if self.index_type != self.stored_type else merge_plan(self.entries)
            if start is not None:
                name = next(names)
                batches = merge_batches(self.segments[start:], self.deleted_files[start:],
                                        self.deleted_articles[start:], self.ranges)
                tmp, rows = self._write_tmp(name, batches)
                written.append((name, tmp))
                for seg in self.segments[start:]:
                    seg.close()
                self.entries[start:] = [SegmentEntry(name, rows)]
                self.segments[start:] = [SegmentFile(written[-1][1])]
                self.deleted_files[start:], self.deleted_articles[start:] = [set()], [set()]
            manifest = self._manifest(dict(written))
            self._switch(manifest, written)
        except BaseException:
            for _, tmp in written:
                shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            self._close_segments()
        self.reconcile_mirror(always=True)  # the caller closes the mirror (or hands it on)
        return WriteResult(manifest.counts, embedded, True)

    def next_batch(self) -> "IndexWriter":
        """A writer for the next batch of the same write, on the manifest just switched; it takes
        over this writer's open mirror, so Milvus Lite is not restarted and reloaded per batch."""
        mirror, self.mirror = self.mirror, None
        try:
            return IndexWriter(self.root, self.embedder, self.cache, self.chunk_config, self.threshold,
                               self.index_type, self.store, mirror=mirror)
        except BaseException:
            if mirror is not None:
                mirror.close()
            raise

    def reconcile_mirror(self, always: bool = False) -> None:
        """Make a Milvus-backed index's mirror hold the current manifest's live chunks: after
        each switch (`always`), and before a write when a killed one left it out of step (checked
        from the manifest alone: the index is opened only when there is something to do)."""
        if self.mirror is None or not (self.root / MANIFEST).exists():
            return
        manifest = read_manifest(self.root)
        if not always and self.mirror.in_step(manifest):
            return
        # Through the writer's own connection: a second client of a Milvus Lite server that has
        # just taken a large upload can fail to connect (seen at 20k chunks).
        view = IndexView(self.root, manifest, mirror=self.mirror)
        try:
            self.mirror.reconcile(view)
        finally:
            view.close()

    def _derive_articles(self, progress: Progress | None) -> int:
        """Canonical articles of every group the write touches, chunked and embedded."""
        copy_home: dict[str, tuple[int, int, str]] = {}  # copy id -> (segment, order, file)
        for i, seg in enumerate(self.segments):
            for k, (copy_id, file) in enumerate(seg.copy_files()):
                copy_home[copy_id] = (i, k, file)
        group_of: dict[str, tuple[int, str]] = {}  # live copy id -> its canonical (segment, id)
        members: dict[tuple[int, str], list[str]] = {}
        for i, seg in enumerate(self.segments):
            for article_id, copy_ids in seg.members():
                if article_id not in self.deleted_articles[i]:
                    members[(i, article_id)] = copy_ids
                    group_of.update((c, (i, article_id)) for c in copy_ids)

        def live(copy_id: str) -> bool:
            i, _, file = copy_home[copy_id]
            return file not in self.deleted_files[i]

        touched: set[tuple[int, str]] = {group_of[c] for c, (i, _, f) in copy_home.items()
                                         if f in self.deleted_files[i] and c in group_of}
        for copy in self.new.copies:
            for band, key in enumerate(band_keys(copy.signature, self.ranges)):
                self.new.bands.append((band, key, copy.copy_id))
                for seg in self.segments:
                    touched.update(group_of[c] for c in seg.band_matches(band, key)
                                   if c in group_of and live(c))
        for i, article_id in touched:
            self.deleted_articles[i].add(article_id)
        kept = sorted({c for g in touched for c in members[g] if live(c)}, key=lambda c: copy_home[c][:2])
        by_segment: dict[int, list[str]] = {}
        for c in kept:
            by_segment.setdefault(copy_home[c][0], []).append(c)
        old = [copy for i in sorted(by_segment) for copy in self.segments[i].copies(by_segment[i])]
        pool = old + self.new.copies
        for group in group_duplicates([c.signature for c in pool], self.threshold, self.ranges):
            self.new.articles.append((canonical([pool[m].article for m in group]),
                                      tuple(pool[m].copy_id for m in group)))
        self.new.chunks = [c for a, _ in self.new.articles for c in chunk_article(a, self.chunk_config)]
        self.new.tokens = [" ".join(bm25_tokens(f"{c.title}\n{c.text}")) for c in self.new.chunks]
        # The title is embedded with the text: it often names what the body only implies.
        texts = [f"{c.title}\n{c.text}" if c.title else c.text for c in self.new.chunks]
        self.new.vectors, embedded = embed_texts(texts, self.embedder, self.cache, progress)
        return embedded

    def _refresh_deletions(self) -> None:
        for i, (entry, seg) in enumerate(zip(self.entries, self.segments)):
            files, articles = self.deleted_files[i], self.deleted_articles[i]
            if set(entry.deleted_files) != files or set(entry.deleted_articles) != articles:
                self.entries[i] = replace(entry, deleted_files=tuple(sorted(files)),
                                          deleted_articles=tuple(sorted(articles)),
                                          deleted_chunks=len(seg.chunk_rows(articles)))

    def counts(self) -> dict:
        """Live files, documents, canonical articles, article copies and chunks."""
        counts = {"files": len(self.files), "documents": 0, "articles": 0, "article_copies": 0,
                  "chunks": 0}
        for i, seg in enumerate(self.segments):
            gone = self.deleted_files[i]
            counts["documents"] += sum(n for f, n in seg.query(
                "SELECT file, COUNT(*) FROM documents GROUP BY file") if f not in gone)
            counts["article_copies"] += sum(n for f, n in seg.query(
                "SELECT file, COUNT(*) FROM copies GROUP BY file") if f not in gone)
            counts["articles"] += seg.count("articles") - len(self.deleted_articles[i])
            counts["chunks"] += live_rows(self.entries[i])
        return counts

    # -- files ---------------------------------------------------------------------------
    def _new_names(self) -> list[str]:
        # Above every folder present, so a leftover of a killed write is never reused.
        top = max([generation_number(p.name) for p in self.root.iterdir()] if self.root.is_dir() else [0])
        top = max([top] + [generation_number(e.name) for e in self.entries])
        return [f"seg-{top + 1}", f"seg-{top + 2}"]

    def _write_tmp(self, name: str, batches: Iterable[SegmentData]) -> tuple[Path, int]:
        """A segment written from `batches` into a new temporary folder; (folder, chunk rows)."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"  # never another writer's
        tmp.mkdir()
        try:
            builder = SegmentBuilder(tmp, self.embedder.dim)
            for data in batches:
                builder.append(data)
            builder.finish(self.index_type if self.store.backend == "local" else None)
            fsync_tree(tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return tmp, builder.rows

    def _manifest(self, written: dict[str, Path]) -> Manifest:
        old = self.manifest
        files: dict[str, dict] = {}
        for entry in self.entries:
            if entry.name in written:
                files.update({f"{entry.name}/{n}": r for n, r in file_records(written[entry.name]).items()})
            else:
                files.update({n: r for n, r in old.files.items() if n.startswith(entry.name + "/")})
        for f, (sha, done) in self.new.files.items():
            before = self.files.get(f)
            self.files[f] = StoredFile(sha, done, (before.segments if before else ()) + (len(self.entries) - 1,))
        self.new.files = {}
        stamp = now_iso()
        return Manifest(
            format_version=FORMAT_VERSION, embedder_id=self.embedder.id, dim=self.embedder.dim,
            index_type=self.index_type,
            generation=f"gen-{generation_number(old.generation) + 1 if old else 1}",
            created=old.created if old else stamp, updated=stamp, counts=self.counts(), files=files,
            sources=source_folders(self.files), segments=tuple(self.entries), store=self.store)

    def _switch(self, manifest: Manifest, written: list[tuple[str, Path]]) -> None:
        base = self.manifest.generation if self.manifest else None
        tag = f"{os.getpid()}-{secrets.token_hex(4)}"
        tmp_manifest = self.root / f".{MANIFEST}.tmp-{tag}"
        tmp_manifest.write_text(manifest.to_json(), "utf-8")
        fsync_file(tmp_manifest)
        try:
            # Checked last, just before the switch: still switching from the generation read.
            check_base(self.root, base)
        except BaseException:
            tmp_manifest.unlink(missing_ok=True)
            raise
        for name, tmp in written:
            os.replace(tmp, self.root / name)
        if manifest.segments:  # a recovery copy beside the newest segment (not checksummed)
            copy = self.root / manifest.segments[-1].name / f".{MANIFEST}.tmp-{tag}"
            copy.write_text(manifest.to_json(), "utf-8")
            os.replace(copy, copy.with_name(MANIFEST))
        os.replace(tmp_manifest, self.root / MANIFEST)  # the switch: atomic on POSIX and Windows
        fsync_dir(self.root)
        keep = {e.name for e in manifest.segments}
        for stale in self.root.iterdir():  # merged segments, old formats, leftovers of killed writes
            if (generation_number(stale.name) and stale.name not in keep) or ".tmp-" in stale.name:
                shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(True)
