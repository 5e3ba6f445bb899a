"""Candidate spans and their features (qa/candidates.py) on real Chinese news sentences."""
from __future__ import annotations

import pytest

from qa.spans import sentence_spans
from qa.candidates import (asked_unit, complete_number, fold, suffix_class, tokens,
                           unit_match)
from qa.question import analyze_question


def _candidates(sentence: str) -> dict[str, str]:
    """Span text -> kind for every candidate span of one sentence (no question words matched)."""
    f = fold(sentence)
    toks = tokens(f)
    return {sentence[s:e]: kind for s, e, kind, _ in sentence_spans(f, toks, [False] * len(toks))}


def test_a_name_glued_to_a_verb_of_saying_is_split() -> None:
    words = [w for w, *_ in tokens(fold("商场经理周建说，消费市场回暖明显。"))]
    assert "周建" in words and "说" in words and "周建说" not in words


def test_surname_and_given_name_split_by_jieba_form_a_person() -> None:
    spans = _candidates("台州市恒达机械有限公司负责人王飞跃说")
    assert spans.get("王飞跃") == "person"


@pytest.mark.parametrize("sentence, span, kind", [
    ("她曾任第十届省人大代表。", "第十届", "number"),  # an ordinal keeps its 第
    ("在新馆开放三周年之际，馆长接受了采访。", "三周年", "number"),  # a duration keeps its unit
    ("调查显示，63.5%的商户营业额有所增长。", "63.5%", "percent"),
])
def test_numbers_keep_their_prefix_and_unit(sentence: str, span: str, kind: str) -> None:
    assert _candidates(sentence).get(span) == kind


def test_a_span_ending_in_a_figure_takes_the_rest_of_it() -> None:
    text = "9月12日，学校收到捐赠；第二批35家单位完成验收。"
    for part, whole in (("9月12", "9月12日"), ("第二批35", "第二批35家")):
        i = text.index(part)
        s, e = complete_number(text, i, i + len(part))
        assert text[s:e] == whole


def test_the_asked_measure_word_must_follow_the_figure() -> None:
    unit = asked_unit(analyze_question("今年全县为多少家小微企业发放了贷款？"))
    assert unit == "家"
    f = fold("共为356家小微企业发放贷款2.8亿元")
    assert unit_match(unit, f, f.index("356"), f.index("356") + 3) == 1.0
    assert unit_match(unit, f, f.index("2.8"), f.index("2.8") + 5) == 0.0
    assert unit_match(asked_unit(analyze_question("这座大桥全长是多少？")), f, 0, 3) == -1.0


def test_suffix_class_tells_places_from_organisations() -> None:
    assert suffix_class("广东省深圳市南山区") == 1
    assert suffix_class("中国汽车工业协会") == 2
    assert suffix_class("有机蔬菜种植产业") == 0
