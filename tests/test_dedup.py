"""Near-duplicate detection on real reprints of an article."""
from pathlib import Path

import pytest

from qa.dedup import merge_duplicates, signature, similarity
from qa.errors import ConfigError
from qa.types import Article

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
PAGE = (SEEDS / "000_693cfbc8317cc973.txt").read_text(encoding="utf-8")
WEB = (SEEDS / "001_8498c6a55c9d4c5e.txt").read_text(encoding="utf-8")


def art(aid, text, path):
    return Article(article_id=aid, doc_id=aid, path=path, title="", text=text, sources=(path,))


def first_page_article():
    # The interview runs from the top of the page to its title lines (printed after the body).
    end = PAGE.index("四是更加重视自主可控的关键技术研发")
    return PAGE[: PAGE.index("\n", end)]


def test_reprint_with_small_wording_changes_is_similar_other_articles_are_not():
    interview, web = first_page_article(), WEB
    other = PAGE[PAGE.index("新华社北京5月31日电") : PAGE.index("龙虾狂欢节")]
    assert similarity(signature(interview), signature(web)) > 0.8
    assert similarity(signature(other), signature(web)) < 0.2


def test_merge_keeps_one_canonical_copy_and_records_every_source():
    other = PAGE[PAGE.index("新华社北京5月31日电") : PAGE.index("龙虾狂欢节")]
    arts = [art("page", first_page_article(), "page.txt"), art("pmi", other, "page.txt"),
            art("web", WEB, "web.txt")]
    result = merge_duplicates(arts)
    assert len(result.articles) == 2
    kept = [a for a in result.articles if a.article_id in ("page", "web")]
    assert len(kept) == 1
    assert kept[0].sources == ("page.txt", "web.txt")
    assert len(result.merged) == 1
    # the longer copy is the canonical one
    assert len(kept[0].text) == max(len(first_page_article()), len(WEB))


def test_identical_text_from_two_files_merges_and_distinct_texts_stay():
    a = art("a", "今年一季度全市实现地区生产总值1200亿元，同比增长6.5%，高于全省平均水平。", "a.txt")
    b = art("b", a.text, "b.txt")
    c = art("c", "全市新建5G基站3000个，实现城区和重点乡镇全覆盖，用户数突破百万。", "c.txt")
    result = merge_duplicates([a, b, c])
    assert [x.article_id for x in result.articles] == ["a", "c"]
    assert result.articles[0].sources == ("a.txt", "b.txt")


def test_threshold_is_checked():
    with pytest.raises(ConfigError, match="1.5"):
        merge_duplicates([], threshold=1.5)


def test_a_long_text_is_signed_in_blocks_with_the_signature_of_all_its_shingles():
    from datasketch import MinHash

    from qa.dedup import NUM_PERM, SCHEME, shingles, signature

    text = first_page_article() * 3
    blocks = list(shingles(text, block=100))
    assert len(blocks) > 3 and max(len(b) for b in blocks) == 100
    whole = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME)
    whole.update_batch(list({s for b in blocks for s in b}))
    assert (signature(text) == whole.hashvalues).all()
