"""Answers read from the structure of news text: credit lines and job titles (hand-written
passages, not from the seed corpus)."""
from __future__ import annotations

from qa.answer import select_answer
from qa.question import analyze_question
from qa.structured import asks_for_position
from qa.types import Chunk, Hit

TEXT = ("本报记者日前专访了宁波市副市长、市发展改革委主任陈志强。“港口是城市的命脉。”陈志强说。"
        "他此前曾在浙江省交通投资集团任职，目前兼任宁波舟山港集团的董事。")


def _hits(text: str = TEXT) -> list[Hit]:
    return [Hit(chunk=Chunk("c1", "a1", "t", text, 40, 40 + len(text), 0), score=1.0, rank=1,
                title="t", paths=("news.txt",))]


def test_position_questions_are_recognised() -> None:
    for q in ("陈志强现任什么职务？", "他担任什么职位？", "What is Chen Zhiqiang's position?"):
        assert asks_for_position(analyze_question(q)), q
    for q in ("陈志强说了什么？", "宁波市副市长是谁？"):
        assert not asks_for_position(analyze_question(q)), q


def test_the_title_printed_before_the_name_answers() -> None:
    a = select_answer("陈志强现任什么职务？", _hits())
    assert a.text == "市发展改革委主任" and not a.abstained
    assert TEXT[a.start - 40:a.end - 40] == a.text and a.text in a.evidence


def test_a_named_organisation_picks_the_title_held_there() -> None:
    a = select_answer("陈志强在宁波舟山港集团担任什么职务？", _hits())
    assert a.text == "董事"


def test_no_title_beside_the_name_leaves_the_question_to_the_reader() -> None:
    from qa.structured import read_position

    assert read_position(analyze_question("王刚担任什么职务？"), _hits()) is None


def test_credit_questions_read_the_credit_line() -> None:
    from qa.structured import asks_for_credit, credit_names

    for q in ("这组照片是谁拍的？", "这篇报道是哪两位记者采写的？", "Who took the photos?",
              "Which Xinhua reporter wrote the story?"):
        assert asks_for_credit(analyze_question(q)), q
    for q in ("记者专访了谁？", "谁担任了新一届董事长？"):
        assert not asks_for_credit(analyze_question(q)), q
    for line, names in (("新华社记者王小明摄", "王小明"), ("新华社杭州6月2日电(记者张三、李四)", "张三、李四"),
                        ("（记者 陈晨）", "陈晨")):
        s, e = credit_names(line)
        assert line[s:e] == names
    credit = Hit(chunk=Chunk("c0", "a1", "t", "新华社记者王小明摄", 120, 129, -1), score=1.0, rank=0,
                 title="t", paths=("p.txt",))
    a = select_answer("这组照片是谁拍的？", [credit] + _hits())
    assert a.text == "王小明" and a.start == 125 and a.evidence == "新华社记者王小明摄" and not a.abstained


LIST_ARTICLE = ("记者：如何看待今年的乡村振兴工作？\n"
                "李平：今年我省的乡村振兴呈现出如下主要特点：\n"
                "一是产业基础更加牢固。全省新建高标准农田120万亩。\n"
                "二是农民收入稳步增长。农村居民人均可支配收入增长7%。\n"
                "三是人居环境持续改善。\n"
                "下一步，我们将重点抓好三项工作。一是稳定粮食生产。二是壮大县域经济。")


def _article_hits(text: str, cut: int, overlap: int = 10) -> list[Hit]:
    """Two overlapping chunks of one article, the later one ranked first (as retrieval may)."""
    first, second = text[:cut], text[cut - overlap:]
    return [Hit(chunk=Chunk("c2", "a9", "t", second, cut - overlap, len(text), 1), score=1.0, rank=1,
                title="t", paths=("news.txt",)),
            Hit(chunk=Chunk("c1", "a9", "t", first, 0, cut, 0), score=0.9, rank=2,
                title="t", paths=("news.txt",))]


def test_the_nth_item_of_the_list_introduced_with_the_asked_noun() -> None:
    # The list's opening is in one chunk, its second item in the next: the chunks are joined.
    hits = _article_hits(LIST_ARTICLE, LIST_ARTICLE.index("二是") - 5)
    a = select_answer("今年我省乡村振兴的第二个主要特点是什么？", hits)
    assert a.text == "农民收入稳步增长" and not a.abstained
    assert LIST_ARTICLE[a.start:a.end] == a.text and a.evidence.startswith("二是")
    # the other list (工作) is chosen by its own noun
    assert select_answer("下一步要抓好的第二项工作是什么？", hits).text == "壮大县域经济"


def test_no_list_with_the_asked_noun_leaves_the_question_to_the_reader() -> None:
    from qa.structured import read_ordinal

    assert read_ordinal(analyze_question("第四个主要特点是什么？"), _article_hits(LIST_ARTICLE, 60)) is None
    assert read_ordinal(analyze_question("第二个难点是什么？"), _article_hits(LIST_ARTICLE, 60)) is None
