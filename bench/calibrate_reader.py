"""Fit how the neural reader's scores become answers (qa/models/reader_calibration.json) on
CMRC 2018 train readings: the decoder's length penalty, then the confidence model.

    python bench/calibrate_reader.py [--model FILE.npz] [--questions 400] [--write]

Questions come from the train file only (never dev). When the model was trained with
`--holdout` (its file says so), they are drawn from the held-out articles, which the model never
saw; otherwise they are in-sample and the file says that. For each question, up to four readings
as the product makes them, over ~300-character chunks like retrieved passages:
  answerable:   the gold paragraph's chunks plus the chunks of the two most similar paragraphs;
  gap:          the same, with every sentence of the gold paragraph that prints the answer cut;
  off-topic:    the two similar paragraphs only;
  other-period: the answerable chunks, asked of a year or month the paragraph does not report.
1. Window length and length penalty (subtracted per token of span length), on the answerable
   readings: for windows as long as the model was trained on and for 256-token windows, the
   penalty of a small grid with the best EM + F1; the longer windows (fewer per chunk, so
   faster) are kept unless their EM + F1 is more than 2 below. `--keep-decoding` skips this and
   keeps the shipped calibration's pair.
2. Under it, a logistic regression over qa.reader.confidence.FEATURES predicts "the best span is
   right" (F1 >= 0.5 on an answerable reading; every other reading is a no). The
   threshold is the confidence below which 5% of answerable readings fall, so the product
   abstains on at most 5% of answerable train readings.
Held-out figures come from bench/reader_eval.py and `qa eval` on the dev sets.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.chunking import chunk_article  # noqa: E402
from qa.evaluation import gap_text  # noqa: E402
from qa.metrics import em_score, f1_score  # noqa: E402
from qa.question import analyze_question  # noqa: E402
from qa.reader.confidence import CALIBRATION, FEATURES, load_calibration, reading_features  # noqa: E402
from qa.reader.neural import NeuralReader  # noqa: E402
from qa.types import Article  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from train_reader import held_out  # noqa: E402

WINDOW_TOKENS = (None, 256)  # None: the length the model was trained on
PENALTIES = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6)
TRAIN = ROOT.parent / "shared" / "benchmarks" / "cmrc2018" / "cmrc2018_train.json"


def chunks(text: str) -> list[str]:
    return [c.text for c in chunk_article(Article("a", "d", "p", "", text))]


YEAR_OR_MONTH = re.compile(r"(?<![0-9])(1[0-9]{3}|20[0-9]{2})(?=年)|(?<![0-9])(1[0-2]|[1-9])(?=月)")


def other_period_question(question: str, context: str) -> str | None:
    """The question asked of another year or month than its paragraph reports (the first year
    or month it names, moved to the nearest value the paragraph never prints), or None when it
    names none the paragraph prints: an on-topic question the paragraph cannot answer."""
    m = YEAR_OR_MONTH.search(question)
    if not m or m.group(0) + ("年" if m.group(1) else "月") not in context:
        return None
    value, unit = int(m.group(0)), "年" if m.group(1) else "月"
    moves = (1, -1, 2, -2, 3, -3) if unit == "年" else (1, -1, 2, -2, 3, -3, 4, -4)
    for step in moves:
        other = value + step
        if unit == "月" and not 1 <= other <= 12:
            continue
        if f"{other}{unit}" not in context:
            return question[: m.start()] + str(other) + question[m.end():]
    return None


def product_readings(contexts: list[str], tfidf, i: int, qa: dict) -> list[tuple[str, str, list[str]]]:
    """(kind, question, passages) of the readings of one question over ~300-character chunks,
    as the product reads retrieved passages: "answerable" (its paragraph and the two most
    similar paragraphs that do not print the answer), "off-topic" (those two alone), "gap" (its
    paragraph with every sentence holding the answer cut, and the two) when enough text is
    left, and "other-period" (the answerable passages asked of a year or month they do not
    report) when the question names one."""
    question, answers = qa["question"], [a["text"] for a in qa["answers"]]
    sims = (tfidf @ tfidf[i].T).toarray().ravel()
    others = [j for j in np.argsort(-sims) if j != i and not any(a in contexts[j] for a in answers)][:2]
    other_chunks = [c for j in others for c in chunks(contexts[j])]
    answerable = chunks(contexts[i]) + other_chunks
    readings = [("answerable", question, answerable), ("off-topic", question, other_chunks)]
    gap = gap_text(contexts[i], answers)
    if len(gap) >= 40:
        readings.append(("gap", question, chunks(gap) + other_chunks))
    moved = other_period_question(question, contexts[i])
    if moved:
        readings.append(("other-period", moved, answerable))
    return readings


def sample_questions(data: list[dict], share: float, n: int, seed: int) -> list[tuple[int, dict]]:
    """(paragraph index, question) pairs: from the held-out articles when share > 0."""
    pool, i = [], 0
    for article in data:
        for para in article["paragraphs"]:
            if not share or held_out(article.get("id", ""), share):
                pool += [(i, qa) for qa in para["qas"] if qa["question"].strip() and qa.get("answers")]
            i += 1
    return random.Random(seed).sample(pool, min(n, len(pool)))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None, help="reader file (default: the shipped one)")
    ap.add_argument("--questions", type=int, default=400)
    ap.add_argument("--max-abstain", type=float, default=0.05)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--out", type=Path, default=CALIBRATION, help="where --write puts the calibration")
    ap.add_argument("--keep-decoding", action="store_true",
                    help="skip step 1: keep the shipped calibration's window length and length penalty")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args(argv)
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    data = json.loads(TRAIN.read_text(encoding="utf-8"))["data"]
    contexts = [p["context"] for a in data for p in a["paragraphs"]]
    tfidf = TfidfVectorizer(analyzer="char", ngram_range=(2, 2), min_df=2, sublinear_tf=True).fit_transform(contexts)
    # Window lengths and the penalties tried at each: --keep-decoding tries only the shipped pair.
    shipped = load_calibration() if args.keep_decoding else None
    grid = {shipped.max_len: (shipped.length_penalty,)} if shipped else dict.fromkeys(WINDOW_TOKENS, PENALTIES)
    readers = {max_len: NeuralReader(args.model, max_len=max_len) for max_len in grid}
    network = next(iter(readers.values()))._load()[0]
    share = float(network.meta.get("settings", {}).get("holdout", 0.0))
    picks = sample_questions(data, share, args.questions, args.seed)
    print(f"{len(picks)} questions from {'held-out' if share else 'all (in-sample)'} train articles", flush=True)
    # per question: question, answers, (kind, question, passages) per reading, answerable first
    plan = [(qa["question"], [a["text"] for a in qa["answers"]], product_readings(contexts, tfidf, i, qa))
            for i, qa in picks]

    def answered(reader, logits, penalty: float) -> tuple[float, float]:
        em = f1 = 0.0
        for (question, answers, readings), lg in zip(plan, logits):
            spans = reader.decode(question, readings[0][2], lg, penalty).spans
            text = spans[0].text if spans else ""
            em += em_score(text, answers)
            f1 += f1_score(text, answers)
        return 100 * em / len(plan), 100 * f1 / len(plan)

    # 1. window length and length penalty, on the answerable readings
    scores, answerable_logits = {}, {}
    for max_len, penalties in grid.items():
        reader = readers[max_len]
        answerable_logits[max_len] = [reader.window_logits(q, rs[0][2]) for q, _, rs in plan]
        for pen in penalties:
            scores[max_len, pen] = answered(reader, answerable_logits[max_len], pen)
            print(f"windows {max_len or 'as trained'}, length penalty {pen:.2f}: "
                  f"EM {scores[max_len, pen][0]:.2f} F1 {scores[max_len, pen][1]:.2f}", flush=True)
    best = {L: max(grid[L], key=lambda pen: sum(scores[L, pen])) for L in grid}
    if shipped:
        max_len = shipped.max_len
    else:
        trained = sum(scores[None, best[None]])
        max_len = max((L for L in WINDOW_TOKENS if L and sum(scores[L, best[L]]) >= trained - 2.0), default=None)
    penalty, reader = best[max_len], readers[max_len]
    read = [(answers, [(*rs[0], lg)] + [(kind, q, ps, reader.window_logits(q, ps)) for kind, q, ps in rs[1:]])
            for (_, answers, rs), lg in zip(plan, answerable_logits[max_len])]

    # 2. confidence under them
    rows, labels, kinds = [], [], []
    for answers, readings in read:
        for kind, question, ps, logits in readings:
            analysis = analyze_question(question)
            result = reader.decode(question, ps, logits, penalty)
            feats = reading_features(result, ps, analysis)
            right = kind == "answerable" and result.spans and f1_score(result.spans[0].text, answers) >= 0.5
            rows.append([feats[f] for f in FEATURES])
            labels.append(int(bool(right)))
            kinds.append(kind)
    X, y, kinds = np.array(rows), np.array(labels), np.array(kinds)
    model = LogisticRegression(C=1.0, max_iter=1000).fit(X, y)
    conf = model.predict_proba(X)[:, 1]
    answerable = kinds == "answerable"
    threshold = float(np.quantile(conf[answerable], args.max_abstain))
    where = "held-out" if share else "in-sample"
    summary = {"features": list(FEATURES), "coef": model.coef_[0].round(6).tolist(),
               "intercept": round(float(model.intercept_[0]), 6), "threshold": round(threshold, 6),
               "length_penalty": penalty, "max_len": max_len,
               "fitted_on": f"{len(picks)} CMRC 2018 train questions of {where} articles (answerable, gap, off-topic and other-period readings)",
               "answerable_em_f1": {f"windows {L or 'as trained'}, penalty {pen}": [round(v, 2) for v in vs]
                                    for (L, pen), vs in scores.items()},
               "abstain_answerable": round(float((conf[answerable] < threshold).mean()), 4),
               "abstain_gap": round(float((conf[kinds == "gap"] < threshold).mean()), 4),
               "abstain_off_topic": round(float((conf[kinds == "off-topic"] < threshold).mean()), 4),
               "abstain_other_period": round(float((conf[kinds == "other-period"] < threshold).mean()), 4),
               "answerable_right": round(float(y[answerable].mean()), 4)}
    if CALIBRATION.exists():  # the early-stop setting is chosen by bench/ask_speed.py, not here: keep it
        current = json.loads(CALIBRATION.read_text(encoding="utf-8"))
        summary.update({k: v for k, v in current.items() if k.startswith("early_confidence")})
    print(json.dumps(summary, indent=1))
    if args.write:
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, args.out)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
