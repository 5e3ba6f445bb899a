"""Fit the neural reader's confidence (qa/models/reader_calibration.json) on train-file readings.

    python bench/calibrate_reader.py [--questions 300] [--write]

For a sample of CMRC 2018 train questions (the train file only: never dev), three readings as
the product makes them, over ~300-character chunks like retrieved passages:
  answerable: the gold paragraph's chunks plus the chunks of the two most similar paragraphs;
  gap:        the same, with every sentence of the gold paragraph that prints the answer cut;
  off-topic:  the two similar paragraphs only.
A logistic regression over qa.reader.answer.FEATURES predicts "the best span is right" (F1 >=
0.5 on an answerable reading; every gap and off-topic reading is a no). The threshold is the
confidence below which 5% of answerable readings fall, so the product abstains on at most 5%
of answerable train readings. The reader was trained on this file, so the readings are
in-sample; held-out figures come from bench/reader_eval.py and `qa eval`.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.chunking import chunk_article  # noqa: E402
from qa.evaluation import gap_text  # noqa: E402
from qa.metrics import f1_score  # noqa: E402
from qa.reader.answer import CALIBRATION, FEATURES, reading_features  # noqa: E402
from qa.reader.neural import NeuralReader  # noqa: E402
from qa.types import Article  # noqa: E402

TRAIN = ROOT.parent / "shared" / "benchmarks" / "cmrc2018" / "cmrc2018_train.json"


def chunks(text: str) -> list[str]:
    return [c.text for c in chunk_article(Article("a", "d", "p", "", text))]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=int, default=300)
    ap.add_argument("--max-abstain", type=float, default=0.05)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args(argv)
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    data = json.loads(TRAIN.read_text(encoding="utf-8"))["data"]
    paras = [p for a in data for p in a["paragraphs"]]
    contexts = [p["context"] for p in paras]
    tfidf = TfidfVectorizer(analyzer="char", ngram_range=(2, 2), min_df=2, sublinear_tf=True).fit_transform(contexts)
    rng = random.Random(args.seed)
    picks = rng.sample([(i, q) for i, p in enumerate(paras) for q in p["qas"]], args.questions)
    reader = NeuralReader()
    rows, labels, kinds = [], [], []
    for n, (i, qa) in enumerate(picks):
        answers = [a["text"] for a in qa["answers"]]
        sims = (tfidf @ tfidf[i].T).toarray().ravel()
        others = [j for j in np.argsort(-sims) if j != i and not any(a in contexts[j] for a in answers)][:2]
        other_chunks = [c for j in others for c in chunks(contexts[j])]
        gold = chunks(contexts[i])
        readings = [("answerable", gold + other_chunks), ("off-topic", other_chunks)]
        gap = gap_text(contexts[i], answers)
        if len(gap) >= 40:
            readings.append(("gap", chunks(gap) + other_chunks))
        for kind, passages in readings:
            result = reader.read(qa["question"], passages)
            feats = reading_features(result)
            right = kind == "answerable" and result.spans and f1_score(result.spans[0].text, answers) >= 0.5
            rows.append([feats[f] for f in FEATURES])
            labels.append(int(bool(right)))
            kinds.append(kind)
        if (n + 1) % 50 == 0:
            print(f"{n + 1}/{len(picks)} questions read", flush=True)
    X, y, kinds = np.array(rows), np.array(labels), np.array(kinds)
    model = LogisticRegression(C=1.0, max_iter=1000).fit(X, y)
    conf = model.predict_proba(X)[:, 1]
    answerable = kinds == "answerable"
    threshold = float(np.quantile(conf[answerable], args.max_abstain))
    summary = {"features": list(FEATURES), "coef": model.coef_[0].round(6).tolist(),
               "intercept": round(float(model.intercept_[0]), 6), "threshold": round(threshold, 6),
               "fitted_on": f"{len(picks)} CMRC 2018 train questions (answerable, gap, off-topic readings)",
               "abstain_answerable": round(float((conf[answerable] < threshold).mean()), 4),
               "abstain_gap": round(float((conf[kinds == "gap"] < threshold).mean()), 4),
               "abstain_off_topic": round(float((conf[kinds == "off-topic"] < threshold).mean()), 4),
               "answerable_right": round(float(y[answerable].mean()), 4)}
    print(json.dumps(summary, indent=1))
    if args.write:
        tmp = CALIBRATION.with_suffix(".tmp")
        tmp.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, CALIBRATION)
        print(f"wrote {CALIBRATION}")


if __name__ == "__main__":
    main()
