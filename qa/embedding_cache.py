"""The embedding cache: vectors keyed by (embedder id, text hash) in SQLite, shared by all
indexes, so no text is embedded twice (a separate file from any index folder)."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Callable, Sequence

import numpy as np


class EmbeddingCache:
    """Vectors keyed by (embedder id, text hash) in SQLite, so no text is embedded twice.

    Default location: $XUNDA_CACHE_DIR or ~/.cache/xunda, file embeddings.sqlite.
    """

    def __init__(self, path: Path | None = None):
        if path is None:
            base = os.environ.get("XUNDA_CACHE_DIR") or Path.home() / ".cache" / "xunda"
            path = Path(base) / "embeddings.sqlite"
        self.path = Path(path)
        self.hits = 0
        self.misses = 0

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("CREATE TABLE IF NOT EXISTS vectors (embedder TEXT, hash TEXT, vec BLOB, "
                   "PRIMARY KEY (embedder, hash))")
        return db

    def get_many(self, embedder_id: str, hashes: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        """Cached vectors for those hashes that have one."""
        found: dict[str, np.ndarray] = {}
        with self._connect() as db:
            for i in range(0, len(hashes), 500):
                part = list(hashes[i : i + 500])
                marks = ",".join("?" * len(part))
                for h, blob in db.execute(
                    f"SELECT hash, vec FROM vectors WHERE embedder = ? AND hash IN ({marks})",
                    [embedder_id, *part],
                ):
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if vec.shape == (dim,):
                        found[h] = vec
        db.close()
        self.hits += len(found)
        self.misses += len(set(hashes)) - len(found)
        return found

    def put_many(self, embedder_id: str, items: dict[str, np.ndarray]) -> None:
        """Store vectors (committed at once, so a later crash keeps them)."""
        with self._connect() as db:
            db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [(embedder_id, h, v.astype(np.float32).tobytes()) for h, v in items.items()],
            )
        db.close()


def embed_texts(texts: Sequence[str], embedder, cache: EmbeddingCache,
                progress: Callable[[int, int], None] | None = None,
                batch: int = 32) -> tuple[np.ndarray, int]:
    """Vectors for `texts` (cache first, then the embedder in batches); returns (vectors, embedded).
    An embedder that spreads work over workers says how many texts to hand it at once
    (`batch_texts`, see qa/ray_embedding.py)."""
    from qa.text import content_hash

    batch = getattr(embedder, "batch_texts", batch)

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
