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
