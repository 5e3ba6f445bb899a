"""Tests for qa.segment on the real printed page seed, the web copy seed and small synthetic pages."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.segment import segment_page
from qa.text import content_hash, ends_sentence
from qa.textrepair import repair_text
from qa.types import Article, Document
from tests.strategies import messy_text

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def _doc(text: str, path: str = "page.txt", date: str = "", title: str = "") -> Document:
    return Document(doc_id=content_hash(text), path=path, text=text, kind="txt", date=date, title=title)


def _check_contract(doc: Document, articles: list[Article]) -> None:
    """Every segment is a verbatim slice; between segments only "" or "\\n"."""
    for a in articles:
        assert a.segments, a.title
        assert a.article_id == content_hash(a.title, a.text)
        assert a.sources == (doc.path,)
        rebuilt = ""
        for seg in a.segments:
            n = seg.end - seg.start
            assert doc.text[seg.start:seg.end] == a.text[seg.text_start:seg.text_start + n]
            gap = a.text[len(rebuilt):seg.text_start]
            assert gap in ("", "\n") and (gap == "" or rebuilt), (a.title, gap)
            rebuilt = a.text[: seg.text_start + n]
        assert rebuilt == a.text


def _by_title(articles: list[Article], prefix: str) -> Article:
    found = [a for a in articles if a.title.startswith(prefix)]
    assert len(found) == 1, [a.title for a in articles]
    return found[0]


@pytest.fixture(scope="module")
def page() -> tuple[Document, list[Article]]:
    path = next(SEEDS.glob("000_*.txt"))
    doc = _doc(path.read_text(encoding="utf-8"), path=str(path), date="2020-06-01")
    return doc, segment_page(doc)


def test_page_articles_and_titles(page):
    doc, arts = page
    _check_contract(doc, arts)
    assert [a.title.split(" ")[0] for a in arts] == [
        "助力政府治理能力现代化水平提升",
        "5月份中国PMI为50.6%，保持在荣枯线之上",
        "龙虾狂欢节",
        "浙江东阳：“放水养鱼”提振外贸企业信心",
        "这个高新区，给人留下“准一线”城市的印象",
        "研究院来了项目经理",
    ]
    assert [a.kind for a in arts] == ["article", "article", "caption", "article", "article", "article"]
    # the subtitle printed under the interview's title is kept in the title field
    assert arts[0].title == "助力政府治理能力现代化水平提升 王钦敏谈推进全国一体化政务服务平台建设"


def test_page_datelines_bylines_dates(page):
    doc, arts = page
    interview, pmi, caption, dongyang, weifang, jiangsu = arts
    assert interview.byline == "本报记者杨光、卫婧" and interview.dateline == ""
    assert pmi.dateline == "新华社北京5月31日电(记者陈伟伟)"
    assert pmi.date == "2020-05-31"
    # dateline, byline and credit lines are in their fields and also in the text, as printed
    assert pmi.text.startswith("新华社北京5月31日电(记者陈伟伟)国家统计局服务业调查中心")
    assert interview.text.split("\n")[0] == "本报记者杨光、卫婧"
    assert "助力政府治理能力现代化水平提升" not in interview.text  # titles stay out of the text
    assert caption.byline == "新华社记者徐昱摄" and caption.text.startswith("大图：")
    assert caption.text.split("\n")[-1] == "新华社记者徐昱摄"
    # an answer found in the dateline maps back to where it is printed on the page
    at = pmi.text.index("5月31日")
    assert doc.text[pmi.source_offset(at):pmi.source_offset(at) + 5] == "5月31日"
    assert doc.text.startswith("本报记者杨光、卫婧", interview.source_offset(0))
    assert caption.date == "2020-06-01"  # no dateline: the document date
    assert dongyang.dateline == "新华社杭州电(记者李平)" and dongyang.date == "2020-06-01"
    assert weifang.dateline.startswith("新华社济南5月31日电")
    assert jiangsu.kicker == "■ 行进长三角"
    assert jiangsu.dateline == "(记者潘晔) 新华社南京5月31日电" and jiangsu.date == "2020-05-31"
    assert jiangsu.text.split("\n")[-1] == "(记者潘晔) 新华社南京5月31日电"
    assert dongyang.text.startswith("新华社杭州电(记者李平)") and weifang.text.startswith("新华社济南5月31日电")
    assert "■ 行进长三角" not in jiangsu.text  # the kicker stays out of the text, like titles


def test_page_column_breaks_repaired(page):
    _, arts = page
    pmi, dongyang = arts[1], arts[3]
    assert "相关企业对未来三个月行业发展趋势总体看好。" in pmi.text
    assert "世界经济形势依然严峻复杂，" in pmi.text
    assert "石油加工工、汽车等14个制造业" in pmi.text
    assert "新招了200多名工人。" in dongyang.text
    for a in arts:
        for para in a.text.split("\n"):
            # every paragraph is a finished sentence run, or a short subhead line
            assert ends_sentence(para) or len(para) <= 20, (a.title, para)


def test_page_interrupted_article_is_stitched(page):
    _, arts = page
    weifang, jiangsu = arts[4], arts[5]
    assert "不少去过潍坊高新区的人都感觉到，这里有着“准一线”城市的样子。" in weifang.text
    assert weifang.text.endswith("为高新区经济高质量发展提供了有力支撑。")
    assert "政府当好“店小二”" in weifang.text.split("\n")  # subhead kept as its own paragraph
    assert "里有着" not in jiangsu.text
    assert jiangsu.text.startswith("科技创新是")
    assert jiangsu.text.endswith("200亿元。\n(记者潘晔) 新华社南京5月31日电")


def test_page_no_article_holds_other_titles(page):
    _, arts = page
    for a in arts:
        for other in arts:
            if other is not a:
                assert other.title.split(" ")[0] not in a.text, (a.title, other.title)


def test_web_copy_is_one_article():
    path = next(SEEDS.glob("001_*.txt"))
    doc = _doc(path.read_text(encoding="utf-8"), path=str(path))
    arts = segment_page(doc)
    _check_contract(doc, arts)
    assert len(arts) == 1
    a = arts[0]
    assert a.title.startswith("新华社记者专访")
    assert "原标题" not in a.title and "助力政府治理能力现代化水平提升" in a.title
    assert a.text.startswith("在全国一体化政务服务平台上线试运行一周年之际")
    assert a.text.endswith("国际竞争力。（记者 杨光 卫婧）")  # trailing （记者 …） kept, copied to byline
    assert a.byline == "记者 杨光 卫婧"
    assert a.text.count("\n") == 21


def test_single_plain_article():
    text = "\n山区小学用上了智慧课堂\n\n今年春季学期开始，县里的十二所山区小学全部接入了远程教学平台。\n\n孩子们第一次和城里的同学一起上美术课。老师说，效果比预想的好。\n"
    doc = _doc(text, date="2021-03-02")
    arts = segment_page(doc)
    _check_contract(doc, arts)
    assert len(arts) == 1
    a = arts[0]
    assert a.title == "山区小学用上了智慧课堂"
    assert a.text.split("\n") == [
        "今年春季学期开始，县里的十二所山区小学全部接入了远程教学平台。",
        "孩子们第一次和城里的同学一起上美术课。老师说，效果比预想的好。",
    ]
    assert a.date == "2021-03-02" and a.kind == "article"


def test_untitled_single_article_takes_document_title():
    doc = _doc("河道清淤工程上周完工。\n沿岸居民反映水质明显好转。\n", title="河道清淤完工")
    (a,) = segment_page(doc)
    assert a.title == "河道清淤完工" and a.text == "河道清淤工程上周完工。\n沿岸居民反映水质明显好转。"


def test_column_break_join_vs_paragraph_end():
    text = (
        "秋粮收获进度过半\n\n"
        "新华社长沙9月20日电(记者周敏)农业部门介绍，截至目前各地秋粮已收获过半，今年的粮食产量预计将比去年增加\n\n"
        "一成左右。\n\n"
        "多个产粮大县已经完成了烘干设备的检修和验收。\n\n"
        "另外，农机合作社也在抓紧调配收割机，确保颗粒归仓。\n"
    )
    doc = _doc(text)
    (a,) = segment_page(doc)
    _check_contract(doc, [a])
    assert a.text.split("\n") == [
        "新华社长沙9月20日电(记者周敏)农业部门介绍，截至目前各地秋粮已收获过半，今年的粮食产量预计将比去年增加一成左右。",
        "多个产粮大县已经完成了烘干设备的检修和验收。",
        "另外，农机合作社也在抓紧调配收割机，确保颗粒归仓。",
    ]
    assert [(s.text_start == 0) for s in a.segments][:1] == [True]
    assert a.segments[1].text_start == a.segments[0].end - a.segments[0].start  # joined with ""


def test_title_printed_after_body_and_dateline_without_year():
    text = (
        "本报记者张明\n\n"
        "清晨六点，菜市场的摊主们已经摆好了新鲜蔬菜。\n\n"
        "一位摊主说，现在扫码付款的顾客越来越多。\n\n"
        "早市里的烟火气\n\n"
        "城郊铁路新线开通\n\n"
        "新华社西安7月8日电(记者刘洋)城郊铁路新线8日正式开通运营，沿线居民出行时间缩短一半。\n"
    )
    doc = _doc(text)  # no document date: the dateline gives month-day only
    arts = segment_page(doc)
    _check_contract(doc, arts)
    assert [a.title for a in arts] == ["早市里的烟火气", "城郊铁路新线开通"]
    assert arts[0].byline == "本报记者张明" and "早市" not in arts[0].text
    assert arts[0].text.split("\n")[0] == "本报记者张明"  # the byline line is the first paragraph
    assert arts[1].dateline == "新华社西安7月8日电(记者刘洋)" and arts[1].date == "07-08"
    assert arts[1].text.startswith("新华社西安7月8日电(记者刘洋)城郊铁路新线8日正式开通运营")


def test_dateline_with_year_and_document_year():
    text = "港口吞吐量创新高\n\n新华社天津2019年3月5日电 港口一季度货物吞吐量同比增长百分之八。\n"
    (a,) = segment_page(_doc(text, date="2021-01-01"))
    assert a.date == "2019-03-05" and a.dateline == "新华社天津2019年3月5日电"
    text2 = "港口吞吐量创新高\n\n新华社天津3月5日电 港口一季度货物吞吐量同比增长百分之八。\n"
    (b,) = segment_page(_doc(text2, date="2021-01"))
    assert b.date == "2021-03-05"


def test_interrupted_article_resumed_after_another():
    text = (
        "老街改造让居民笑开颜\n\n"
        "新华社成都6月1日电(记者王强)老街改造完成后，道路拓宽了，路灯也亮了。\n\n"
        "走在新铺的石板路上，市民们都说，这\n\n"
        "● 走进基层\n\n"
        "清早，社区医生就背着药箱出发了。她要走访辖区里的二十多户老人。\n\n"
        "她说，能帮上忙就是最开心的事。\n\n"
        "(记者陈静) 新华社重庆6月1日电\n\n"
        "背药箱的社区医生\n\n"
        "些变化看得见摸得着。老街也吸引了不少游客前来打卡。\n"
    )
    doc = _doc(text, date="2022-06-02")
    arts = segment_page(doc)
    _check_contract(doc, arts)
    assert [a.title for a in arts] == ["老街改造让居民笑开颜", "背药箱的社区医生"]
    street, doctor = arts
    assert "市民们都说，这些变化看得见摸得着。" in street.text
    assert street.text.endswith("前来打卡。")
    assert doctor.kicker == "● 走进基层"
    assert doctor.dateline == "(记者陈静) 新华社重庆6月1日电" and doctor.date == "2022-06-01"
    assert doctor.text.split("\n") == [
        "清早，社区医生就背着药箱出发了。她要走访辖区里的二十多户老人。",
        "她说，能帮上忙就是最开心的事。",
        "(记者陈静) 新华社重庆6月1日电",
    ]
    assert "(记者陈静)" not in street.text


def test_photo_caption_is_its_own_article():
    text = (
        "高铁新站开通在即\n\n"
        "新华社合肥4月2日电 新建车站主体工程已全部完工，预计本月底投入使用。\n\n"
        "春日花海\n\n"
        "图为游客在湿地公园的花海中拍照。\n\n"
        "新华社记者赵刚摄\n\n"
        "夜市经济持续升温\n\n"
        "新华社长沙4月2日电 入夜后的步行街人流如织，小吃摊前排起长队。\n"
    )
    doc = _doc(text, date="2023-04-03")
    arts = segment_page(doc)
    _check_contract(doc, arts)
    assert [a.title for a in arts] == ["高铁新站开通在即", "春日花海", "夜市经济持续升温"]
    assert [a.kind for a in arts] == ["article", "caption", "article"]
    assert arts[1].byline == "新华社记者赵刚摄"
    assert arts[1].text == "图为游客在湿地公园的花海中拍照。\n新华社记者赵刚摄"
    assert arts[0].text.startswith("新华社合肥4月2日电 新建车站")
    assert arts[1].date == "2023-04-03"


def test_kicker_before_title():
    text = (
        "▲ 聚焦乡村振兴\n\n"
        "茶园里的新农人\n\n"
        "本报讯（记者 孙丽）返乡青年小吴承包了两百亩茶园，今年春茶卖出了好价钱。\n"
    )
    doc = _doc(text)
    (a,) = segment_page(doc)
    _check_contract(doc, [a])
    assert a.kicker == "▲ 聚焦乡村振兴" and a.title == "茶园里的新农人"
    assert a.dateline == "本报讯（记者 孙丽）" and a.text.startswith("本报讯（记者 孙丽）返乡青年小吴")
    assert "聚焦乡村振兴" not in a.text


def test_question_headline_before_dateline():
    text = "旧厂房变身文创园，行不行？\n\n新华社南京5月3日电 一座废弃多年的纺织厂，如今成了年轻人的打卡地。\n"
    (a,) = segment_page(_doc(text))
    assert a.title == "旧厂房变身文创园，行不行？"


def test_blank_document_has_no_articles():
    assert segment_page(_doc("\n \n\u3000\n")) == []


def test_wrapped_line_with_inner_full_stop_is_joined():
    text = (
        "城市绿道串起百个公园\n\n"
        "市民骑行和散步都更方便了。园林\n部门表示，明年还将继续加密绿道网络。\n"
    )
    doc = _doc(text)
    (a,) = segment_page(doc)
    _check_contract(doc, [a])
    assert a.text == "市民骑行和散步都更方便了。园林部门表示，明年还将继续加密绿道网络。"



def _news_pages() -> st.SearchStrategy[str]:
    """Pages of lines that open with datelines of several forms, around messy text."""
    dateline = st.sampled_from(["新华社北京6月1日电 ", "本报讯 ", "（记者 王明）", "据新华社报道，", ""])
    line = st.tuples(dateline, messy_text(120)).map("".join)
    return st.lists(line, min_size=1, max_size=12).map("\n".join)


@settings(max_examples=200, deadline=None)
@given(_news_pages())
def test_fuzz_segment_page_pieces_always_slice_back(raw):
    """Any page, however broken: the articles' segments are verbatim slices of the page."""
    text = repair_text(raw)  # the loaders hand the segmenter repaired text
    doc = Document(content_hash(text), "page.txt", text, "txt")
    for article in segment_page(doc):
        assert article.text.strip()
        for s in article.segments:
            assert 0 <= s.start <= s.end <= len(text)
            assert article.text[s.text_start : s.text_start + (s.end - s.start)] == text[s.start : s.end]
