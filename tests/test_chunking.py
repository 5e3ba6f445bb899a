"""Chunks: whole sentences, size and overlap, offsets into the article."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.chunking import ChunkConfig, chunk_article
from qa.errors import ConfigError
from qa.text import split_sentences
from qa.types import Article
from tests.strategies import messy_text

TEXT = (
    "国家统计局今天发布数据，10月份全国居民消费价格同比上涨2.1%。其中，城市上涨2.0%，农村上涨2.4%；"
    "食品价格上涨6.3%，非食品价格上涨1.1%。"
    "“当前物价总体保持平稳。”国家统计局城市司首席统计师表示，猪肉价格涨幅有所回落。"
    "1月至10月平均，全国居民消费价格比去年同期上涨1.9%！专家预计年内物价将继续温和运行？\n"
    "与此同时，工业生产者出厂价格同比下降0.8%，环比持平。"
)


def make_article(text=TEXT):
    return Article(article_id="a1", doc_id="d1", path="x.txt", title="物价", text=text)


def sentence_set(text):
    return {text[s:e] for s, e in split_sentences(text)}


def test_chunks_are_whole_sentences_with_exact_offsets():
    article = make_article()
    chunks = chunk_article(article, ChunkConfig(size=80, overlap=30))
    assert len(chunks) > 2
    sentences = sentence_set(TEXT)
    for c in chunks:
        assert article.text[c.start : c.end] == c.text
        assert len(c.text) <= 80
        assert c.article_id == "a1" and c.title == "物价"
        # every chunk is a run of whole sentences: its sentences are sentences of the article
        assert sentence_set(c.text) <= sentences
    assert [c.position for c in chunks] == list(range(len(chunks)))
    # together they cover every sentence
    covered = set().union(*(sentence_set(c.text) for c in chunks))
    assert covered == sentences


def test_consecutive_chunks_overlap_by_whole_sentences():
    chunks = chunk_article(make_article(), ChunkConfig(size=80, overlap=40))
    overlaps = [a.end > b.start for a, b in zip(chunks, chunks[1:])]
    assert any(overlaps)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start > a.start  # always progresses


def test_a_sentence_longer_than_the_size_is_cut_into_windows():
    long = "这是一个没有任何标点而且非常非常长的句子" * 10 + "。"
    chunks = chunk_article(make_article(long), ChunkConfig(size=50, overlap=10))
    assert len(chunks) >= 4
    assert all(len(c.text) <= 50 for c in chunks)
    assert chunks[0].start == 0 and chunks[-1].end == len(long)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start == a.end - 10


def test_small_article_is_one_chunk_and_ids_are_stable():
    a = make_article("短消息。只有两句。")
    first, second = chunk_article(a), chunk_article(a)
    assert len(first) == 1 and first[0].text == "短消息。只有两句。"
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]


@pytest.mark.parametrize("size,overlap", [(10, 0), (100, 100), (100, -1)])
def test_bad_config_is_a_clear_error(size, overlap):
    with pytest.raises(ConfigError, match=str(size if size < 20 else overlap)):
        ChunkConfig(size=size, overlap=overlap)


@settings(max_examples=300, deadline=None)
@given(text=messy_text(900), size=st.integers(20, 400), overlap_share=st.floats(0, 0.9))
def test_fuzz_chunk_offsets_always_slice_back(text, size, overlap_share):
    config = ChunkConfig(size=size, overlap=int(size * overlap_share))
    article = make_article(text)
    chunks = chunk_article(article, config)
    covered = set()
    for n, c in enumerate(chunks):
        assert c.position == n and 0 <= c.start < c.end <= len(text)
        assert article.text[c.start : c.end] == c.text and len(c.text) <= size
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())  # nothing dropped
