"""The neural reader alone on a SQuAD-format file: gold-paragraph EM/F1 and how well its
no-answer score tells answerable readings from "gap" readings (the same paragraph with every
sentence holding the answer cut out).

    python bench/reader_eval.py ../shared/benchmarks/cmrc2018/cmrc2018_dev.json [--limit N]
        [--model qa/models/reader-int8.npz] [--int8] [--no-gap] [--report FILE.json]

EM/F1 come from the same code as `qa eval --squad FILE --gold-paragraph`. The AUC is
ROC AUC with answerable readings as positives, for two scores: the best span's margin over
the lowest no-answer logit of the question's windows ("reading") and over its own window's
("window").
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

from qa.evaluation import evaluate_gold_paragraph, gap_text, load_squad  # noqa: E402
from qa.reader.neural import NeuralReader  # noqa: E402


class Recording:
    """The reader, keeping each question's reading so the gap pass need not read it again."""

    def __init__(self, reader):
        self.reader, self.readings = reader, {}

    def read(self, question, passages):
        reading = self.reader.read(question, passages)
        self.readings[question, tuple(passages)] = reading
        return reading


def margins(reading) -> tuple[float, float]:
    if not reading.spans:
        return -50.0, -50.0
    return reading.margin, reading.spans[0].margin


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", type=Path)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--int8", action="store_true", help="int8 matrix products (default float32; the weights are int8 either way)")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--no-gap", action="store_true")
    ap.add_argument("--no-fold", action="store_true", help="read traditional text as it is (default: folded to simplified)")
    ap.add_argument("--length-penalty", type=float, default=None,
                    help="decoder length penalty (default: the shipped calibration's)")
    ap.add_argument("--max-len", type=int, default=None,
                    help="window tokens (default: the shipped calibration's; 0 = as the model was trained)")
    ap.add_argument("--pieces", choices=("trained", "words", "sentencepiece"), default="trained",
                    help="tokenise passages as the model was trained (default), or force one way")
    ap.add_argument("--report", type=Path, default=None)
    args = ap.parse_args(argv)
    from sklearn.metrics import roc_auc_score

    docs, items = load_squad(args.file)
    paragraphs = {d.path: d.text for d, _ in docs}
    items = [it for it in items if it.answers][: args.limit or None]
    from qa.reader.confidence import load_calibration

    calibration = load_calibration()
    penalty = calibration.length_penalty if args.length_penalty is None else args.length_penalty
    max_len = calibration.max_len if args.max_len is None else (args.max_len or None)
    reader = NeuralReader(args.model, int8=args.int8, fold=not args.no_fold, length_penalty=penalty, max_len=max_len,
                          word_breaks=None if args.pieces == "trained" else args.pieces == "words")
    t0 = time.perf_counter()
    recording = Recording(reader)
    report = evaluate_gold_paragraph(recording, paragraphs, items)
    seconds = time.perf_counter() - t0
    metrics = {"file": args.file.name, "questions": len(items), "model": str(reader.model_path),
               "int8_products": args.int8, "length_penalty": penalty, "max_len": max_len, "fold": not args.no_fold, "em": report.metrics["em"], "f1": report.metrics["f1"],
               "seconds": round(seconds, 1), "ms_per_question": round(1000 * seconds / max(1, len(items)), 1)}
    if not args.no_gap:
        pos, neg = [], []
        for it in items:
            context = paragraphs[it.gold_paths[0]]
            gap = gap_text(context, it.answers)
            if len(gap) < 40:
                continue
            gold = recording.readings.get((it.question, (context,))) or reader.read(it.question, [context])
            pos.append(margins(gold))
            neg.append(margins(reader.read(it.question, [gap])))
        y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
        scores = np.array(pos + neg)
        metrics.update({"gap_readings": len(neg),
                        "gap_auc_reading": round(float(roc_auc_score(y, scores[:, 0])), 4),
                        "gap_auc_window": round(float(roc_auc_score(y, scores[:, 1])), 4)})
    print(json.dumps(metrics, ensure_ascii=False, indent=1))
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps({**report.to_json(), "metrics": {**report.metrics, **metrics}}, ensure_ascii=False, indent=1),
                               encoding="utf-8")


if __name__ == "__main__":
    main()
