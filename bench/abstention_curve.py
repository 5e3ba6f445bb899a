"""How the neural reader's confidence separates answers from readings that lack the fact.

    python bench/abstention_curve.py ../shared/benchmarks/cmrc2018/cmrc2018_dev.json \
        [--questions 400] [--seed 7] [--calibration FILE ...] [--report eval/reports/FILE.json]

For a sample of the file's questions, up to four readings each, built as
bench/calibrate_reader.py builds them on train (~300-character chunks, as retrieval hands them
over): answerable (the question's paragraph plus the two most similar paragraphs without the
answer), gap (the same with every sentence holding the answer cut: on topic, fact missing),
off-topic (the two similar paragraphs alone) and other-period (the answerable passages asked of
a year or month they do not report, for questions that name one). Each reading's confidence
comes from each calibration file given (default: the shipped one; several are compared on the
same readings, read with the first one's settings). Prints the curve: for a range of
thresholds, the share of each kind abstained on and the F1 of the answerable readings'
answers, with each calibration's own threshold marked. On CMRC 2018 dev or DRCD dev these
figures are held out (never trained or tuned on).
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
sys.path.insert(0, str(ROOT / "bench"))

from calibrate_reader import product_readings, sample_questions  # noqa: E402
from qa.metrics import f1_score  # noqa: E402
from qa.question import analyze_question  # noqa: E402
from qa.reader.confidence import CALIBRATION, load_calibration, reading_features  # noqa: E402
from qa.reader.neural import NeuralReader  # noqa: E402

KINDS = ("answerable", "gap", "off-topic", "other-period")
THRESHOLDS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)


def curve(conf: np.ndarray, kinds: np.ndarray, f1: np.ndarray, thresholds) -> list[dict]:
    """Per threshold: share abstained of each kind of reading, and the mean F1 over answerable
    readings (abstained ones scoring 0)."""
    answerable = kinds == "answerable"
    rows = []
    for t in thresholds:
        kept = conf >= t
        rows.append({"threshold": round(float(t), 4),
                     **{f"abstain_{k}": round(float(np.mean(~kept[kinds == k])), 4)
                        for k in KINDS if (kinds == k).any()},
                     "answerable_f1": round(float(100 * np.mean(f1[answerable] * kept[answerable])), 2)})
    return rows


def main(argv=None) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import roc_auc_score

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", type=Path)
    ap.add_argument("--questions", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--calibration", type=Path, nargs="+", default=[CALIBRATION])
    ap.add_argument("--report", type=Path, default=None)
    args = ap.parse_args(argv)
    data = json.loads(args.file.read_text(encoding="utf-8"))["data"]
    contexts = [p["context"] for a in data for p in a["paragraphs"]]
    tfidf = TfidfVectorizer(analyzer="char", ngram_range=(2, 2), min_df=2, sublinear_tf=True).fit_transform(contexts)
    calibrations = [load_calibration(path) for path in args.calibration]
    reader = NeuralReader(length_penalty=calibrations[0].length_penalty, max_len=calibrations[0].max_len)
    picks = sample_questions(data, 0.0, args.questions, args.seed)
    features, kinds, f1 = [], [], []
    t0 = time.perf_counter()
    for n, (i, qa) in enumerate(picks):
        answers = [a["text"] for a in qa["answers"]]
        for kind, question, passages in product_readings(contexts, tfidf, i, qa):
            result = reader.read(question, passages)
            features.append(reading_features(result, passages, analyze_question(question)))
            kinds.append(kind)
            f1.append(f1_score(result.spans[0].text, answers) if result.spans and kind == "answerable" else 0.0)
        if (n + 1) % 50 == 0:
            print(f"{n + 1}/{len(picks)} questions, {time.perf_counter() - t0:.0f} s", flush=True)
    kinds, f1 = np.array(kinds), np.array(f1)
    reports = []
    for path, calibration in zip(args.calibration, calibrations):
        conf = np.array([calibration.confidence(f) for f in features])
        answerable, gap = conf[kinds == "answerable"], conf[kinds == "gap"]
        auc = roc_auc_score(np.r_[np.ones(len(answerable)), np.zeros(len(gap))], np.r_[answerable, gap])
        # For comparison only (a threshold read off this set is not a held-out choice):
        at5 = float(np.quantile(answerable, 0.05))
        rows = curve(conf, kinds, f1, sorted({*THRESHOLDS, calibration.threshold, at5}))
        print(f"\n{path} ({', '.join(calibration.features)})")
        print(f"{args.file.name}: {len(picks)} questions, {len(gap)} gap readings, gap ROC AUC {auc:.3f}")
        print("threshold  abstain: answerable  gap     off-topic  other-period   answerable F1")
        for r in rows:
            mark = ("  <- shipped threshold" if r["threshold"] == round(calibration.threshold, 4)
                    else "  <- 5% of answerable (read off this set)" if r["threshold"] == round(at5, 4) else "")
            shares = "  ".join(f"{r.get('abstain_' + k, float('nan')):6.3f}" for k in KINDS)
            print(f"{r['threshold']:9.4f}           {shares}        {r['answerable_f1']:6.2f}{mark}")
        reports.append({"calibration": str(path), "features": list(calibration.features),
                        "threshold": calibration.threshold, "gap_auc": round(float(auc), 4), "curve": rows})
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps({
            "file": args.file.name, "questions": len(picks), "seed": args.seed,
            "readings": {k: int((kinds == k).sum()) for k in KINDS}, "calibrations": reports},
            ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
