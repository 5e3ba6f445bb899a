"""Train the rules reader's span scorer on the train files; report it on the dev sets (held out).

Usage: python bench/train_scorer.py [--limit N] [--out qa/models/answer_scorer.json]
       then python bench/calibrate.py --write   (the confidence model depends on the scorer)

Data policy: the trees learn from CMRC 2018 train and XQuAD zh only; CMRC 2018 dev (simplified)
and DRCD dev (traditional) are only scored. For every file, each file's paragraphs are pooled
into one bm25s index (jieba tokens of folded text) and each question is read in two settings:
gold paragraph alone and open-domain top-5. Span candidates get a graded relevance from their
official F1 with the gold answers; LightGBM lambdarank learns to order each reading's candidates
(needs `pip install lightgbm`, a training-only dependency) and the trees are exported to JSON
(no pickle).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa import answer as A  # noqa: E402
from qa.metrics import em_score, f1_score, mixed_segmentation  # noqa: E402
from qa.question import analyze_question  # noqa: E402
from qa.text import cut  # noqa: E402
from qa.types import Chunk, Hit  # noqa: E402

BENCH = ROOT.parent / "shared" / "benchmarks"
TRAIN_SETS = {"cmrc_train": BENCH / "cmrc2018" / "cmrc2018_train.json", "xquad": BENCH / "xquad" / "xquad.zh.json"}
HELD_OUT_SETS = {"cmrc": BENCH / "cmrc2018" / "cmrc2018_dev.json", "drcd": BENCH / "drcd" / "DRCD_dev.json"}
SETS = {**TRAIN_SETS, **HELD_OUT_SETS}


def load(path: Path) -> tuple[list[str], list[tuple[int, str, list[str]]]]:
    """Paragraph texts and (paragraph index, question, gold answers)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    paras, qs = [], []
    for art in data["data"]:
        for p in art["paragraphs"]:
            paras.append(p["context"])
            for q in p["qas"]:
                qs.append((len(paras) - 1, q["question"], [a["text"] for a in q["answers"]]))
    return paras, qs


def _hit(paras: list[str], i: int, rank: int, score: float) -> Hit:
    t = paras[i]
    return Hit(chunk=Chunk(f"p{i}", f"a{i}", "", t, 0, len(t), 0), score=score, rank=rank, title="", paths=(f"p{i}",))


_TOKMAP: dict[str, str] = {}


def _tokstr(text: str) -> str:
    """Official-metric tokens of `text`, one private-use char per distinct token (fast LCS)."""
    return "".join(_TOKMAP.setdefault(t, chr(0xF0000 + len(_TOKMAP))) for t in mixed_segmentation(text, rm_punc=True))


def fast_f1(pred: str, golds: list[str]) -> float:
    """Official F1 via binary search on the longest common substring of token strings."""
    p = _tokstr(pred)
    best = 0.0
    for g in {_tokstr(x) for x in golds}:
        if not p or not g:
            continue
        lo, hi = 0, min(len(p), len(g))
        while lo < hi:  # largest L with a common substring of length L
            mid = (lo + hi + 1) // 2
            if any(p[i:i + mid] in g for i in range(len(p) - mid + 1)):
                lo = mid
            else:
                hi = mid - 1
        if lo:
            prec, rec = lo / len(p), lo / len(g)
            best = max(best, 2 * prec * rec / (prec + rec))
    return best


_G: dict = {}


def _work(args):
    qi, hit_ids = args
    paras, qs = _G["paras"], _G["qs"]
    _, question, golds = qs[qi]
    hits = [_hit(paras, i, r + 1, s) for r, (i, s) in enumerate(hit_ids)]
    qa = analyze_question(question)
    X, cands, _ = A.build_candidates(qa, hits)
    texts = [hits[c[0]].chunk.text[c[2]:c[3]] for c in cands]
    y = np.asarray([fast_f1(t, golds) for t in texts], float)
    conflicts = [A.conflicts(qa, A.fold(h.chunk.text), "") for h in hits]
    return qi, X, y, texts, [c[0] for c in cands], [c[1] for c in cands], qa.answer_type, conflicts


def features(name: str, limit: int | None) -> dict:
    """Candidate features of one set in two settings: gold paragraph alone and BM25 top-5."""
    paras, qs = load(SETS[name])
    if limit:
        qs = qs[:limit]
    import bm25s

    from qa.answer import fold
    t0 = time.time()
    corpus = [cut(fold(p)) for p in paras]
    retr = bm25s.BM25()
    retr.index(corpus, show_progress=False)
    settings: dict[str, list] = {"gold": [], "open": []}
    r1 = 0
    for qi, (pi, q, golds) in enumerate(qs):
        docs, scores = retr.retrieve([cut(fold(q))], k=15, show_progress=False)
        ranked = [(int(d), float(s)) for d, s in zip(docs[0], scores[0])]
        settings["gold"].append((qi, [(pi, 1.0)]))
        settings["open"].append((qi, ranked[:5]))
        r1 += ranked[0][0] == pi
    print(f"[{name}] {len(qs)} questions, bm25 recall@1 {r1 / len(qs):.3f} ({time.time() - t0:.1f}s)")
    _G.update(paras=paras, qs=qs)
    out = {"qs": qs}
    for mode, jobs in settings.items():
        t0 = time.time()
        with Pool(2) as pool:
            res = pool.map(_work, jobs, chunksize=16)
        out[mode] = res
        print(f"[{name}] {mode}: {sum(len(r[2]) for r in res)} candidates, {time.time() - t0:.1f}s")
    return out


CACHE = Path.home() / ".cache/xunda/train"


def cached_features(name: str, limit: int | None) -> dict:
    """`features`, stored as npz + JSON (no pickle) keyed by the source of the modules that make
    the candidates and their features, so that trying another learner does not re-extract them."""
    import hashlib
    sources = [(ROOT / "qa" / m).read_text(encoding="utf-8") for m in ("candidates.py", "question.py", "text.py")]
    key = hashlib.sha1(json.dumps([limit, sources]).encode()).hexdigest()[:12]
    base = CACHE / f"{name}-{key}"
    if base.with_suffix(".json").exists():
        meta = json.loads(base.with_suffix(".json").read_text(encoding="utf-8"))
        with np.load(base.with_suffix(".npz")) as npz:
            arrays = {k: npz[k] for k in npz.files}  # NpzFile re-reads on every access
        out = {"qs": [tuple(q) for q in meta["qs"]]}
        for mode, rows in meta["modes"].items():
            res, at = [], 0
            for (qi, n, qtype, conf), texts in zip(rows, meta["texts"][mode]):
                sl = slice(at, at + n)
                res.append((qi, arrays[f"{mode}_X"][sl], arrays[f"{mode}_y"][sl], texts,
                            arrays[f"{mode}_hit"][sl].tolist(), arrays[f"{mode}_sent"][sl].tolist(), qtype, conf))
                at += n
            out[mode] = res
        return out
    data = features(name, limit)
    CACHE.mkdir(parents=True, exist_ok=True)
    arrays, meta = {}, {"qs": data["qs"], "modes": {}, "texts": {}}
    for mode in ("gold", "open"):
        res = data[mode]
        arrays[f"{mode}_X"] = np.concatenate([r[1].reshape(-1, len(A.FEATURES)) for r in res])
        arrays[f"{mode}_y"] = np.concatenate([r[2] for r in res])
        arrays[f"{mode}_hit"] = np.asarray([h for r in res for h in r[4]], int)
        arrays[f"{mode}_sent"] = np.asarray([k for r in res for k in r[5]], int)
        meta["modes"][mode] = [(r[0], len(r[2]), r[6], r[7]) for r in res]
        meta["texts"][mode] = [r[3] for r in res]
    np.savez(base.with_suffix(".npz"), **arrays)
    base.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return data


def stack(results: list) -> tuple[np.ndarray, np.ndarray]:
    X = np.concatenate([r[1] for r in results if len(r[2])])
    y = np.concatenate([r[2] for r in results if len(r[2])])
    return X, y


RELEVANCE_EDGES = (0.2, 0.5, 0.8, 0.999)  # candidate F1 -> graded relevance 0..4 (4: exact match)


def groups(results: list) -> list[int]:
    """Candidates per question reading, in `stack` order (the ranking groups)."""
    return [len(r[2]) for r in results if len(r[2])]


def train_trees(X: np.ndarray, y: np.ndarray, group: list[int]) -> dict:
    """LambdaMART (LightGBM lambdarank) over each reading's candidates, exported as plain JSON.

    Ranking the candidates of one question against each other beat pointwise regression on
    candidate F1 by 3-4 F1 held out (cross-set), because only the order inside a question
    matters to the reader."""
    import lightgbm as lgb

    labels = np.digitize(y, RELEVANCE_EDGES)
    # Large leaves, feature and row subsampling and L2: 0.3-0.6 F1 better held out than without.
    params = dict(objective="lambdarank", learning_rate=0.05, num_leaves=31, min_data_in_leaf=200,
                  feature_fraction=0.8, bagging_fraction=0.8, bagging_freq=1, lambda_l2=1.0,
                  lambdarank_truncation_level=20, label_gain=[0, 1, 3, 7, 15], verbose=-1, seed=0,
                  deterministic=True, num_threads=2)
    booster = lgb.train(params, lgb.Dataset(X, labels, group=group), num_boost_round=300)
    return export_lightgbm(booster, list(A.FEATURES))


def export_lightgbm(booster, names: list[str]) -> dict:
    """A LightGBM model as the flat JSON trees `qa.answer.tree_predict` walks (x <= threshold
    goes left; the raw ranking score is the sum of leaf values, so the baseline is 0)."""
    trees = []
    for info in booster.dump_model()["tree_info"]:
        t = {"feature": [], "threshold": [], "left": [], "right": [], "is_leaf": [], "value": []}

        def walk(node: dict) -> int:
            i = len(t["feature"])
            for k in t:
                t[k].append(0)
            if "leaf_value" in node or "split_feature" not in node:
                t["is_leaf"][i], t["value"][i] = 1, float(node.get("leaf_value", 0.0))
                return i
            assert node["decision_type"] == "<=", node["decision_type"]
            t["feature"][i], t["threshold"][i] = int(node["split_feature"]), float(node["threshold"])
            t["left"][i] = walk(node["left_child"])
            t["right"][i] = walk(node["right_child"])
            return i

        walk(info["tree_structure"])
        trees.append(t)
    return {"baseline": 0.0, "trees": trees, "features": names}


def pick(scorer: dict, results: list, qs: list) -> list[tuple]:
    """Per question: (question index, predicted text, score array, best index)."""
    out = []
    for qi, X, y, texts, *_ in results:
        if not len(texts):
            out.append((qi, "", None, -1))
            continue
        s = A.tree_predict(scorer, X)
        out.append((qi, texts[int(np.argmax(s))], s, int(np.argmax(s))))
    return out


def evaluate(scorer: dict, data: dict, mode: str, label: str) -> dict:
    qs = data["qs"]
    per: dict[str, list] = defaultdict(list)
    for (qi, text, _, _), r in zip(pick(scorer, data[mode], qs), data[mode]):
        golds = qs[qi][2]
        per[r[6]].append((em_score(text, golds), f1_score(text, golds)))
    allv = [v for vs in per.values() for v in vs]
    em, f1 = 100 * np.mean([v[0] for v in allv]), 100 * np.mean([v[1] for v in allv])
    print(f"  {label} {mode:5s}: EM {em:5.1f}  F1 {f1:5.1f}  (n={len(allv)})")
    if mode == "open":
        print("    per type: " + ", ".join(f"{t} n={len(v)} EM {100 * np.mean([a for a, _ in v]):.0f} F1 {100 * np.mean([b for _, b in v]):.0f}"
                                       for t, v in sorted(per.items(), key=lambda kv: -len(kv[1]))))
    return {"em": em, "f1": f1}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", default=str(A.MODEL_PATH))
    args = ap.parse_args()
    data = {n: cached_features(n, args.limit) for n in SETS}
    every = [r for n in TRAIN_SETS for m in ("open", "gold") for r in data[n][m]]
    X, y = stack(every)
    scorer = train_trees(X, y, groups(every))
    print(f"trained on {', '.join(TRAIN_SETS)} ({len(y)} candidates); held out:")
    report = {n: {m: evaluate(scorer, data[n], m, n) for m in ("gold", "open")} for n in HELD_OUT_SETS}
    out = Path(args.out)
    model = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    # The trees see adjacency and anchor themselves; the confidence model depends on the scorer,
    # so rerun bench/calibrate.py --write after this.
    model.update(scorer=scorer, report=report, trained_on=[p.name for p in TRAIN_SETS.values()],
                 adjacency_weight=0.0, anchor_weight=0.0)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(model), encoding="utf-8")
    print(f"wrote {out}; now run bench/calibrate.py --write")


if __name__ == "__main__":
    main()
