"""BM25 in Milvus: its own BM25 function (jieba analyzer on the raw text) against our folded
jieba tokens scored as the product scores them (what `--store milvus` stores as sparse vectors).

    python bench/milvus_bm25.py [FILE.json ...] [--work /tmp/xunda-milvus-bm25]

Each paragraph of a SQuAD-format file is one document; each question is searched with BM25
alone and scored by the rank of its own paragraph (recall@1, @5, MRR). Needs the scale extra
(pymilvus, milvus-lite) and the `jieba` package (Milvus's analyzer asks for it).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from machine_info import machine  # noqa: E402

FILES = [ROOT.parent / "shared/benchmarks/cmrc2018/cmrc2018_dev.json", ROOT.parent / "shared/benchmarks/drcd/DRCD_dev.json"]


def ranks_ours(texts: list[str], questions: list[str], depth: int) -> list[list[int]]:
    """Top `depth` paragraph numbers per question: our tokens, our BM25 (qa/store/bm25.py)."""
    import numpy as np

    from qa.retrieval import bm25_tokens
    from qa.store import bm25

    matrix = bm25.TermMatrix.build(bm25_tokens(t) for t in texts)
    out = []
    for q in questions:
        scores = bm25.scores([matrix], bm25_tokens(q))[0]
        out.append([int(i) for i in np.argsort(-scores, kind="stable")[:depth] if scores[i] > 0])
    return out


def ranks_milvus(texts: list[str], questions: list[str], depth: int, uri: str) -> list[list[int]]:
    """Top `depth` paragraph numbers per question from Milvus's BM25 function (jieba analyzer)."""
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    client = MilvusClient(uri)
    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                     analyzer_params={"tokenizer": "jieba"})
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                 input_field_names=["text"], output_field_names=["sparse"]))
    index = client.prepare_index_params()
    index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    client.create_collection("paragraphs", schema=schema, index_params=index)
    for start in range(0, len(texts), 500):
        client.insert("paragraphs", [{"id": i, "text": texts[i]} for i in range(start, min(len(texts), start + 500))])
    client.flush("paragraphs")
    client.load_collection("paragraphs")
    out = []
    for q in questions:
        hits = client.search("paragraphs", data=[q], anns_field="sparse", limit=depth,
                             search_params={"metric_type": "BM25"})[0]
        out.append([int(h["id"]) for h in hits])
    client.close()
    return out


def score(found: list[list[int]], gold: list[int]) -> dict:
    def rank(top: list[int], g: int) -> int | None:
        return top.index(g) + 1 if g in top else None

    ranks = [rank(t, g) for t, g in zip(found, gold)]
    n = len(ranks)
    return {"recall@1": round(100 * sum(r == 1 for r in ranks) / n, 2),
            "recall@5": round(100 * sum(r is not None and r <= 5 for r in ranks) / n, 2),
            "mrr": round(sum(1 / r for r in ranks if r) / n, 4)}


def main(argv: list[str] | None = None) -> int:
    from qa.evaluation import load_squad

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", type=Path, default=FILES)
    ap.add_argument("--work", type=Path, default=Path("/tmp/xunda-milvus-bm25"))
    ap.add_argument("--depth", type=int, default=10)
    args = ap.parse_args(argv)
    print(f"machine: {machine()}")
    print("file | questions | paragraphs | BM25 | recall@1 | recall@5 | MRR | seconds")
    for path in args.files:
        docs, items = load_squad(path)
        number = {doc.path: i for i, (doc, _) in enumerate(docs)}
        texts = [doc.text for doc, _ in docs]
        asked = [it for it in items if it.gold_paths and it.gold_paths[0] in number]
        questions, gold = [it.question for it in asked], [number[it.gold_paths[0]] for it in asked]
        shutil.rmtree(args.work, ignore_errors=True)
        args.work.mkdir(parents=True)
        for name, run in (("ours (folded jieba, Lucene BM25)", lambda: ranks_ours(texts, questions, args.depth)),
                          ("Milvus BM25 function (jieba analyzer)",
                           lambda: ranks_milvus(texts, questions, args.depth, str(args.work / "bm25.db")))):
            t0 = time.perf_counter()
            figures = score(run(), gold)
            print(f"{path.name} | {len(questions)} | {len(texts)} | {name} | {figures['recall@1']} | "
                  f"{figures['recall@5']} | {figures['mrr']} | {time.perf_counter() - t0:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
