"""The index folder's manifest: what the index holds and which segments make it up.

Layout of an index folder DIR (format 2):
  DIR/manifest.json   format version, embedder id and dimension, index type, counts, the
                      segments in order with their deletions, every file's size and sha256,
                      and the store that searches them (local or Milvus); replaced atomically (os.replace) as the last step of a write
  DIR/seg-N/          one immutable segment (qa/store/segment.py)
  DIR/.lock, DIR/.lock.pid   the writers' lock and its holder (qa/lock.py)
A write adds a segment (and may merge old ones into a new one) beside the current ones and
only then switches the manifest, so a crash or kill mid-write leaves the previous index fully
usable. `generation` counts the switches; a writer checks it is still switching from the
generation it read.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from qa.errors import EmbedderMismatch, IndexBusyError, IndexStoreError

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
INDEX_TYPES = ("flat", "hnsw", "ivf")


@dataclass(frozen=True)
class SegmentEntry:
    """One segment as the manifest lists it: its folder, its chunk rows and what is deleted
    from it since it was written (files whose copies no longer count, superseded articles)."""

    name: str
    chunks: int  # rows in the segment, deleted ones included
    deleted_files: tuple[str, ...] = ()
    deleted_articles: tuple[str, ...] = ()
    deleted_chunks: int = 0  # rows of the deleted articles

    @property
    def live_share(self) -> float:
        return 1.0 - self.deleted_chunks / self.chunks if self.chunks else 1.0


@dataclass(frozen=True)
class StoreConfig:
    """Where an index's chunks are searched: "local" (FAISS and BM25 files in its folder) or
    "milvus" (a collection at `uri`, "" meaning Milvus Lite in DIR/milvus.db; qa/store/backend.py)."""

    backend: str = "local"
    uri: str = ""
    collection: str = ""


@dataclass(frozen=True)
class Manifest:
    """What an index folder holds; JSON on disk."""

    format_version: int
    embedder_id: str
    dim: int
    index_type: str
    generation: str  # "gen-N": the N-th switch of this manifest
    created: str
    updated: str
    counts: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)  # "seg-N/name" -> {"size", "sha256"}
    sources: list = field(default_factory=list)  # folders the files came from (recovery advice)
    segments: tuple[SegmentEntry, ...] = ()
    store: StoreConfig = StoreConfig()  # absent in indexes written before Milvus: local

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def generation_number(name: str) -> int:
    """N of "gen-N" or "seg-N" (0 for anything else)."""
    number = name[4:] if name[:4] in ("gen-", "seg-") else ""
    return int(number) if number.isdigit() else 0


def read_manifest(root: Path) -> Manifest:
    """Read DIR/manifest.json; a missing or unreadable one is an IndexStoreError saying what to do."""
    path = Path(root) / MANIFEST
    if not path.exists():
        raise IndexStoreError(
            f"{root} is not an index (no {MANIFEST}): build one with `qa ingest PATH --index {root}`"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        version = data.get("format_version") if isinstance(data, dict) else None
        if version == FORMAT_VERSION:
            data["segments"] = tuple(
                replace(SegmentEntry(**s), deleted_files=tuple(s.get("deleted_files", ())),
                        deleted_articles=tuple(s.get("deleted_articles", ())))
                for s in data.get("segments", ()))
            data["store"] = StoreConfig(**data.get("store", {}))
            manifest = Manifest(**data)
    except (ValueError, TypeError, AttributeError) as exc:
        raise IndexStoreError(f"{path}: unreadable manifest ({exc}); rebuild the index") from exc
    if version != FORMAT_VERSION:
        raise IndexStoreError(
            f"{path}: index format {version}, this version reads {FORMAT_VERSION}; move the folder "
            f"aside (`mv {root} {root}.old`) and build it again with `qa ingest PATH --index {root}`"
        )
    return manifest


def refuse_orphaned_generations(root: Path) -> None:
    """Refuse to build over a folder that holds segments but no manifest: its index would be
    silently overwritten. Says how to restore the manifest or start again."""
    root = Path(root)
    if (root / MANIFEST).exists() or not root.is_dir():
        return
    found = sorted((p for p in root.iterdir() if p.is_dir() and generation_number(p.name)),
                   key=lambda p: generation_number(p.name))
    if not found:
        return
    copies = [p / MANIFEST for p in found if (p / MANIFEST).exists()]
    restore = (f"restore the manifest with `cp {copies[-1]} {root / MANIFEST}` (the copy the newest "
               "segment keeps), or " if copies else "")
    raise IndexStoreError(
        f"{root} holds index segments ({', '.join(p.name for p in found)}) but no {MANIFEST}: "
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


def check_base(root: Path, base: str | None) -> None:
    """Refuse to switch when the manifest is no longer at generation `base` (None: no index)."""
    now = read_manifest(root).generation if (Path(root) / MANIFEST).exists() else None
    if now != base:
        raise IndexBusyError(
            f"index {root} changed while this write ran ({base or 'no index'} -> {now or 'no index'}): "
            "another writer did not take the lock; nothing was written, run the command again"
        )


def fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # directories cannot be opened on Windows; nothing to sync there
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    for dirpath, _, files in os.walk(root):
        for name in files:
            fsync_file(Path(dirpath) / name)
        fsync_dir(Path(dirpath))


def size_on_disk(root: Path) -> int:
    """Bytes used by the index folder."""
    return sum(p.stat().st_size for p in Path(root).rglob("*") if p.is_file())
