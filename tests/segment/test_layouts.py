"""qa.segment on small pages written for these tests: every dateline form known by its shape,
headlines before and after their bodies, briefs between long reports, pages without blank lines."""
from __future__ import annotations

import pytest

from qa.segment import segment_page
from qa.text import content_hash
from qa.types import Article, Document


def _doc(text: str) -> Document:
    return Document(doc_id=content_hash(text), path="page.txt", text=text, kind="txt", date="2023-04-10")


def _slices_back(doc: Document, articles: list[Article]) -> None:
    """Every segment is a verbatim slice of the page at its offsets."""
    for a in articles:
        for seg in a.segments:
            n = seg.end - seg.start
            assert doc.text[seg.start:seg.end] == a.text[seg.text_start:seg.text_start + n]


LONG_A = ("今年以来，全市新增城市绿地一百二十公顷，建成口袋公园四十六个，市民出门五百米就能见到绿色。\n\n"
          "园林部门负责人介绍，新建公园大多利用边角地块，既不占用耕地，又方便周边居民休闲散步。\n\n"
          "下一步，全市还将改造老旧公园二十座，增加健身步道和儿童游乐设施。")
LONG_B = ("记者从市交通运输局获悉，全市首批氢能公交车近日投入运营，覆盖三条主要线路。\n\n"
          "这批公交车加注一次氢气可行驶四百公里，运行过程中只排放水，噪音也明显低于传统车辆。\n\n"
          "交通部门表示，将根据运营情况逐步扩大氢能公交的覆盖范围。")


@pytest.mark.parametrize("lead,dateline", [
    ("本报讯", "本报讯"),
    ("时报讯", "时报讯"),
    ("江城日报讯（记者 周小川）", "江城日报讯（记者 周小川）"),
    ("新华社4月9日电", "新华社4月9日电"),
    ("新华社合肥4月9日电（记者王海燕）", "新华社合肥4月9日电（记者王海燕）"),
    ("据新华社报道，", "据新华社报道，"),
    ("据《江城晚报》报道，", "据《江城晚报》报道，"),
])
def test_each_dateline_form_opens_an_article(lead, dateline):
    text = f"城市绿地面积持续增加\n\n{LONG_A}\n\n氢能公交车投入运营\n\n{lead}{LONG_B}\n"
    doc = _doc(text)
    arts = segment_page(doc)
    _slices_back(doc, arts)
    assert [a.title for a in arts] == ["城市绿地面积持续增加", "氢能公交车投入运营"]
    assert arts[1].dateline == dateline
    assert arts[1].text.startswith(lead)  # the dateline stays in the text as printed
    assert "氢能" not in arts[0].text and "绿地" not in arts[1].text


def test_dateline_as_a_line_after_the_text():
    text = (f"城市绿地面积持续增加\n\n{LONG_A}\n\n（记者 刘晓东） 新华社南昌4月9日电\n\n"
            f"氢能公交车投入运营\n\n{LONG_B}\n")
    arts = segment_page(_doc(text))
    assert [a.title for a in arts] == ["城市绿地面积持续增加", "氢能公交车投入运营"]
    assert arts[0].dateline == "（记者 刘晓东） 新华社南昌4月9日电" and arts[0].date == "2023-04-09"
    assert arts[0].text.endswith("（记者 刘晓东） 新华社南昌4月9日电")


def test_two_sentence_brief_between_two_long_articles():
    brief = "本报讯 市图书馆本周六起延长开放时间至晚上九点。读者可凭借阅证免费使用自习区。"
    text = (f"城市绿地面积持续增加\n\n{LONG_A}\n\n图书馆延长开放时间\n\n{brief}\n\n"
            f"氢能公交车投入运营\n\n{LONG_B}\n")
    doc = _doc(text)
    arts = segment_page(doc)
    _slices_back(doc, arts)
    assert [a.title for a in arts] == ["城市绿地面积持续增加", "图书馆延长开放时间", "氢能公交车投入运营"]
    assert arts[1].text == brief and arts[1].dateline == "本报讯"


def test_page_with_no_blank_lines():
    text = ("城市绿地面积持续增加\n" + LONG_A.replace("\n\n", "\n") + "\n氢能公交车投入运营\n"
            "新华社合肥4月9日电（记者王海燕）" + LONG_B.replace("\n\n", "\n") + "\n")
    doc = _doc(text)
    arts = segment_page(doc)
    _slices_back(doc, arts)
    assert [a.title for a in arts] == ["城市绿地面积持续增加", "氢能公交车投入运营"]
    assert arts[0].text.split("\n") == LONG_A.split("\n\n")
    assert arts[1].text.startswith("新华社合肥4月9日电（记者王海燕）记者从市交通运输局获悉")


def test_headlines_printed_after_their_bodies():
    text = (f"本报讯 {LONG_A}\n\n城市绿地面积持续增加\n\n"
            f"时报讯 {LONG_B}\n\n氢能公交车投入运营\n")
    arts = segment_page(_doc(text))
    assert [a.title for a in arts] == ["城市绿地面积持续增加", "氢能公交车投入运营"]
    assert arts[0].dateline == "本报讯" and arts[1].dateline == "时报讯"
    assert "氢能" not in arts[0].text


def test_article_interrupted_by_another_and_resumed_after_a_jump_line():
    text = (
        "城市绿地面积持续增加\n\n"
        "本报讯 今年以来，全市新增城市绿地一百二十公顷，建成口袋公园四十六个，市民出门五百米就能见到\n\n"
        "（下转第二版）\n\n"
        "氢能公交车投入运营\n\n"
        f"时报讯 {LONG_B}\n\n"
        "（上接第一版）\n\n"
        "绿色。园林部门负责人介绍，新建公园大多利用边角地块，既不占用耕地，又方便周边居民休闲散步。\n"
    )
    doc = _doc(text)
    arts = segment_page(doc)
    _slices_back(doc, arts)
    assert [a.title for a in arts] == ["城市绿地面积持续增加", "氢能公交车投入运营"]
    parks, buses = arts
    assert "市民出门五百米就能见到绿色。园林部门负责人介绍" in parks.text
    assert "下转" not in parks.text and "上接" not in parks.text
    assert "绿地" not in buses.text and buses.text.endswith("逐步扩大氢能公交的覆盖范围。")


def _wrap(text: str, width: int = 16) -> str:
    """Hard-wrap each paragraph at `width` characters, as text taken from a printed column."""
    return "\n".join(p[k:k + width] for p in text.split("\n") for k in range(0, len(p), width))


def test_hard_wrapped_column_interrupted_and_resumed():
    parks_1 = "本报讯 今年以来，全市新增城市绿地一百二十公顷，建成口袋公园四十六个，市民出门五百米就能见到"
    parks_2 = "绿色。园林部门负责人介绍，新建公园大多利用边角地块，既不占用耕地，又方便周边居民休闲散步。"
    buses = "时报讯 " + LONG_B.replace("\n\n", "\n")
    text = (f"城市绿地面积持续增加\n{_wrap(parks_1)}\n（下转第二版）\n氢能公交车投入运营\n{_wrap(buses)}\n"
            f"（上接第一版）\n{_wrap(parks_2)}\n")
    doc = _doc(text)
    arts = segment_page(doc)
    _slices_back(doc, arts)
    assert [a.title for a in arts] == ["城市绿地面积持续增加", "氢能公交车投入运营"]
    parks, buses_art = arts
    assert parks.text == parks_1 + parks_2  # column lines joined, the cut sentence stitched
    assert buses_art.text.split("\n") == buses.split("\n")


def _parks_interrupted_by_buses(parks_1: str, parks_2: str) -> list[Article]:
    """The two articles of a page where the parks report stops after `parks_1`, the buses report
    follows with its headline, and `parks_2` comes after it with no jump line; checks both
    headlines and that every segment slices back."""
    text = f"城市绿地面积持续增加\n\n{parks_1}\n\n氢能公交车投入运营\n\n时报讯 {LONG_B}\n\n{parks_2}\n"
    doc = _doc(text)
    arts = segment_page(doc)
    _slices_back(doc, arts)
    assert [a.title for a in arts] == ["城市绿地面积持续增加", "氢能公交车投入运营"]
    return arts


def test_dateline_paragraph_cut_mid_sentence_is_resumed_without_jump_lines():
    # Short enough to pass for a headline by length: its dateline says it is body text, and
    # body text that stops without final punctuation goes on elsewhere.
    parks_1 = "本报讯 今年以来，全市新增城市绿地一百二十公"
    parks_2 = "顷，建成口袋公园四十六个，市民出门五百米就能见到绿色。园林部门负责人介绍，新建公园大多利用边角地块，既不占用耕地。"
    parks, buses = _parks_interrupted_by_buses(parks_1, parks_2)
    assert parks.text == parks_1 + parks_2
    assert buses.text.endswith("逐步扩大氢能公交的覆盖范围。")


def test_paragraph_ending_on_a_comma_is_resumed_further_down():
    # No jump line and no word cut in two: only the comma says the sentence goes on.
    parks_1 = "本报讯 今年以来，全市新增城市绿地一百二十公顷，"
    parks_2 = "市民出门五百米就能见到绿色。园林部门负责人介绍，新建公园大多利用边角地块，既不占用耕地。"
    parks, _ = _parks_interrupted_by_buses(parks_1, parks_2)
    assert parks.text == parks_1 + parks_2
