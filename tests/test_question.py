"""Question analysis and follow-up rewriting on hand-written questions."""
from __future__ import annotations

import pytest

from qa.question import analyze_question, date_mentions, rewrite_question


@pytest.mark.parametrize("question, expected", [
    ("4月份全市社会消费品零售总额是多少？", "number"),
    ("今年一季度城镇调查失业率是多少？", "percent"),
    ("全省粮食产量同比增长了百分之几？", "percent"),
    ("该项目总投资多少亿元？", "money"),
    ("企业减免了多少社保费用？", "money"),
    ("全县新建了多少所学校？", "quantity"),
    ("新机场什么时候投入使用？", "date"),
    ("地铁首班车几点发车？", "time"),
    ("谁担任了新一届董事长？", "person"),
    ("哪家公司中标了这个项目？", "organization"),
    ("这届博览会在哪里举办？", "place"),
    ("他执导的哪部电影获得了金鸡奖？", "title"),
    ("为什么今年的油价上涨？", "reason"),
    ("这项技术是否已经投入商用？", "yesno"),
    ("How many people attended the forum?", "number"),
    ("这家工厂的负责人叫什么名字？", "person"),
    ("这本小说是由哪个出版集团推出的？", "organization"),
    ("新大桥建成通车用了多长时间？", "quantity"),
    ("Who is the mayor of the city?", "person"),
    ("哪家德国企业在园区设立了研发中心？", "organization"),  # a firm, not a country (德国)
    ("哪家日本企业给园区发来了感谢信？", "organization"),  # 日本企业: 日本 is no date head
    ("专家认为什么是当前最大的风险？", "other"),  # 认为+什么, not 为什么
])
def test_answer_types(question: str, expected: str) -> None:
    assert analyze_question(question).answer_type == expected


def test_context_words_around_wh_word() -> None:
    qa = analyze_question("5月份制造业PMI为多少？")
    assert qa.wh_word == "多少"
    assert qa.normalized[qa.wh_start:qa.wh_end] == "多少"
    assert "制造业" in qa.left_context and "pmi" in qa.left_context
    assert qa.right_context == ()
    assert ("month", 5) in qa.date_mentions
    assert qa.lang == "zh"


def test_traditional_question_is_folded_for_matching() -> None:
    qa = analyze_question("臺灣的總統府位於哪個城市？")
    assert qa.answer_type == "place"
    assert "台湾" in qa.normalized and qa.text.startswith("臺灣")


def test_date_mentions_chinese_numerals() -> None:
    assert date_mentions("二〇一九年十二月三日的会议") == (("year", 2019), ("month", 12), ("day", 3))


def test_english_question_language() -> None:
    assert analyze_question("When did the new airport open?").lang == "en"


@pytest.mark.parametrize("history, question, expected", [
    # contrast: same head word replaced
    (["去年大型超市的销售额是多少？"], "那小型超市呢？", "去年小型超市的销售额是多少？"),
    # contrast: a date part replaces the same date part
    (["3月份全市新房成交量是多少？"], "那么4月份呢？", "4月份全市新房成交量是多少？"),
    # contrast: a place replaces the place
    (["苏州市今年引进了多少个外资项目？"], "那无锡呢？", "无锡今年引进了多少个外资项目？"),
    # contrast with 的情况: the phrase with the same head (单位) is replaced
    (["上半年国有单位的平均工资是多少？"], "那么私营单位的情况呢？", "上半年私营单位的平均工资是多少？"),
    # missing subject (and its time words) carried over
    (["义乌市新增了多少家外贸企业？"], "出口额增长了多少？", "义乌市出口额增长了多少？"),
    (["青岛港今年完成了多少集装箱吞吐量？"], "同比增长了百分之几？", "青岛港今年同比增长了百分之几？"),
    # pronoun replaced by the last subject
    (["华为公司成立于哪一年？"], "它的总部在哪里？", "华为公司的总部在哪里？"),
    # "X是多少": the whole X is the subject, a verb inside it (采购) included
    (["6月份中国非制造业采购经理指数是多少？"], "比上月变化了多少？", "6月份中国非制造业采购经理指数比上月变化了多少？"),
    # a compound replaces the whole compound of the last question
    (["截至去年底，全省建设了多少家重点实验室？"], "那工程技术研究中心呢？", "截至去年底，全省建设了多少家工程技术研究中心？"),
    # a period opening the last question (1月至5月) stays with its subject
    (["1月至5月丽水市为多少家企业办理了出口退税？"], "退税金额一共是多少？", "1月至5月丽水市退税金额一共是多少？"),
])
def test_rewrite_follow_ups(history: list[str], question: str, expected: str) -> None:
    assert rewrite_question(question, history) == expected


@pytest.mark.parametrize("history, question", [
    ([], "那小型超市呢？"),
    (["苏州市今年引进了多少个外资项目？"], "宁波市今年新增多少家企业？"),
    (["苏州市今年引进了多少个外资项目？"], "国家统计局公布的5月份CPI是多少？"),
])
def test_non_follow_ups_unchanged(history: list[str], question: str) -> None:
    assert rewrite_question(question, history) == question


def test_a_compared_month_is_not_the_month_asked_about() -> None:
    # 较4月: April is the base of the comparison, the figures asked about are May's.
    assert analyze_question("两个分项指数较4月分别回升了多少？").date_mentions == ()
    assert analyze_question("5月份PMI比上月回落了多少？").date_mentions == (("month", 5),)
    assert analyze_question("2023年营收比2022年增长多少？").date_mentions == (("year", 2023),)
