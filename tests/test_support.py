"""Support rules (qa/support.py): readings whose evidence cannot hold the fact asked for are
abstained on, while the fact the passage does print is still answered."""
from __future__ import annotations

from qa.answer import DEFAULT_THRESHOLD
from tests.test_answer import _ask


def test_asked_thing_absent_but_its_siblings_printed_abstains() -> None:
    # The passage gives the PMI of large and small firms only: 中型企业 is asked, not printed.
    text = ("6月份，制造业采购经理指数（PMI）为49.7%。从企业规模看，大型企业PMI为50.9%，"
            "小型企业PMI为47.9%。")
    a = _ask("6月份中型企业PMI是多少？", text)
    assert a.abstained and a.confidence < DEFAULT_THRESHOLD
    assert _ask("6月份小型企业PMI是多少？", text).text == "47.9%"


def test_a_count_of_people_is_not_answered_with_a_date() -> None:
    # The passage counts the festival's years and stalls, but never its visitors.
    text = ("茂名荔枝文化节已连续举办12年，游客在果园里现场采摘荔枝。"
            "本届文化节共设置展位80个。")
    a = _ask("本届荔枝文化节共吸引了多少游客？", text)
    assert a.abstained and a.confidence < DEFAULT_THRESHOLD
    assert _ask("本届文化节共设置了多少个展位？", text).text == "80个"


def test_a_figure_whose_measure_is_not_printed_abstains() -> None:
    # The sentence reports the group's revenue; the question asks the district's GDP.
    text = "数据显示，海川集团2023年实现营业收入468亿元，同比增长12%。"
    a = _ask("海川集团2023年的地区生产总值是多少？", text)
    assert a.abstained and a.confidence < DEFAULT_THRESHOLD
    assert _ask("海川集团2023年实现营业收入多少？", text).text == "468亿元"


def test_a_figure_of_another_city_abstains() -> None:
    # 衢州市 is never printed: the figure the passage gives belongs to 丽水市.
    text = "1月至6月，丽水市共为215家外贸企业办理出口退税3.2亿元，减免社保费用1800万元。"
    a = _ask("衢州市1月至6月为外贸企业办理出口退税多少？", text)
    assert a.abstained and a.confidence < DEFAULT_THRESHOLD
    assert _ask("丽水市1月至6月为外贸企业办理出口退税多少？", text).text == "3.2亿元"


def test_which_year_is_not_answered_with_a_span_without_a_year() -> None:
    # The passage dates a count (截至今年6月) but never says when the institute was founded.
    text = ("截至今年6月，省智能制造研究院已在机器人、工业软件等领域布局建设了28家专业研究所，"
            "拥有各类研发人员约3000人。")
    a = _ask("省智能制造研究院是哪一年成立的？", text)
    assert a.abstained and a.confidence < DEFAULT_THRESHOLD
    assert _ask("省智能制造研究院2016年成立后布局了多少家专业研究所？", text).text == "28家"


def test_the_holder_of_another_post_does_not_answer() -> None:
    text = "海川集团董事长周明远说，集团今年将在海外新建两座工厂。"
    a = _ask("海川集团总经理是谁？", text)
    assert a.abstained and a.confidence < DEFAULT_THRESHOLD
    assert _ask("海川集团董事长是谁？", text).text == "周明远"


def test_a_figure_of_the_complement_asked_as_non_x_abstains() -> None:
    # The passage gives the manufacturing index and only says the non-manufacturing one rose.
    text = ("国家统计局15日发布数据，8月份，制造业采购经理指数为49.4%，比上月回落0.3个百分点。"
            "与此同时，非制造业商务活动指数继续回升。")
    a = _ask("8月份非制造业商务活动指数是多少？", text)
    assert a.abstained and a.confidence < DEFAULT_THRESHOLD
    assert _ask("8月份制造业采购经理指数是多少？", text).text == "49.4%"
