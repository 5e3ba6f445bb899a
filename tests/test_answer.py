"""The extractive reader on small hand-written news passages (no embedding model needed)."""
from __future__ import annotations


import pytest

from qa.answer import DEFAULT_THRESHOLD, select_answer
from qa.types import Chunk, Hit

ECONOMY = (
    "本报讯 国家统计局服务业调查中心7月15日发布数据显示，6月份制造业采购经理指数（PMI）为49.7%，"
    "比上月上升0.2个百分点。从企业规模看，大型企业PMI为50.9%，中型企业PMI为48.6%，小型企业PMI为47.9%。"
    "同日发布的非制造业商务活动指数为53.1%，继续位于扩张区间。"
)
CITY = (
    "记者从绍兴市人民政府获悉，今年上半年全市新设立外资企业126家，实际使用外资8.6亿美元。"
    "为稳住市场主体，绍兴市出台了18项惠企政策，累计为企业减免社保费用12.4亿元。"
    "市长李明华表示，全市将在9月1日前完成第二批助企资金的发放。"
)
CULTURE = (
    "由浙江出版集团推出的长篇小说《江南织造》日前在杭州首发。作者陈雨桐历时五年完成创作，"
    "全书共42万字，讲述了三代丝绸匠人坚守技艺的故事。首发式在杭州图书馆举行，现场有300多名读者参加。"
)
TRADITIONAL = (
    "臺北市政府交通局10月8日宣布，捷運環狀線第二階段工程預計於2028年完工，"
    "總經費約新臺幣920億元。交通局長黃建國指出，完工後每日可服務約15萬人次。"
)
REASON = (
    "受持续降雨影响，本周蔬菜价格明显上涨。农业农村部门分析认为，价格上涨的主要原因是产区运输受阻，"
    "部分地区蔬菜供应量下降了两成。"
)


def _hit(text: str, rank: int = 1, *, prefix: str = "", date: str = "", title: str = "测试新闻") -> tuple[Hit, str]:
    """A Hit whose chunk sits after `prefix` in its article; returns (hit, article text)."""
    article = prefix + text
    chunk = Chunk(chunk_id=f"c{rank}", article_id=f"a{rank}-{len(prefix)}", title=title, text=text,
                  start=len(prefix), end=len(article), position=0)
    return Hit(chunk=chunk, score=1.0 / rank, rank=rank, title=title, paths=(f"news{rank}.txt",), date=date), article


def _ask(question: str, *texts: str, **kw):
    hits = [_hit(t, i + 1)[0] for i, t in enumerate(texts)]
    return select_answer(question, hits, **kw)


@pytest.mark.parametrize("question, expected, typ", [
    ("6月份制造业PMI为多少？", "49.7%", "number"),  # percent; alignment beats the other numbers
    ("6月份小型企业PMI是多少？", "47.9%", "number"),  # framed by 小型企业PMI, not 中型企业PMI
    ("绍兴市上半年实际使用外资多少美元？", "8.6亿美元", "money"),
    ("绍兴市出台了多少项惠企政策？", "18项", "quantity"),
    ("今年上半年绍兴新设立外资企业多少家？", "126家", "quantity"),
    ("第二批助企资金什么时候发放完毕？", "9月1日", "date"),
    pytest.param("绍兴市的市长是谁？", "李明华", "person", marks=pytest.mark.xfail(reason="reader v1: learned scorer misses this case", strict=False)),
    ("小说《江南织造》是由哪个出版集团推出的？", "浙江出版集团", "organization"),
    ("《江南织造》的首发式在哪里举行？", "杭州图书馆", "place"),
    pytest.param("陈雨桐历时五年创作了哪部长篇小说？", "《江南织造》", "title", marks=pytest.mark.xfail(reason="reader v1: learned scorer misses this case", strict=False)),
])
def test_answer_types_and_alignment(question: str, expected: str, typ: str) -> None:
    a = _ask(question, ECONOMY, CITY, CULTURE)
    assert not a.abstained
    assert a.answer_type == typ
    assert expected.strip("《》") in a.text and len(a.text) <= len(expected) + 4
    assert a.text in a.evidence


def test_description_answer_is_the_reason_clause() -> None:
    a = _ask("本周蔬菜价格上涨的主要原因是什么？", REASON, ECONOMY)
    assert not a.abstained
    assert "运输受阻" in a.text


def test_offsets_index_the_article_text() -> None:
    hit, article = _hit(CITY, prefix="标题行\n导语一段。\n")
    a = select_answer("绍兴市累计为企业减免了多少社保费用？", [hit])
    assert a.text == "12.4亿元"
    assert article[a.start:a.end] == a.text
    assert article[a.evidence_start:a.evidence_end] == a.evidence
    assert a.sources[0].start == a.start and a.sources[0].article_id == hit.chunk.article_id
    assert a.sources[0].passage == CITY


def test_absent_facts_abstain_with_closest_passages() -> None:
    for q in ("8月份制造业PMI为多少？", "宁波市出台了多少项惠企政策？", "今年全国粮食总产量是多少吨？"):
        a = _ask(q, ECONOMY, CITY)
        assert a.abstained, (q, a.text, a.confidence)
        assert a.text == "" and a.confidence < DEFAULT_THRESHOLD
        assert [s.passage for s in a.sources] == [ECONOMY, CITY]


def test_answered_question_has_higher_confidence_than_absent_one() -> None:
    good = _ask("6月份中型企业PMI为多少？", ECONOMY, CITY)
    bad = _ask("9月份中型企业PMI为多少？", ECONOMY, CITY)
    assert good.confidence > DEFAULT_THRESHOLD > bad.confidence


def test_date_of_the_hit_decides_between_figures() -> None:
    may = "制造业采购经理指数（PMI）为50.2%，比上月小幅回升。"
    june = "制造业采购经理指数（PMI）为49.5%，比上月有所回落。"
    h_may, _ = _hit(may, 1, date="2023-05-31")
    h_june, _ = _hit(june, 2, date="2023-06-30")
    a = select_answer("6月份制造业PMI为多少？", [h_may, h_june])
    assert a.text == "49.5%" and a.date == "2023-06-30"


def test_traditional_text_stays_traditional() -> None:
    a = _ask("捷運環狀線第二階段工程的總經費是多少？", TRADITIONAL)
    assert not a.abstained and a.text in ("新臺幣920億元", "920億元")
    a = _ask("交通局長是誰？", TRADITIONAL)
    assert a.text == "黃建國"


def test_english_question_gets_a_span() -> None:
    a = _ask("What was the PMI of large enterprises (大型企业) in June?", ECONOMY)
    assert a.text == "" or a.text in ECONOMY


def test_rewritten_question_is_used_and_reported() -> None:
    a = select_answer("那小型企业呢？", [_hit(ECONOMY)[0]], rewritten_question="6月份小型企业PMI是多少？")
    assert a.text == "47.9%" and a.rewritten_question == "6月份小型企业PMI是多少？"


def test_no_hits_abstain() -> None:
    a = select_answer("6月份制造业PMI为多少？", [])
    assert a.abstained and a.sources == ()


def test_a_bare_number_takes_its_unit() -> None:
    from qa.answer import complete_number

    text = "今年前三季度，全市新增就业岗位3.2万个，失业率为4.1%，较去年下降0.3个百分点。"
    for bare, whole in (("3.2", "3.2万个"), ("4.1", "4.1%"), ("0.3", "0.3个百分点")):
        i = text.index(bare)
        s, e = complete_number(text, i, i + len(bare))
        assert text[s:e] == whole
    i = text.index("全市")
    assert complete_number(text, i, i + 2) == (i, i + 2)  # not a number: unchanged


def test_english_who_question_reads_only_names_in_the_closest_sentence() -> None:
    import numpy as np

    from qa.answer import _english_mask, score_candidates
    from qa.candidates import build_candidates
    from qa.question import analyze_question

    hits = [_hit(CITY)[0]]
    qa = analyze_question("Who is the mayor of Shaoxing?")
    dense = {0: 0.70, 1: 0.72, 2: 0.80}  # the third sentence (市长李明华表示…) is the closest
    X, cands, _ = build_candidates(qa, hits, dense)
    scores = _english_mask(qa.answer_type, X, cands, dense, score_candidates(qa, hits, X, cands), False)
    kept = {CITY[c[2]:c[3]] for c, v in zip(cands, scores) if np.isfinite(v)}
    assert "李明华" in kept and all(c[1] == 2 and c[4] == "person" for c, v in zip(cands, scores) if np.isfinite(v))
    # The ranker trained on the train files only picks the name, sometimes with its title.
    assert CITY[cands[int(np.argmax(scores))][2]:cands[int(np.argmax(scores))][3]] in ("李明华", "市长李明华")
    # "What was ..." names no kind of answer: every span of the closest sentence stays in play.
    qa = analyze_question("What did Shaoxing introduce to stabilise businesses?")
    X, cands, _ = build_candidates(qa, hits, {0: 0.7, 1: 0.8})
    scores = _english_mask(qa.answer_type, X, cands, {0: 0.7, 1: 0.8}, score_candidates(qa, hits, X, cands), False)
    assert {c[4] for c, v in zip(cands, scores) if np.isfinite(v)} >= {"number", "np"}


def test_respectively_pairs_each_item_with_its_value() -> None:
    text = "海关统计显示，一季度全市进口和出口分别增长8.1%和12.6%，均高于全省平均水平。"
    assert _ask("一季度全市出口增长了多少？", text).text == "12.6%"
    assert _ask("一季度全市进口增长了多少？", text).text == "8.1%"


def test_a_name_glued_to_a_verb_is_cut_from_it() -> None:
    text = "绍兴市统计局副局长王海涛介绍，上半年全市规模以上工业增加值同比增长6.8%。"
    assert _ask("绍兴市统计局副局长是谁？", text).text == "王海涛"


def test_a_generic_change_verb_matches_the_printed_one() -> None:
    text = "一季度全市城镇居民人均可支配收入为15620元，比上年同期增长6.3%。"
    assert _ask("一季度全市城镇居民人均可支配收入比上年同期变化了多少？", text).text == "6.3%"


@pytest.mark.xfail(reason="ranker trained on the train files only (2026-12-02) misses this; the dev-set one did not",
                   strict=False)
def test_a_quoted_name_printed_after_the_place_asked_about() -> None:
    text = ("各地探索出一批创新经验，如杭州“最多跑一次”、宁波“甬易办”、温州“企业码”等，"
            "已经成为全省数字化改革的样板。")
    assert _ask("宁波探索出的创新经验是什么？", text).text.strip("“”") == "甬易办"
    assert _ask("“企业码”是哪个城市的创新经验？", text).text == "温州"


def test_function_words_at_the_edges_are_trimmed() -> None:
    from qa.refine import trim_function_words
    from qa.candidates import fold

    text = "该市已在新能源、新材料、生物医药等领域布局了一批创新平台。"
    s, e = text.index("已在"), text.index("领域")
    a, b = trim_function_words(fold(text), s, e)
    assert text[a:b] == "新能源、新材料、生物医药"


def test_which_building_is_answered_with_a_span_naming_a_building() -> None:
    # 哪栋楼: the span should end in 楼, not be the quoted label elsewhere in the sentence.
    text = ("记者来到位于城东的省农业科学院，在科学院8号楼成果展示馆中，院长带着记者参观，"
            "作为全省农业科技改革“排头兵”，科学院如今有了新使命。")
    assert _ask("院长在科学院哪栋楼的展馆里接待了记者？", text).text.endswith("8号楼")


def test_which_meeting_is_answered_with_the_meeting() -> None:
    text = "李明：党的二十大提出加快建设数字中国，推进数字政府建设等重点任务。"
    assert _ask("党的哪次大会提出加快建设数字中国？", text).text == "二十大"


def test_which_two_organisations_is_answered_with_both() -> None:
    text = ("本报北京7月15日电(记者王芳)中国汽车工业协会、国家信息中心15日联合发布数据，"
            "6月份新能源汽车销量同比增长35%。")
    assert _ask("6月份汽车数据由哪两个机构发布？", text).text == "中国汽车工业协会、国家信息中心"


@pytest.mark.parametrize("question", ["李华说城市发展的第一资源是什么？", "李華認為什麼是城市發展的第一資源？"])
def test_x_is_what_over_a_sentence_saying_y_is_x(question: str) -> None:
    # The sentence names the thing asked for before 是, the question's X after it.
    text = "李华：人才是城市发展的第一资源，在从“制造大市”迈向“创新强市”的进程中，必须把引才放在首位。"
    assert _ask(question, text).text == "人才"


@pytest.mark.xfail(reason="ranker trained on the train files only (2026-12-02) misses this; the dev-set one did not",
                   strict=False)
def test_which_town_is_answered_with_the_town() -> None:
    text = "5月30日，2021年杭州市“乡村文化节”系列活动之一——西溪桑葚采摘节在浙江省杭州市余杭区塘栖镇开幕。"
    assert _ask("桑葚采摘节在哪个镇开幕？", text).text.endswith("塘栖镇")  # not 浙江省杭州市
