"""Support of a reading: the confidence features of the reader's best span, and the rules that
cap its confidence when the evidence cannot hold the fact asked for (another month, another
city, another post, a figure whose measure is not printed).

The features feed the logistic confidence model of qa/answer.py (fitted by bench/calibrate.py);
the rules (`RULE_FACTORS`) multiply its output. Each rule's entry there, and its helper's
docstring, gives how often it is true of right answers in the public benchmark pool.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from qa.candidates import FEATURES, conflicts, coverage, fold, keyword_weights, tokens
from qa.question import QuestionAnalysis
from qa.refine import FIGURE_TYPES, STRICT_TYPES
from qa.text import TITLE_WORD


def confidence_features(qa, hits, X, cands, sents, scores, best: int) -> dict[str, float]:
    """Features of the best candidate for the confidence model (the model names those it uses).

    Besides the scorer's view, they measure support: how much of the question (weighted by
    word length, digits count double) the answering article's retrieved text covers, and
    whether any content word of two or more characters is missing from it altogether.
    """
    hi, k = cands[best][0], cands[best][1]
    others = [scores[i] for i, c in enumerate(cands) if (c[0], c[1]) != (hi, k)]  # other sentences
    margin = float(scores[best] - max(others)) if others else 1.0
    conflict, missing = conflicts(qa, fold(hits[hi].chunk.text), hits[hi].date)
    f = dict(zip(FEATURES, X[best]))
    article = fold("\n".join(h.chunk.text for h in hits if h.chunk.article_id == hits[hi].chunk.article_id)
                   + hits[hi].title)
    weights = keyword_weights(qa)
    content = [w for w in weights if len(w) >= 2 and w != qa.wh_word and not w.isdigit()]
    absent = [w for w in content if w not in article]
    named = [w for w, tag, _, _ in tokens(qa.normalized)
             if len(w) >= 2 and tag.startswith(("nr", "ns", "nt", "nz", "eng", "j")) and w != qa.wh_word]
    nouns = [w for w, tag, _, _ in tokens(qa.normalized) if len(w) >= 2 and tag.startswith("n")]
    sentence = sents[k][3]  # folded already
    span = fold(hits[hi].chunk.text[cands[best][2]:cands[best][3]])
    strict = qa.answer_type in STRICT_TYPES
    return {
        "type_mismatch": float(strict and f["compat"] == 0),
        "absent_entity": float(any(w not in article for w in named)),
        "absent_noun": sum(w not in article for w in nouns) / len(nouns) if nouns else 0.0,
        "sent_absent_noun": sum(w not in sentence for w in nouns) / len(nouns) if nouns else 0.0,
        "adjacency": f["adjacency"], "anchor": f["anchor"], "unit_match": f["unit_match"],
        "score": float(scores[best]), "margin": margin, "sent_cover": f["sent_cover"],
        "sent_char_cover": f["sent_char_cover"], "date_conflict": conflict, "qnum_missing": missing,
        "compat": f["compat"], "hit_rank": f["hit_rank"], "left_align": f["left_align"],
        "right_align": f["right_align"], "art_cover": coverage(weights, article),
        "absent_share": len(absent) / len(content) if content else 0.0,
        "absent_longest": min(max((len(w) for w in absent), default=0), 4) / 4,
        "focus_sent_absent": _absent_share(qa.focus, sentence),
        "focus_art_absent": _absent_share(qa.focus, article),
        "sibling_only": float(any(_siblings(w, article) for w in qa.focus if len(w) >= 3 and w not in article)),
        "unit_clash": float(_unit_clash(qa, span)),
        "figure_focus_absent": float(qa.answer_type in FIGURE_TYPES and _focus_unprinted(qa.focus, sentence)),
        "year_missing": float(bool(_YEAR_ASKED.search(qa.normalized)) and not _YEAR_SAID.search(span)),
        "title_swapped": float(_title_swapped(qa, sentence, cands[best][2] - sents[k][1])),
        "complement_only": float(bool(_complements(qa, sentence))),
        "name_substituted": float(any(_substitutes(w, sentence) for w in named if len(w) >= 3 and w not in article)),
    }


# A count of something that is not time, answered with a date-like span (一周年, 30日); only
# calendar units: a race time (12秒87) or an orbit (15小时) is a fair answer to 成绩/周期是多少.
_TIME_MEASURE = re.compile(r"[0-9零〇一二两三四五六七八九十百千万]+(?:多|余)?(?:周年|年|个月|月|日(?!元)|号|世纪)")
_TIME_ASKED = re.compile(r"年|月|日|天|小时|时间|久|周|岁|分钟|世纪|秒|时候|届|期|龄")
_DATES_SAID = re.compile(r"(?:今|去|明|前|当|每|本|上|下)(?:年|月|届|期)|同期|[0-9零〇一二三四五六七八九十]+(?:年|月份?|日|号)")
# "Which year" answered with a span that prints no year (5月30日, 同年, 今年4): in the pool
# 0 of 346 right answers, 17 of 77 wrong ones.
_YEAR_ASKED = re.compile(r"哪一?年|何年|什么年份|哪个年份")
_YEAR_SAID = re.compile(r"(?:[0-9]{2,4}|[〇零一二三四五六七八九十]{1,4})\s*年|[0-9]{4}")
# Suffixes that make names of one kind (东阳市 and 义乌市, two 公司): a sentence printing
# another name with the asked name's suffix is about that other place or organisation.
_NAME_SUFFIXES = ("公司", "集团", "大学", "学院", "医院", "银行") + tuple("省市县区镇乡村")


def _unit_clash(qa: QuestionAnalysis, span: str) -> bool:
    """True when a count question names no time (its dates aside: 今年, 5月) and the span is a
    number of calendar units. In the pool: 0 of 362 right figure answers, 2 of 86 wrong ones."""
    asked = _DATES_SAID.sub("", qa.normalized)
    return (qa.answer_type in ("number", "quantity") and not _TIME_ASKED.search(asked)
            and bool(_TIME_MEASURE.search(span)))


def _focus_unprinted(focus: Sequence[str], sentence: str) -> bool:
    """True when the question's focus nouns of 3+ characters share not one character pair with
    the evidence sentence (地区生产总值 asked, 总收入 printed). In the pool, for figure
    questions: 3 of 64 right answers with such a focus, 4 of 7 flagged readings wrong."""
    long = [w for w in focus if len(w) >= 3]
    return bool(long) and not any(w[i:i + 2] in sentence for w in long for i in range(len(w) - 1))


def _title_swapped(qa: QuestionAnalysis, sentence: str, start: int) -> bool:
    """True when a person question asks for a post (总经理) its evidence sentence never prints,
    and the name answering it is printed right after another post (董事长谭旭光): the sentence
    names the holder of that other post. In the pool: 0 of 49 right answers to such questions. Not
    for English questions: their Chinese rendering of a post (chairman: 主席) is a guess."""
    asked = [m.group() for m in TITLE_WORD.finditer(qa.normalized)]
    if qa.answer_type != "person" or qa.lang != "zh" or not asked or any(t in sentence for t in asked):
        return False
    before = sentence[max(0, start - 8):start]
    return any(m.end() >= len(before) - 1 for m in TITLE_WORD.finditer(before))


def _complements(qa: QuestionAnalysis, sentence: str) -> list[str]:
    """Words X the question asks about as 非X (非制造业) that the evidence sentence prints only
    without the 非: it reports the complement of what is asked. In the pool: 0 of 27 right
    answers to questions holding 非, 2 of 16 wrong ones."""
    toks = tokens(qa.normalized)
    out = []
    for a, (w, _, _, _) in enumerate(toks):
        x = toks[a + 1][0] if w == "非" and a + 1 < len(toks) else w[1:] if w.startswith("非") and len(w) >= 3 else ""
        if len(x) >= 2 and x in sentence and "非" + x not in sentence:
            out.append(x)
    return out


def _substitutes(name: str, sentence: str) -> list[str]:
    """Words of `sentence` of the name's length and suffix but another name (东阳市 for 义乌市);
    asked only of names the article never prints. In the pool (evidence sentence only): 3 of
    4127 right answers."""
    suffix = next((x for x in _NAME_SUFFIXES if name.endswith(x)), "")
    if not suffix:
        return []
    return [w for w, _, _, _ in tokens(sentence) if len(w) == len(name) and w.endswith(suffix) and w != name]


def _siblings(word: str, folded: str) -> list[str]:
    """Words printed in `folded` of `word`'s length that share all but its first character (its
    last two when shorter): 大型企业, 小型企业 for 中型企业."""
    tail = max(2, len(word) - 1)
    rx = f"[\u4e00-\u9fff]{{{len(word) - tail}}}{re.escape(word[-tail:])}"
    return [m.group() for m in re.finditer(rx, folded) if m.group() != word]


def _absent_share(words: Sequence[str], folded: str) -> float:
    return sum(w not in folded for w in words) / len(words) if words else 0.0


# Confidence factor of each rule (a feature of `confidence_features` that is 1 when it holds),
# for readings about a fact the article cannot hold. Each is too rare in the benchmark pool to be
# learned by the logistic model, so it is applied on top of it; how often it holds of right
# answers in the pool is given with the rule.
RULE_FACTORS: dict[str, float] = {
    "date_conflict": 0.01,  # another month/year than the passage reports (never of a right answer)
    "absent_entity": 0.25,  # a name of the question nowhere in the article (4% of right answers)
    "type_mismatch": 0.25,  # a figure, date or person asked, and the span is none of those
    "sibling_only": 0.01,  # 中型企业 asked, only 大型/小型企业 printed (0-0.2%)
    "unit_clash": 0.1,  # a count of something else answered in calendar units (`_unit_clash`)
    "figure_focus_absent": 0.05,  # the measure of a figure question not printed (`_focus_unprinted`)
    "name_substituted": 0.05,  # 义乌市 asked, only 东阳市 printed (`_substitutes`)
    "title_swapped": 0.05,  # 总经理 asked, the name follows 董事长 (`_title_swapped`)
    "complement_only": 0.01,  # 非制造业 asked, only 制造业 printed (`_complements`)
    "year_missing": 0.1,  # "which year" answered with a span printing no year
}


def rule_factor(feats: dict[str, float]) -> float:
    """Product of RULE_FACTORS[r] over the rules r that hold for the reading (1.0 when none)."""
    return float(np.prod([f for r, f in RULE_FACTORS.items() if feats.get(r)] or [1.0]))
