"""Candidate spans of one sentence (qa/spans.py) on real Chinese news sentences."""
from __future__ import annotations

from qa.candidates import fold, tokens
from qa.spans import enumerations, org_names, sentence_spans


def _spans(sentence: str) -> dict[str, str]:
    f = fold(sentence)
    toks = tokens(f)
    return {sentence[s:e]: kind for s, e, kind, _ in sentence_spans(f, toks, [False] * len(toks))}


def _orgs(sentence: str) -> list[str]:
    f = fold(sentence)
    return [sentence[s:e] for s, e in org_names(f, tokens(f))]


def test_an_organisation_name_jieba_splits_is_read_back_from_its_suffix() -> None:
    # jieba cuts 俊富|集团 and tags 俊富 an adjective; the name stops at 的.
    assert "俊富集团" in _orgs("最终看中了位于高新区的俊富集团。")
    assert _spans("最终看中了位于高新区的俊富集团。")["俊富集团"] == "organization"


def test_an_organisation_name_keeps_its_parenthesised_part() -> None:
    names = _orgs("5月6日，韩企三星(中国)投资有限公司向园区捐赠了一批物资。")
    assert any(n.endswith("三星(中国)投资有限公司") for n in names)
    assert "投资有限公司" not in [n for n in names if n.startswith("(")]


def test_a_bare_suffix_or_a_determiner_is_no_organisation_name() -> None:
    names = _orgs("该公司与全国大学生创业联盟签约，有限公司的股东随后变更。")
    assert "有限公司" not in names and "该公司" not in names


def test_no_span_opens_a_quote_it_does_not_close() -> None:
    spans = _spans("通过聘请产业顾问作为‘伯乐’，为研究院推荐‘千里马’担任项目经理。")
    assert "伯乐" in spans and "千里马" in spans
    assert all(s.count("‘") == s.count("’") for s in spans)


def test_enumerations_are_candidates_only_when_a_list_is_asked() -> None:
    sentence = "今年以来，该区与德国博泰公司、法国凯勒公司签署了合作协议。"
    f = fold(sentence)
    toks = tokens(f)
    listed = {sentence[s:e] for s, e, _, _ in sentence_spans(f, toks, [False] * len(toks), lists=True)}
    assert "德国博泰公司、法国凯勒公司" in listed
    assert "德国博泰公司、法国凯勒公司" not in _spans(sentence)
    # from after 与: the region that signed is not one of the firms
    assert [f[a:b] for a, b in enumerations(f, toks)][-1] == "德国博泰公司、法国凯勒公司"


def test_a_name_between_a_post_and_a_verb_of_saying_is_a_person() -> None:
    # jieba tags 黄|建国 as adjective + place; the news pattern post + name + 指出 names him.
    assert _spans("交通局长黄建国指出，完工后每日可服务约15万人次。").get("黄建国") == "person"
    assert _spans("园区管委会主任林海涛表示，项目将于年底投产。").get("林海涛") == "person"


def test_a_verb_naming_the_trade_belongs_to_the_organisation_name() -> None:
    # jieba tags 出版 a verb; right before 集团 it names the trade, so the name is 浙江出版集团.
    assert "浙江出版集团" in _orgs("由浙江出版集团推出的长篇小说日前在杭州首发。")
