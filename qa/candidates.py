"""Answer candidates: spans of the best sentences of the hits, and their features.

The spans of each of the few sentences that share most words with the question come from
qa/spans.py (regex entities, quoted and organisation names, noun phrases, holes, clauses). Each
gets a row of FEATURES for the scorer in qa/answer.py. `fold` is the matching form of text
(same length, so offsets carry over).
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Sequence

import numpy as np

from qa.question import CLASSIFIERS, QuestionAnalysis, date_mentions
from qa.spans import EDGE_STOP, ENTITY_PATTERNS, PUNCT, SPEECH, sentence_spans
from qa.text import normalize, pos_cut, split_sentences
from qa.types import Hit

TOP_SENTENCES = 6  # candidate spans come from this many best-covered sentences (POS cost)

TYPES = ("number", "percent", "money", "quantity", "date", "time", "person", "organization",
         "place", "title", "list", "description", "reason", "yesno", "other")
KINDS = ("number", "percent", "money", "date", "time", "quoted", "person", "place",
         "organization", "np", "hole", "clause")
# Which candidate kinds can answer which question type (2 = the natural kind, 1 = plausible).
_COMPAT: dict[str, dict[str, int]] = {
    "number": {"number": 2, "percent": 1, "money": 1},
    "quantity": {"number": 2, "money": 1},
    "percent": {"percent": 2, "number": 1},
    "money": {"money": 2, "number": 1},
    "date": {"date": 2, "time": 1, "number": 1},
    "time": {"time": 2, "date": 1},
    "person": {"person": 2, "np": 1, "quoted": 1},
    "organization": {"organization": 2, "np": 1, "quoted": 1},
    "place": {"place": 2, "np": 1, "organization": 1},
    "title": {"quoted": 2, "np": 1},
    "list": {"np": 1, "hole": 1, "person": 1, "place": 1, "organization": 1, "quoted": 1},
    "description": {"hole": 1, "clause": 2, "np": 1},
    "reason": {"clause": 2, "hole": 1},
    "yesno": {"clause": 1, "hole": 1},
    "other": {"np": 1, "hole": 1, "quoted": 1, "person": 1, "place": 1, "organization": 1},
}
POS_CLASSES = ("n", "nr", "ns", "nt", "nz", "v", "vn", "a", "m", "q", "eng", "punct", "x", "t", "f", "other")
FEATURES = (
    "qtype", "kind", "compat", "left_align", "right_align", "left_adj", "right_adj", "is_hole",
    "in_hole", "span_qoverlap", "span_has_qword", "span_len", "span_ntok", "span_punct",
    "first_pos", "last_pos", "sent_cover", "sent_char_cover", "sent_rank", "sent_cover_gap",
    "hit_rank", "hit_score_rel", "rel_pos", "dist_qword", "has_digit", "wh_pos", "n_left",
    "n_right", "dense", "clause_start", "clause_end", "adjacency", "anchor", "unit_match",
    "suffix_class",
)
CONF_FEATURES = ("score", "margin", "sent_cover", "sent_char_cover", "date_conflict",
                 "qnum_missing", "compat", "hit_rank", "left_align", "right_align")

# Last characters that mark a place name or an organisation in Chinese (general morphology).
_PLACE_END = set("省市县区镇乡村州国岛山河湖江海路街洲湾港")
_ORG_END = ("公司", "集团", "大学", "学院", "学校", "医院", "委员会", "协会", "中心", "研究院", "研究所",
            "银行", "部", "局", "厅", "署", "社", "党", "队", "团", "台", "报", "馆", "厂", "院", "所", "会")
# The measure word a count question asks for: classifiers, plus nouns used as units (多少人, 几岁).
_ASKED_UNIT = re.compile(f"[{CLASSIFIERS}人岁天年]")


def fold(text: str) -> str:
    """`normalize` (NFKC, lower, traditional->simplified) that keeps the length of `text`."""
    out = normalize(text)
    if len(out) == len(text):
        return out
    return "".join(c if len(f := normalize(c)) != 1 else f for c in text)


def _pos_class(tag: str, word: str) -> int:
    if tag == "x":
        return POS_CLASSES.index("punct" if all(c in PUNCT or c.isspace() for c in word) else "x")
    for k, c in ((("nr",), "nr"), (("ns",), "ns"), (("nt",), "nt"), (("nz",), "nz"), (("vn",), "vn"), (("eng",), "eng")):
        if tag.startswith(k):
            return POS_CLASSES.index(c)
    return POS_CLASSES.index(tag[0]) if tag[:1] in ("n", "v", "a", "m", "q", "t", "f") else POS_CLASSES.index("other")


@lru_cache(maxsize=8192)
def tokens(folded: str) -> tuple[tuple[str, str, int, int], ...]:
    """(word, tag, start, end) of a folded sentence; cached because POS tagging dominates cost."""
    out, pos = [], 0
    for w, f in pos_cut(folded):
        i = folded.find(w, pos)
        if i < 0:
            continue
        if f.startswith("nr") and len(w) >= 3 and w[-1] in SPEECH:
            # jieba glues a verb of saying to a name it does not know (文韬说): split it off.
            out += [(w[:-1], f, i, i + len(w) - 1), (w[-1], "v", i + len(w) - 1, i + len(w))]
        else:
            out.append((w, f, i, i + len(w)))
        pos = i + len(w)
    return tuple(out)



def keyword_weights(qa: QuestionAnalysis) -> dict[str, float]:
    return {w: min(len(w), 4) + (1.0 if any(c.isdigit() for c in w) else 0.0) for w in qa.keywords}


def coverage(weights: dict[str, float], folded: str) -> float:
    total = sum(weights.values())
    return sum(v for w, v in weights.items() if w in folded) / total if total else 0.0


def _qchars(qa: QuestionAnalysis) -> set[str]:
    wh = set(qa.wh_word)
    return {c for c in qa.normalized if c.isalnum() and c not in wh and c not in "的是了在和与吗呢么哪什谁几多少"}


def conflicts(qa: QuestionAnalysis, folded: str, hit_date: str) -> tuple[float, float]:
    """(date_conflict, share of question numbers missing from the passage)."""
    conflict = 0.0
    if qa.date_mentions:
        have = set(date_mentions(folded))
        m = re.match(r"(?:(\d{4})-)?(\d{2})(?:-(\d{2}))?$", hit_date or "")
        if m and m.group(2) and not have:
            have.add(("month", int(m.group(2))))
        for kind, v in qa.date_mentions:
            same = {x for k, x in have if k == kind}
            if same and v not in same:
                conflict = 1.0
    nums = re.findall(r"[0-9]+(?:\.[0-9]+)?", qa.normalized)
    missing = sum(1 for n in nums if n not in folded) / len(nums) if nums else 0.0
    return conflict, missing


def _align(toks: tuple, matched_words: list[str], q_words: set[str], start: int, end: int, before: bool) -> float:
    """Proximity-weighted share of context words found before (or after) the span: sum w*exp(-d/8)."""
    if not q_words:
        return 0.0
    total = sum(min(len(w), 4) for w in q_words)
    got = 0.0
    for (w, _, s, e), m in zip(toks, matched_words):
        if not m or m not in q_words:
            continue
        if before and e <= start:
            got += min(len(m), 4) * math.exp(-(start - e) / 8)
        elif not before and s >= end:
            got += min(len(m), 4) * math.exp(-(s - end) / 8)
    return min(got / total, 1.0)


def _match_word(w: str, kw: set[str], qnorm: str) -> str:
    """The question word a sentence token stands for ('' when none)."""
    if w in kw:
        return w
    if len(w) >= 2 and w in qnorm and w not in EDGE_STOP:
        return w
    for k in kw:
        if len(k) >= 2 and (k in w or w in k and len(w) >= 2):
            return k
    return ""


def asked_unit(qa: QuestionAnalysis) -> str:
    """The measure word right after 多少/几 in the question (家 in 多少家企业), or ''."""
    if not qa.wh_word.startswith(("多少", "几")):
        return ""
    m = _ASKED_UNIT.match(qa.normalized, qa.wh_end)
    return m.group() if m else ""


def unit_match(unit: str, folded: str, s: int, e: int) -> float:
    """-1 when the question asks no measure word; 1 when the span's number is followed by it
    (inside the span or right after it), else 0."""
    if not unit:
        return -1.0
    m = re.search(r"[0-9零〇一二两三四五六七八九十百千万亿]+(?:多|余)?", folded[s:e])
    if not m:
        return 0.0
    tail = folded[s + m.end(): s + m.end() + 2]
    return float(tail[:1] == unit or tail[1:2] == unit and tail[:1] in "个")


def suffix_class(span: str) -> int:
    """1 when the span ends like a place name (省, 市, 镇 ...), 2 like an organisation (公司,
    大学, 局 ...), else 0."""
    if span.endswith(_ORG_END):
        return 2
    return 1 if span[-1:] in _PLACE_END else 0


_LIST_ASKED = re.compile(r"哪[两二三四五六七八九几些]|什么和什么")


def build_candidates(qa: QuestionAnalysis, hits: Sequence[Hit], dense: dict[int, float] | None = None):
    """(feature matrix, candidate list, sentence list); a candidate is (hit i, sent j, start, end, kind)."""
    weights = keyword_weights(qa)
    qchars = _qchars(qa)
    sents = []  # (hit index, start, end, folded, cover, char_cover)
    for hi, h in enumerate(hits):
        for s, e in split_sentences(h.chunk.text):
            f = fold(h.chunk.text[s:e])
            cc = len(qchars & set(f)) / len(qchars) if qchars else 0.0
            sents.append((hi, s, e, f, coverage(weights, f), cc))
    if not sents:
        return np.zeros((0, len(FEATURES))), [], []
    key = [(x[4] + 0.5 * x[5] - 0.03 * x[0] + (0.5 * dense.get(k, 0.0) if dense else 0.0)) for k, x in enumerate(sents)]
    order = sorted(range(len(sents)), key=lambda k: -key[k])
    rank_of = {k: r for r, k in enumerate(order)}
    best_cover = max(x[4] for x in sents)
    top_score = max((h.score for h in hits), default=1.0) or 1.0
    kw, qn = set(qa.keywords), qa.normalized
    left, right = set(qa.left_context), set(qa.right_context)
    qtype = TYPES.index(qa.answer_type) if qa.answer_type in TYPES else TYPES.index("other")
    wh_pos = qa.wh_start / max(len(qn), 1)
    unit = asked_unit(qa)
    lists = qa.answer_type == "list" or bool(_LIST_ASKED.search(qa.normalized))
    rows, cands = [], []
    for k in order[:TOP_SENTENCES]:
        hi, ss, se, f, cover, cc = sents[k]
        toks = tokens(f)
        mw = [_match_word(w, kw, qn) for w, _, _, _ in toks]
        matched = [bool(m) for m in mw]
        qpos = [(s, e) for (w, _, s, e), m in zip(toks, matched) if m]
        spans = sentence_spans(f, toks, matched, lists=lists)
        holes = [(s, e) for s, e, _, h in spans if h]
        for s, e, kind, is_hole in spans:
            span = f[s:e]
            inside = [t for t in toks if t[2] >= s and t[3] <= e] or [t for t in toks if t[2] < e and t[3] > s]
            before = f[:s].rstrip(" 的是为了：:于在")
            after = f[e:].lstrip(" 的是为了")
            prev_tok = next((m for (w, _, _, te), m in zip(reversed(toks), reversed(mw)) if te <= len(before) and w not in EDGE_STOP), "")
            next_tok = next((m for (w, _, ts, _), m in zip(toks, mw) if ts >= len(f) - len(after) and w not in EDGE_STOP), "")
            d = min([abs(s - qe) for _, qe in qpos if qe <= s] + [abs(qs - e) for qs, _ in qpos if qs >= e] + [30])
            rows.append((
                qtype, KINDS.index(kind), _COMPAT.get(qa.answer_type, {}).get(kind, 0),
                _align(toks, mw, left, s, e, True), _align(toks, mw, right, s, e, False),
                float(bool(prev_tok)), float(bool(next_tok)), float(is_hole),
                float(any(a <= s and e <= b for a, b in holes)),
                sum(1 for c in span if c in qchars) / len(span), float(any(w in span for w in kw if len(w) >= 2)),
                len(span), len(inside), float(any(c in "，,、；;" for c in span)),
                _pos_class(inside[0][1], inside[0][0]) if inside else 15,
                _pos_class(inside[-1][1], inside[-1][0]) if inside else 15,
                cover, cc, rank_of[k], best_cover - cover, hi, hits[hi].score / top_score if top_score > 0 else 0.0,
                s / max(len(f), 1), d, float(any(c.isdigit() for c in span)), wh_pos, len(left), len(right),
                dense.get(k, 0.0) if dense else 0.0,
                float(s == 0 or f[s - 1] in PUNCT), float(e == len(f) or f[e] in PUNCT),
                adjacency(qa, f, s, e), anchor(qa, f, s), unit_match(unit, f, s, e), suffix_class(span),
            ))
            cands.append((hi, k, ss + s, ss + e, kind))
    return np.asarray(rows, float), cands, sents


_KEEP = re.compile(r"[0-9a-z\u4e00-\u9fff]")
LINK_CHARS = "是为有的了达在于到至"  # copulas and particles between a context word and its value


def clean(text: str) -> str:
    return "".join(c for c in text if _KEEP.match(c))


def common_suffix(a: str, b: str) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def adjacency(qa: QuestionAnalysis, folded: str, s: int, e: int) -> float:
    """How exactly the question's words next to the wh-word frame the span, in [0, 1].

    Question L + WH + R, sentence A + span + B (punctuation dropped, copulas like 是/为 trimmed
    at the joins): the longest common suffix of L and A plus the longest common prefix of R and
    B, in characters, each capped at 6, over 12. "5月份制造业PMI是[多少]" and "指数(PMI)为[50.6%]"
    share "pmi" on the left: 3/12.
    """
    # Character counts as the ranker was trained with them (not `frame`'s whole words).
    q = qa.normalized
    pre = common_suffix(clean(q[: qa.wh_start]).rstrip(LINK_CHARS), clean(folded[:s]).rstrip(LINK_CHARS))
    post = common_suffix(clean(q[qa.wh_end :]).lstrip(LINK_CHARS)[::-1], clean(folded[e:]).lstrip(LINK_CHARS)[::-1])
    return (min(pre, 6) + min(post, 6)) / 12


def anchor(qa: QuestionAnalysis, folded: str, s: int) -> float:
    """Length (capped at 4, over 4) of the longest question word of 2+ characters printed right
    before the span, punctuation and copulas skipped: 院长[刘庆], 江苏“[不见面审批]”."""
    before = clean(folded[:s]).rstrip(LINK_CHARS)
    return min(max((len(w) for w in qa.keywords if len(w) >= 2 and before.endswith(clean(w))),
                   default=0), 4) / 4


_TRAILING_NUMBER = re.compile(r"(?:约|近|超过|逾)?[0-9][0-9,.]*$")


def complete_number(text: str, s: int, e: int) -> tuple[int, int]:
    """Extend a span that ends in a bare number to the unit printed right after it (50.6 ->
    50.6%, 7.1 -> 7.1亿元, 8000 -> 8000人, 4月30 -> 4月30日): a figure without its unit is not
    the answer. The number or date is matched from the span's start, else from its last figure."""
    m = _TRAILING_NUMBER.search(fold(text[s:e]))
    if not m:
        return s, e
    for start in dict.fromkeys((s, s + m.start())):
        window = fold(text[start : min(len(text), e + 12)])
        ends = [x.end() for _, rx in ENTITY_PATTERNS for x in [rx.match(window)] if x and start + x.end() > e]
        if ends:
            return s, start + max(ends)
    return s, e
