"""How the neural reader's confidence separates answers from readings that lack the fact.

    python bench/abstention_curve.py ../shared/benchmarks/cmrc2018/cmrc2018_dev.json \
        [--questions 400] [--seed 7] [--calibration FILE] [--report eval/reports/FILE.json]

For a sample of the file's questions, three readings each, built as bench/calibrate_reader.py
builds them on train (~300-character chunks, as retrieval hands them over): answerable (the
question's paragraph plus the two most similar paragraphs without the answer), gap (the same
with every sentence holding the answer cut: on topic, fact missing) and off-topic (the two
similar paragraphs alone). Each reading's confidence comes from the calibration file (default:
the shipped one). Prints the curve: for a range of thresholds, the share of each kind abstained
on and the F1 of the answerable readings' answers, with the shipped threshold's row marked.
On CMRC 2018 dev or DRCD dev these figures are held out (never trained or tuned on).
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
                        for k in ("answerable", "gap", "off-topic") if (kinds == k).any()},
                     "answerable_f1": round(float(100 * np.mean(f1[answerable] * kept[answerable])), 2)})
    return rows


def main(argv=None) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import roc_auc_score

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", type=Path)
    ap.add_argument("--questions", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--calibration", type=Path, default=CALIBRATION)
    ap.add_argument("--report", type=Path, default=None)
    args = ap.parse_args(argv)
    data = json.loads(args.file.read_text(encoding="utf-8"))["data"]
    contexts = [p["context"] for a in data for p in a["paragraphs"]]
    tfidf = TfidfVectorizer(analyzer="char", ngram_range=(2, 2), min_df=2, sublinear_tf=True).fit_transform(contexts)
    calibration = load_calibration(args.calibration)
    reader = NeuralReader(length_penalty=calibration.length_penalty, max_len=calibration.max_len)
    picks = sample_questions(data, 0.0, args.questions, args.seed)
    conf, kinds, f1 = [], [], []
    t0 = time.perf_counter()
    for n, (i, qa) in enumerate(picks):
        answers = [a["text"] for a in qa["answers"]]
        analysis = analyze_question(qa["question"])
        for kind, passages in product_readings(contexts, tfidf, i, qa):
            result = reader.read(qa["question"], passages)
            conf.append(calibration.confidence(reading_features(result, passages, analysis)))
            kinds.append(kind)
            f1.append(f1_score(result.spans[0].text, answers) if result.spans and kind == "answerable" else 0.0)
        if (n + 1) % 50 == 0:
            print(f"{n + 1}/{len(picks)} questions, {time.perf_counter() - t0:.0f} s", flush=True)
    conf, kinds, f1 = np.array(conf), np.array(kinds), np.array(f1)
    answerable, gap = conf[kinds == "answerable"], conf[kinds == "gap"]
    auc = roc_auc_score(np.r_[np.ones(len(answerable)), np.zeros(len(gap))], np.r_[answerable, gap])
    rows = curve(conf, kinds, f1, sorted({*THRESHOLDS, calibration.threshold}))
    print(f"{args.file.name}: {len(picks)} questions, {len(gap)} gap readings, gap ROC AUC {auc:.3f}")
    print("threshold  abstain: answerable  gap     off-topic   answerable F1")
    for r in rows:
        mark = "  <- shipped" if r["threshold"] == round(calibration.threshold, 4) else ""
        print(f"{r['threshold']:9.4f}           {r['abstain_answerable']:6.3f}  {r.get('abstain_gap', 0):6.3f}  "
              f"{r['abstain_off-topic']:6.3f}      {r['answerable_f1']:6.2f}{mark}")
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps({
            "file": args.file.name, "questions": len(picks), "seed": args.seed, "calibration": str(args.calibration),
            "calibration_features": list(calibration.features), "shipped_threshold": calibration.threshold,
            "gap_auc": round(float(auc), 4), "curve": rows}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
