"""The index on disk: a manifest over immutable segments (see qa/store/manifest.py).

Modules in the order data travels: `manifest` (what the index holds), `segment` (one
segment's files), `bm25` (term counts and index-wide BM25), `writer` (one write: a new
segment and deletions), `merge` (when and how segments merge), `backend` (which engine searches
the chunks: local files or Milvus, as the manifest records), `view` (an open index for
searching), `milvus` (an open index's live chunks mirrored into Milvus, searched the same way;
it needs the scale extra).
"""
from qa.embedding_cache import EmbeddingCache
from qa.store.manifest import (FORMAT_VERSION, INDEX_TYPES, MANIFEST, Manifest, SegmentEntry,
                               check_embedder, read_manifest, refuse_orphaned_generations,
                               size_on_disk)
from qa.store.view import IndexView
from qa.store.writer import IndexWriter, WriteResult

__all__ = ["EmbeddingCache", "FORMAT_VERSION", "INDEX_TYPES", "MANIFEST", "Manifest", "SegmentEntry",
           "check_embedder", "read_manifest", "refuse_orphaned_generations", "size_on_disk",
           "IndexView", "IndexWriter", "WriteResult"]
