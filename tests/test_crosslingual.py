"""English questions bridged to the Chinese words they mean (pinyin for names, CC-CEDICT for
the rest), on hand-written passages that are not from the seed corpus."""
from __future__ import annotations

from qa.crosslingual import bridge_question, sound_matches, _syllables
from qa.question import analyze_question

PASSAGES = [
    "绍兴市市长李明华表示，全市将在9月1日前完成第二批助企资金的发放。",
    "据绍兴市统计局介绍，今年上半年全市新设立外资企业126家，出口总额同比增长12.5%。",
    "宁波舟山港集团董事长毛剑宏说，港口货物吞吐量连续十三年位居全球第一。",
]


def test_names_are_found_by_their_pinyin() -> None:
    text = PASSAGES[0]
    assert sound_matches("Shaoxing", text, _syllables(text)) == ["绍兴"]
    assert sound_matches("Li Minghua", text, _syllables(text)) == ["李明华"]
    assert sound_matches("Hangzhou", text, _syllables(text)) == []  # not in the text: nothing


def test_question_words_become_chinese_keywords_of_the_passages() -> None:
    qa = bridge_question(analyze_question("Who is the chairman of Ningbo Zhoushan Port Group?"), PASSAGES)
    assert qa is not None and qa.answer_type == "person" and qa.lang == "en"
    assert {"董事长", "集团"} <= set(qa.keywords)
    assert any("宁波" in w for w in qa.keywords) and any("舟山" in w for w in qa.keywords)
    # "X of Y" is read in Chinese order: Y before X, the wh-word last
    assert qa.normalized.index("董事长") > qa.normalized.index("集团") and qa.normalized.endswith("是谁")


def test_months_numbers_and_latin_words_carry_over() -> None:
    qa = bridge_question(analyze_question("How many foreign companies were set up in Shaoxing in May?"), PASSAGES)
    assert qa is not None and "5月" in qa.normalized and "绍兴" in qa.normalized
    assert qa.date_mentions == (("month", 5),)
    assert qa.answer_type == "number"


def test_nothing_to_bridge_gives_none() -> None:
    assert bridge_question(analyze_question("What is the weather like on Mars?"), PASSAGES) is None


def test_warm_up_builds_the_dictionary_in_the_background(tmp_path) -> None:
    from qa import Assistant
    from qa.crosslingual import gloss_index
    from qa.embedders import make_embedder

    seeds = tmp_path / "news.txt"
    seeds.write_text("绍兴市市长李明华表示，全市将在9月1日前完成第二批助企资金的发放。", encoding="utf-8")
    a = Assistant.build([seeds], tmp_path / "index", make_embedder("fake"))
    a.warm_up().join(timeout=60)
    assert gloss_index.cache_info().currsize == 1 and "董事长" in gloss_index()["chairman"]


def test_english_question_without_chinese_words_gets_k_passages(tmp_path) -> None:
    from qa import Assistant
    from qa.embedders import make_embedder

    doc = tmp_path / "news.txt"
    doc.write_text("\n\n".join(f"第{i}段：绍兴市今年新设立外资企业{i}家。" * 20 for i in range(1, 9)), encoding="utf-8")
    a = Assistant.build([doc], tmp_path / "index", make_embedder("fake"))
    assert len(a.retrieve("What is the weather like on Mars?", k=3)) <= 3
