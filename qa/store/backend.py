"""Which engine searches an index's chunks: the local files (FAISS + BM25) or a Milvus mirror.

The folder always holds the segments (articles, chunks, vectors, term counts in SQLite and
.npy files): they are the source of truth, and merges, dedup and the embedding cache work from
them the same way for both backends. With `--store milvus[:PATH_OR_URI]` the dense and BM25
searches run in a Milvus collection kept equal to the manifest's live chunks
(qa/store/milvus.py), and the segments carry no FAISS file. The manifest records the backend;
opening or writing the index with another one is refused.
"""
from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from qa.errors import ConfigError, IndexBusyError
from qa.store.manifest import Manifest, StoreConfig, read_manifest

STORE_DOC = ("local (default: FAISS + BM25 files in the index folder), milvus (Milvus Lite inside the "
             "index folder), milvus:PATH (Milvus Lite at PATH) or milvus:http://HOST:19530 (a Milvus server)")
LITE_FILE = "milvus.db"  # Milvus Lite's data folder inside the index folder, for a bare "milvus"
LOCAL = StoreConfig()


def is_lite(uri: str) -> bool:
    """Whether a Milvus uri is a Milvus Lite path (run inside the process) rather than a server;
    "" is the Lite file inside the index folder."""
    return "://" not in uri


def parse_store(spec: str | None, root: str | Path) -> StoreConfig | None:
    """The store a `--store` value asks for (None: whatever the index records, local when new)."""
    if spec is None:
        return None
    text = str(spec).strip()
    backend, _, uri = text.partition(":")
    if backend == "local" and not uri:
        return LOCAL
    if backend != "milvus":
        raise ConfigError(f"store {spec!r}: use {STORE_DOC}")
    uri = uri.strip()
    if uri and is_lite(uri):  # a Milvus Lite path: recorded absolute, so any folder can open it
        if not uri.endswith(".db"):
            raise ConfigError(f"store {spec!r}: a Milvus Lite path ends in .db (milvus:{uri}.db), and a "
                              "server is given as milvus:http://HOST:19530")
        uri = os.path.abspath(os.path.expanduser(uri))
    # One collection per index folder; a server (or one Lite file) can hold many indexes.
    digest = hashlib.sha1(os.path.abspath(root).encode("utf-8")).hexdigest()[:16]
    return StoreConfig("milvus", uri, f"xunda_{digest}")


def describe(store: StoreConfig) -> str:
    if store.backend != "milvus":
        return "local"
    return f"milvus:{store.uri}" if store.uri else "milvus (Milvus Lite in the index folder)"


def check_store(manifest: Manifest, wanted: StoreConfig | None, root: str | Path) -> None:
    """Refuse a store other than the one the index records (ConfigError saying what to do)."""
    have = manifest.store
    if wanted is None or (wanted.backend, wanted.uri) == (have.backend, have.uri):
        return
    raise ConfigError(
        f"index {root} is stored in {describe(have)}, not {describe(wanted)}: open it with "
        f"--store {'local' if have.backend == 'local' else 'milvus' + (':' + have.uri if have.uri else '')} "
        "(or leave --store out), or build a new index folder with the store you want")


def milvus_uri(store: StoreConfig, root: str | Path) -> str:
    return store.uri or str(Path(root) / LITE_FILE)


def open_mirror(root: str | Path, store: StoreConfig, dim: int, index_type: str):
    """The Milvus mirror of a Milvus-backed index (connected: an unreachable or busy Milvus is a
    ConfigError here), or None for a local one."""
    if store.backend != "milvus":
        return None
    from qa.store.milvus import MilvusMirror

    mirror = MilvusMirror(milvus_uri(store, root), store.collection, dim, index_type=index_type)
    mirror.client()
    return mirror


def sync_mirror(root: str | Path, view) -> bool:
    """Repair the mirror of an opened IndexView when it is out of step with its manifest (a write
    killed between switching the manifest and updating Milvus); True when it is in step after.
    Done under the index lock, and only while the manifest is still the view's: when a writer
    holds the lock it is left to that writer, which reconciles when it switches."""
    from qa.lock import index_lock

    if view.mirror is None or view.mirror.in_step(view.manifest):
        return True
    try:
        with index_lock(root, wait=False):
            if read_manifest(Path(root)).generation != view.manifest.generation:
                return False
            report = view.mirror.reconcile(view)
    except IndexBusyError:
        return False
    logging.getLogger(__name__).warning(
        "Milvus collection %s was out of step with %s (%s): repaired, %d chunks written, %d deleted",
        view.manifest.store.collection, root, view.manifest.generation, report.upserted, report.deleted)
    return True
