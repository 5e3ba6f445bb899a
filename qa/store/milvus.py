"""An index's live chunks mirrored into a Milvus collection, searched with IndexView's row numbers.

Milvus Lite when `uri` is a local path, a Milvus server at http://HOST:19530 otherwise (same
code). Each live chunk is one entity keyed SEGMENT:ROW with its dense vector and its BM25 term
weights as a sparse vector (our folded jieba tokens, Lucene BM25 as qa/store/bm25.py scores it:
the document side holds tf / (tf + k1 (1 - b + b len / avglen)), the query side idf x count, so
the inner product is the BM25 score). Milvus's own BM25 function is not used: it cuts
unfolded text (traditional script is missed), keeps stop words and, in Milvus Lite, takes IDF
per segment. `reconcile` makes the collection hold exactly the manifest's live chunks, segment
by segment, with upserts and deletes keyed by SEGMENT:ROW, so running it again after a killed
run repairs it without duplicates; a segment whose weights were written with an average chunk
length more than AVG_DRIFT away from the index's current one is rewritten. Needs
`pip install 'xunda[scale]'`.
"""
from __future__ import annotations

import json
import logging
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from qa.errors import ConfigError
from qa.store.backend import is_lite
from qa.store.bm25 import B, K1, average_length, document_frequency, idf
from qa.store.merge import live_rows
from qa.store.segment import VECTORS

BATCH = 1_000  # entities per insert call
# Our index types as Milvus dense indexes (FLAT is exact; HNSW and IVF as FAISS builds them).
DENSE_INDEX = {"flat": ("FLAT", {}), "hnsw": ("HNSW", {"M": 32, "efConstruction": 200}),
               "ivf": ("IVF_FLAT", {"nlist": 1024})}
SEARCH_PARAMS = {"flat": {}, "hnsw": {"ef": 128}, "ivf": {"nprobe": 32}}
_MAX_LIST = 10_000  # ids per filter expression
# BM25's length normalisation moves by about B x the drift: 1% keeps scores within about 0.75%
# of the default store's, while a segment is rewritten only when the corpus has changed a lot.
AVG_DRIFT = 0.01
_LITE_USERS: Counter = Counter()  # open mirrors per Milvus Lite path in this process
# Milvus Lite's in-process gRPC server keeps gRPC's default ping policy, so pymilvus's keepalive
# pings (every 10 s, even between calls) earn a GOAWAY "too many pings" during a long ingest, and
# the next client of that path then fails to connect (2 ingests of 20k chunks in 3). A loopback
# connection needs no keepalive.
LITE_GRPC_OPTIONS = {"grpc.keepalive_time_ms": 2**31 - 1, "grpc.keepalive_permit_without_calls": 0}


@dataclass(frozen=True)
class ReconcileReport:
    """What one reconcile changed: entities written and deleted, and the segments it wrote."""

    upserted: int
    deleted: int
    segments_written: tuple[str, ...]


def term_id(term: str) -> int:
    """A stable 31-bit id for a term (Milvus sparse keys must be below 2^32 - 1)."""
    return zlib.crc32(term.encode("utf-8")) & 0x7FFFFFFF


class MilvusMirror:
    """The live chunks of an index in the Milvus collection `collection` at `uri`."""

    def __init__(self, uri: str | Path, collection: str, dim: int, timeout: float = 10.0,
                 index_type: str = "flat"):
        if not str(uri).strip():
            raise ConfigError("Milvus uri is empty: use a local path (Milvus Lite) or http://HOST:19530")
        if not collection.replace("_", "").isalnum() or not collection[:1].isalpha():
            raise ConfigError(f"Milvus collection name {collection!r}: use letters, digits and _, starting with a letter")
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ConfigError(f"vector dim {dim!r}: use an int >= 1")
        if index_type not in DENSE_INDEX:
            raise ConfigError(f"index type {index_type!r}: use one of {', '.join(DENSE_INDEX)}")
        self.index_type = index_type
        self.uri, self.collection, self.dim, self.timeout = str(uri), collection, dim, timeout
        self._client = None

    def client(self):
        """The connected client, the collection created (empty) when missing and loaded."""
        if self._client is not None:
            return self._client
        try:
            from pymilvus import DataType, MilvusClient
        except ImportError as exc:
            raise ConfigError(f"pymilvus is not installed ({exc}): pip install 'xunda[scale]'") from exc
        for noisy in ("pymilvus", "milvus_lite"):  # they log a traceback per failed call
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
        try:
            if self.lite:  # Milvus Lite creates its data folder, not the folders above it
                Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
            client = MilvusClient(self.uri, timeout=self.timeout,
                                  **({"grpc_options": LITE_GRPC_OPTIONS} if self.lite else {}))
            if self.lite:
                _LITE_USERS[self.uri] += 1
            if client.has_collection(self.collection) and self._dense_index(client) != DENSE_INDEX[self.index_type][0]:
                # Another index type: the mirror is rebuilt whole (so is the local index on a change).
                client.drop_collection(self.collection)
            if not client.has_collection(self.collection) and client.has_collection(self.state_collection):
                client.drop_collection(self.state_collection)  # the record of a collection no longer there
            if not client.has_collection(self.state_collection):
                schema = MilvusClient.create_schema(auto_id=False)
                schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=16)
                schema.add_field("state", DataType.VARCHAR, max_length=65535)
                schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field
                index = client.prepare_index_params()
                index.add_index(field_name="unused", index_type="FLAT", metric_type="L2")
                client.create_collection(self.state_collection, schema=schema, index_params=index)
            client.load_collection(self.state_collection)
            if not client.has_collection(self.collection):
                schema = MilvusClient.create_schema(auto_id=False)
                schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=128)
                schema.add_field("segment", DataType.VARCHAR, max_length=96)
                schema.add_field("row", DataType.INT64)
                schema.add_field("dense", DataType.FLOAT_VECTOR, dim=self.dim)
                schema.add_field("terms", DataType.SPARSE_FLOAT_VECTOR)
                index = client.prepare_index_params()
                kind, params = DENSE_INDEX[self.index_type]
                index.add_index(field_name="dense", index_type=kind, metric_type="IP", params=params)
                index.add_index(field_name="terms", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
                client.create_collection(self.collection, schema=schema, index_params=index)
            client.load_collection(self.collection)
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - pymilvus raises many kinds; the user needs the uri
            if self.lite:
                raise ConfigError(
                    f"Milvus Lite at {self.uri!r} could not be opened ({exc}). Milvus Lite serves one "
                    "process at a time: if another process has it open (a running `qa serve`, another "
                    "ingest), stop it first, or use a Milvus server (--store milvus:http://HOST:19530)") from exc
            raise ConfigError(f"Milvus at {self.uri!r} could not be opened: {exc}") from exc
        self._client = client
        return client

    def _dense_index(self, client) -> str:
        for name in client.list_indexes(self.collection):
            info = client.describe_index(self.collection, name)
            if info.get("field_name") == "dense":
                return str(info.get("index_type"))
        return ""

    def count(self, segment: str | None = None) -> int:
        """Entities in the collection (of one segment)."""
        flt = f'segment == "{segment}"' if segment is not None else ""
        return int(self.client().query(self.collection, filter=flt, output_fields=["count(*)"])[0]["count(*)"])

    @property
    def state_collection(self) -> str:
        """The companion collection that records what the last finished reconcile wrote."""
        return f"{self.collection}_state"

    def _state(self) -> dict | None:
        """{"generation", "segments": {name: {"live", "avglen"}}} of the last finished reconcile."""
        found = self.client().query(self.state_collection, ids=["state"], output_fields=["state"])
        return json.loads(found[0]["state"]) if found else None

    def in_step(self, manifest) -> bool:
        """Whether the last reconcile that finished was of this manifest (a killed one records
        nothing); without that record, whether each segment's entity count is its live count.
        Needs only the manifest, so a writer checks without opening the index."""
        state = self._state()
        live = {entry.name: live_rows(entry) for entry in manifest.segments}
        if state is not None:
            return state["generation"] == manifest.generation and \
                {n: r["live"] for n, r in state["segments"].items()} == live
        return self.count() == sum(live.values()) and all(self.count(n) == k for n, k in live.items())

    def reconcile(self, view) -> ReconcileReport:
        """Make the collection hold exactly the live chunks of `view` (a qa.store.IndexView).

        What the last finished reconcile recorded is trusted (so adding one file to a large index
        writes that file's segment and deletes its superseded rows, nothing else); without a
        record every segment is counted. Segments are upserted whole and deletions keyed, so a
        rerun after a kill never duplicates."""
        client = self.client()
        state = self._state()
        known: dict | None = state["segments"] if state else None
        names = [entry.name for entry in view.manifest.segments]
        deleted = 0
        if known is None or set(known) - set(names):
            deleted += _deleted(client.delete(self.collection, filter=f"segment not in {names!r}" if names else ""))
        avg = average_length(view.terms)
        upserted, written, record = 0, [], {}
        for i, entry in enumerate(view.manifest.segments):
            dead = set(int(r) for r in view.deleted[i])
            live = [r for r in range(entry.chunks) if r not in dead]
            before = known.get(entry.name) if known is not None else None
            if known is None:
                rewrite = self.count(entry.name) != len(live)
            else:
                rewrite = before is None or abs(before["avglen"] - avg) > AVG_DRIFT * avg
            if rewrite:
                vectors = np.load(view.root / entry.name / VECTORS, allow_pickle=False, mmap_mode="r")
                weights = _document_weights(view.terms[i], avg)
                for start in range(0, len(live), BATCH):
                    rows = live[start:start + BATCH]
                    client.upsert(self.collection, [{"key": f"{entry.name}:{r}", "segment": entry.name, "row": r,
                                                     "dense": [float(x) for x in vectors[r]],
                                                     "terms": weights[r] or {0: 1e-6}} for r in rows])
                upserted += len(live)
                written.append(entry.name)
            if before is None or before["live"] != len(live):  # rows may have died since
                for start in range(0, len(dead), _MAX_LIST):
                    keys = [f"{entry.name}:{r}" for r in sorted(dead)[start:start + _MAX_LIST]]
                    deleted += _deleted(client.delete(self.collection, ids=keys))
            record[entry.name] = {"live": len(live), "avglen": avg if rewrite or before is None else before["avglen"]}
        client.flush(self.collection)
        # Recorded last: a reconcile killed before this line is redone by the next one.
        client.upsert(self.state_collection, [{"key": "state", "unused": [0.0, 0.0], "state": json.dumps(
            {"generation": view.manifest.generation, "segments": record})}])
        client.flush(self.state_collection)
        return ReconcileReport(upserted, deleted, tuple(written))

    def dense(self, view, vector: np.ndarray, depth: int) -> list[tuple[int, float]]:
        """(row, inner product) of the `depth` nearest live chunks, as IndexView.dense."""
        hits = self.client().search(self.collection, data=[np.asarray(vector, dtype=np.float32).tolist()],
                                    anns_field="dense", limit=depth, output_fields=["segment", "row"],
                                    filter=_of_segments(view), search_params={
                                        "metric_type": "IP", "params": SEARCH_PARAMS[self.index_type]})[0]
        return _rows(view, hits)

    def sparse(self, view, tokens: Sequence[str], depth: int) -> list[tuple[int, float]]:
        """(row, BM25 score) of the `depth` best live chunks with a positive score, as IndexView.sparse."""
        query = _query_weights(view.terms, tokens)
        if not query:
            return []
        hits = self.client().search(self.collection, data=[query], anns_field="terms", limit=depth,
                                    output_fields=["segment", "row"], filter=_of_segments(view),
                                    search_params={"metric_type": "IP"})[0]
        return [(r, s) for r, s in _rows(view, hits) if s > 0]

    @property
    def lite(self) -> bool:
        """Whether `uri` is a Milvus Lite path (run inside this process) rather than a server."""
        return is_lite(self.uri)

    def close(self) -> None:
        """Disconnect; the last mirror of a Milvus Lite path in this process stops its server,
        which frees the path for other processes."""
        if self._client is None:
            return
        self._client.close()
        self._client = None
        if self.lite:
            _LITE_USERS[self.uri] -= 1
            if _LITE_USERS[self.uri] <= 0:
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(self.uri)


def _deleted(result) -> int:
    """How many entities a delete call removed (pymilvus returns their keys or a count)."""
    return len(result) if isinstance(result, list) else int(getattr(result, "delete_count", 0) or 0)


def _of_segments(view) -> str:
    """Only the view's segments: a writer may have mirrored a newer manifest's segments already."""
    return f"segment in {[entry.name for entry in view.manifest.segments]!r}"


def _rows(view, hits) -> list[tuple[int, float]]:
    """Hits as (index-wide row, score), best first; hits of segments the view lacks are dropped."""
    offset = {entry.name: off for entry, off in zip(view.manifest.segments, view.offsets)}
    found = [(offset[h["entity"]["segment"]] + int(h["entity"]["row"]), float(h["distance"]))
             for h in hits if h["entity"]["segment"] in offset]
    return sorted(found, key=lambda t: (-t[1], t[0]))


def _document_weights(matrix, avg: float) -> list[dict[int, float]]:
    """Each row's {term id: tf / (tf + k1 (1 - b + b len / avg))}, the document side of BM25."""
    out: list[dict[int, float]] = [{} for _ in range(len(matrix.lengths))]
    for term, col in matrix.terms.items():
        lo, hi = matrix.pointers[col], matrix.pointers[col + 1]
        tid = term_id(term)
        for row, tf in zip(matrix.rows[lo:hi], matrix.counts[lo:hi]):
            norm = K1 * (1 - B + B * float(matrix.lengths[row]) / avg)
            out[int(row)][tid] = out[int(row)].get(tid, 0.0) + float(tf) / (norm + float(tf))
    return out


def _query_weights(matrices, tokens: Sequence[str]) -> dict[int, float]:
    """{term id: idf x count} over the index-wide statistics, the query side of BM25."""
    total = sum(len(m.lengths) for m in matrices)
    weights: dict[int, float] = {}
    for term, n in Counter(tokens).items():
        if total and (df := document_frequency(matrices, term)):
            weights[term_id(term)] = weights.get(term_id(term), 0.0) + idf(total, df) * n
    return weights
