"""The extractive reader: score the candidate spans of the hits, pick one, or abstain.

Candidates and their features come from qa/candidates.py. A learned ranker (LambdaMART trees in
JSON, no pickle) rates each candidate, and the news rules of qa/refine.py may move its choice; a
logistic model over the support features of qa/support.py, times its rule factors, turns the
best one into a calibrated confidence compared with the threshold.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from qa.candidates import (CONF_FEATURES, FEATURES, adjacency, anchor, build_candidates, clean,
                           complete_number, conflicts, fold)
from qa.question import QuestionAnalysis, analyze_question
from qa.refine import (FIGURE_TYPES, SPECIFIC_TYPES, prefer_copula_subject, prefer_counted_list,
                       prefer_exact_frame, prefer_named_head, prefer_named_org, prefer_typed_inner,
                       resolve_respectively, respectively_pairs, trim_function_words)
from qa.structured import read_structure
from qa.support import confidence_features, rule_factor
from qa.text import split_sentences
from qa.types import Answer, Hit, Source

MODEL_PATH = Path(__file__).parent / "models" / "answer_scorer.json"
_FALLBACK_THRESHOLD = 0.1  # used only when the model file is absent
ADJACENCY_WEIGHTS: tuple[float, float] | None = None  # None: the model file's; set when tuning


@lru_cache(maxsize=1)
def load_model(path: str = str(MODEL_PATH)) -> dict[str, Any] | None:
    """The scorer JSON (trees, confidence coefficients, threshold) or None when absent."""
    p = Path(path)
    if not p.exists():
        return None
    return json.loads(p.read_text(encoding="utf-8"))


def tree_predict(model: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """Sum of the exported trees' leaf values plus the baseline, per row of X (x <= threshold
    goes left): the LambdaMART ranking score of each candidate."""
    out = np.full(len(X), float(model["baseline"]))
    rows = np.arange(len(X))
    for t in model["trees"]:
        feat, thr = np.asarray(t["feature"]), np.asarray(t["threshold"])
        left, right = np.asarray(t["left"]), np.asarray(t["right"])
        leaf, value = np.asarray(t["is_leaf"], bool), np.asarray(t["value"])
        node = np.zeros(len(X), int)
        for _ in range(64):
            active = ~leaf[node]
            if not active.any():
                break
            x = X[rows, feat[node]]
            go_left = x <= thr[node]
            node = np.where(active, np.where(go_left, left[node], right[node]), node)
        out += value[node]
    return out


def _fallback_score(X: np.ndarray) -> np.ndarray:
    """Hand-set linear score used only when no trained model file exists."""
    f = {n: X[:, i] for i, n in enumerate(FEATURES)}
    return (0.3 * f["compat"] + f["left_align"] + f["right_align"] + 0.5 * f["left_adj"]
            + 0.3 * f["right_adj"] + f["sent_cover"] - 0.8 * f["span_qoverlap"] - 0.02 * f["span_len"]
            - 0.1 * f["hit_rank"]) / 4


def _dense_scores(embedder, qa: QuestionAnalysis, hits: Sequence[Hit]) -> dict[int, float]:
    """Cosine similarity of the question with the first 16 sentences of the two best hits
    (sentence index, numbered as `build_candidates` numbers them -> similarity)."""
    sents = [(hi, s, e) for hi, h in enumerate(hits) for s, e in split_sentences(h.chunk.text)]
    top = [k for k, (hi, _, _) in enumerate(sents) if hi < 2][:16]
    if not top:
        return {}
    q = np.asarray(embedder.encode_queries([qa.text]))[0]
    p = np.asarray(embedder.encode_passages([hits[sents[k][0]].chunk.text[sents[k][1]:sents[k][2]] for k in top]))
    return {k: float(v) for k, v in zip(top, p @ q)}


def score_candidates(qa: QuestionAnalysis, hits: Sequence[Hit], X: np.ndarray, cands: list) -> np.ndarray:
    """Scorer output per candidate, plus adjacency_weight x `adjacency` + anchor_weight x
    `anchor` (weights tuned on the benchmark pool by bench/tune_reader.py); passages whose dates
    contradict the question lose to every passage that does not, and spans that repeat words
    of the question lose to every other span."""
    model = load_model()
    scores = tree_predict(model["scorer"], X) if model else _fallback_score(X)
    w_adj, w_anchor = ADJACENCY_WEIGHTS or ((model or {}).get("adjacency_weight", 0.0),
                                            (model or {}).get("anchor_weight", 0.0))
    if (w_adj or w_anchor) and len(X):
        folded = {hi: fold(h.chunk.text) for hi, h in enumerate(hits)}
        scores = scores + np.asarray([w_adj * adjacency(qa, folded[c[0]], c[2], c[3])
                                      + w_anchor * anchor(qa, folded[c[0]], c[2]) for c in cands])
    if len(X):
        # A span the question already states (原因 for 主要原因是什么) is never the answer.
        echoed = [clean(fold(hits[c[0]].chunk.text[c[2]:c[3]])) for c in cands]
        scores = scores - 100.0 * np.asarray([bool(t) and t in clean(qa.normalized) for t in echoed])
    if qa.date_mentions and len(X):
        pen = {hi: conflicts(qa, fold(h.chunk.text), h.date)[0] for hi, h in enumerate(hits)}
        if not all(pen[c[0]] for c in cands):
            # Some passage agrees with the question's date: passages reporting another
            # month or year are not read at all (their figures belong to another period).
            scores = scores - 100.0 * np.asarray([pen[c[0]] for c in cands])
    return scores


# English questions over Chinese text: word-overlap features say nothing, so confidence comes
# from how close the best sentence is to the question. Not fitted to data (the public pool has
# no English questions): on a handful of hand-written English questions about Chinese news the
# bundled e5 model put the right sentence at 0.77-0.78 and the best sentence for a question the
# articles cannot answer at 0.75-0.755, a narrow gap, hence the steep slope.
EN_SIM_MIDPOINT = 0.765
EN_SIM_SCALE = 300.0


def _confidence(feats: dict[str, float]) -> float:
    """Logistic model: sigmoid(intercept + sum coef_i * feature_i) over the model's features;
    for English questions that could not be bridged to Chinese words (qa/crosslingual.py)
    sigmoid(300 x (best sentence similarity - 0.765)) x type compatibility
    (x0.25 when the span is not of the asked kind) x0.1 when the passage lacks every figure
    the question prints."""
    if "dense_top" in feats:
        z = EN_SIM_SCALE * (feats["dense_top"] - EN_SIM_MIDPOINT)
        # Names in an English question are spelt in Latin letters, so absent_entity says nothing;
        # its figures are not (in 2019): all of them missing from the passage means another topic.
        rules = (0.01 if feats["date_conflict"] else 1.0) * (0.1 if feats["qnum_missing"] >= 1 else 1.0)
        return float(rules * (1.0 if feats["compat"] else 0.25) / (1 + math.exp(-z)))
    model = load_model()
    if not model:
        z = (4 * feats["score"] + 3 * feats["sent_cover"] - 2 * feats["qnum_missing"]
             - 2 * feats["absent_share"] - 2)
        return float(rule_factor(feats) / (1 + math.exp(-z)))
    c = model["confidence"]
    names = model.get("conf_features", CONF_FEATURES)
    z = c["intercept"] + sum(w * feats[n] for w, n in zip(c["coef"], names))
    return float(rule_factor(feats) / (1 + math.exp(-z)))


def default_threshold() -> float:
    """The calibrated abstention threshold stored with the model (0.1 when there is no model)."""
    model = load_model()
    return float(model.get("threshold", _FALLBACK_THRESHOLD)) if model else _FALLBACK_THRESHOLD


DEFAULT_THRESHOLD = default_threshold()


def hit_source(h: Hit, start: int, end: int) -> Source:
    """A citation of `h` whose cited span is [start, end) of its article."""
    return Source(title=h.title, paths=h.paths, article_id=h.chunk.article_id, start=start, end=end,
                  score=h.score, date=h.date, dateline=h.dateline, passage=h.chunk.text)


@dataclass(frozen=True)
class Reading:
    """The reader's best candidate: hit index, sentence span and answer span (chunk offsets)."""

    hit: int
    sentence: tuple[int, int]
    span: tuple[int, int]
    features: dict


def _english_mask(answer_type: str, X: np.ndarray, cands: list, dense: dict[int, float] | None,
                  scores: np.ndarray, bridged: bool) -> np.ndarray:
    """English questions: only spans of the best available kind for the asked type compete
    ("who" still wants a name), and unless the question was bridged to Chinese words
    (qa/crosslingual.py) only in the sentence most similar to the question (word-overlap
    features, which the scorer leans on, are blind across languages)."""
    if bridged:  # the Chinese words it means align the sentence as for a Chinese question
        in_top = np.ones(len(cands), bool)
    else:
        top = max(dense, key=dense.get)
        in_top = np.asarray([c[1] == top for c in cands])
    if answer_type not in SPECIFIC_TYPES:
        return np.where(in_top, scores, -np.inf)  # "what was ..." may want a figure or a name
    compat = X[:, FEATURES.index("compat")]
    best_kind = compat[in_top].max() if in_top.any() else 0.0
    if answer_type in FIGURE_TYPES:
        best_kind = min(best_kind, 1.0)  # "what was the index" may be a percent, a count or a sum
    return np.where(in_top & (compat >= best_kind), scores, -np.inf)


def read(qa: QuestionAnalysis, hits: Sequence[Hit], embedder=None) -> Reading | None:
    """Score every candidate span of the hits; the best one with its confidence features."""
    # Word overlap cannot place an English question in Chinese text unless it was bridged to
    # Chinese words; only then is the (slower, up to 16 sentence embeddings) dense sentence
    # similarity worth its cost.
    bridged = qa.lang == "en" and any("\u4e00" <= c <= "\u9fff" for w in qa.keywords for c in w)
    use_dense = embedder is not None and hits and qa.lang == "en" and not bridged
    dense = _dense_scores(embedder, qa, hits) if use_dense else None
    X, cands, sents = build_candidates(qa, hits, dense)
    if not cands:
        return None
    scores = score_candidates(qa, hits, X, cands)
    if qa.lang == "en" and (dense or bridged):
        scores = _english_mask(qa.answer_type, X, cands, dense, scores, bridged)
        if not np.isfinite(scores).any():
            return None
    best = prefer_typed_inner(qa.answer_type, X, cands, sents, scores)
    best = prefer_named_org(qa.answer_type, X, cands, scores, best)
    best = prefer_named_head(qa, cands, sents, scores, best)
    best = prefer_counted_list(qa, cands, sents, scores, best)
    best = prefer_copula_subject(qa, cands, sents, best)
    best = prefer_exact_frame(qa, X, cands, sents, scores, best)
    hi, k, s, e, _ = cands[best]
    _, ss, se, folded, _, _ = sents[k]
    pairs = respectively_pairs(folded, s - ss, e - ss)
    if pairs and (pick := resolve_respectively(qa, pairs)) is not None:
        s, e = (ss + x for x in pairs[pick][1])  # A和B分别为X和Y: the asked item's value
    elif cands[best][4] in ("hole", "clause", "np"):
        s, e = (ss + x for x in trim_function_words(folded, s - ss, e - ss))
    s, e = complete_number(hits[hi].chunk.text[:se], s, e)
    features = confidence_features(qa, hits, X, cands, sents, scores, best)
    if dense and not bridged:
        # Only unbridged English questions need the similarity-based confidence: a bridged one
        # carries the Chinese words of the passages, so the overlap features mean what the
        # calibrated model was fitted on.
        ranked = sorted(dense.values(), reverse=True)
        features.update(dense_top=ranked[0], dense_margin=ranked[0] - (ranked[1] if len(ranked) > 1 else 0.0))
    return Reading(hi, (ss, se), (s, e), features)


def select_answer(question: str, hits: Sequence[Hit], *, embedder=None, threshold: float = DEFAULT_THRESHOLD,
                  rewritten_question: str = "", analysis: QuestionAnalysis | None = None) -> Answer:
    """The best-scoring span of the hits as an Answer, or an abstention with the closest passages.

    `analysis` is the question as the retriever understood it (an English question bridged to
    Chinese words); by default the question is analysed here. Abstains when no candidate exists
    or the calibrated confidence is below `threshold`.
    """
    hits = tuple(hits)
    qa = analysis or analyze_question(rewritten_question or question)
    located = read_structure(qa, hits)
    reading = Reading(*located) if located else read(qa, hits, embedder)
    conf = reading.features.get("structure") or _confidence(reading.features) if reading else 0.0
    if reading is None or conf < threshold:
        srcs = tuple(hit_source(h, h.chunk.start, h.chunk.end) for h in hits)
        return Answer(question=question, text="", confidence=conf, abstained=True, sources=srcs,
                      rewritten_question=rewritten_question, answer_type=qa.answer_type, hits=hits)
    h = hits[reading.hit]
    (ss, se), (s, e) = reading.sentence, reading.span
    base = h.chunk.start
    others = tuple(hit_source(x, x.chunk.start, x.chunk.end) for j, x in enumerate(hits) if j != reading.hit)
    return Answer(
        question=question, text=h.chunk.text[s:e], confidence=conf, abstained=False,
        evidence=h.chunk.text[ss:se], sources=(hit_source(h, base + s, base + e),) + others,
        rewritten_question=rewritten_question, start=base + s, end=base + e,
        evidence_start=base + ss, evidence_end=base + se, date=h.date, answer_type=qa.answer_type, hits=hits,
    )
