"""The segmentation bench: generated pages keep their truth exact; the metrics score hand-made
predictions as intended."""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import segmentation  # noqa: E402
import segpages  # noqa: E402
from qa.types import Article, Segment  # noqa: E402
from segpages import Page, TruthArticle  # noqa: E402


@pytest.fixture(scope="module")
def tune_pages() -> list[Page]:
    if not (segpages.BENCHMARKS / segpages.SPLITS["tune"][0]).exists():
        pytest.skip("shared benchmarks not found")
    return segpages.build_pages("tune", 40, 1)


@pytest.fixture(scope="module")
def heldout_pages() -> list[Page]:
    if not all((segpages.BENCHMARKS / rel).exists() for rel in segpages.SPLITS["heldout"]):
        pytest.skip("shared benchmarks not found")
    return segpages.build_pages("heldout", 15, 2)


def _source_sentences(ref: str) -> set[str]:
    file, index = ref.split("#")
    rel = next(r for rels in segpages.SPLITS.values() for r in rels if r.endswith(file))
    src = next(s for s in segpages.load_sources(str(segpages.BENCHMARKS / rel)) if s.ref == ref)
    return {s for p in src.paragraphs for s in segpages.sentences(p)}


def _printed(page: Page, art: TruthArticle) -> list[str]:
    """The article's sentences as printed (newlines removed); the two pieces of the sentence cut
    by an interruption (other articles' sentences between them) joined again."""
    others = [s for o in page.articles if o is not art for s, _ in o.sentences]
    out = []
    for (s, e), prev in zip(art.sentences, [None, *art.sentences]):
        piece = page.text[s:e].replace("\n", "")
        if prev and any(prev[1] <= o < s for o in others):
            out[-1] += piece
        else:
            out.append(piece)
    return out


def test_sentences_keep_closing_quotes_and_drop_an_unfinished_tail():
    assert segpages.sentences("他说：“好。”然后\n走了！没有结尾") == ["他说：“好。”", "然后 走了！"]


def test_pages_are_deterministic_for_a_seed(tune_pages):
    again = segpages.build_pages("tune", 40, 1)
    assert [(p.text, p.articles, p.layout) for p in again] == [(p.text, p.articles, p.layout) for p in tune_pages]
    assert segpages.build_pages("tune", 3, 2)[0].text != tune_pages[0].text
    assert segpages.build_pages("tune", 3, 1)[2].text == tune_pages[2].text  # page i ignores n_pages


def test_truth_sentences_are_source_sentences(tune_pages, heldout_pages):
    for page in tune_pages + heldout_pages:
        assert 3 <= sum(a.kind == "article" for a in page.articles) <= 7
        for art, rec in zip(page.articles, page.layout["articles"], strict=True):
            if art.kind == "caption":
                assert art.title == "" and _printed(page, art) == [rec["caption"]]
                assert any(rec["caption"].endswith(s) for s in _source_sentences(rec["source"]))
            else:
                assert set(_printed(page, art)) <= _source_sentences(rec["source"]), art.title
                assert art.title and art.title.split(" ")[0] in page.text


def test_column_breaks_fall_inside_truth_ranges(tune_pages):
    wrapped = [p for p in tune_pages if p.layout["wrap"]]
    assert wrapped
    for page in wrapped:
        assert any("\n" in page.text[s:e] for a in page.articles for s, e in a.sentences)
        columns = 2 * page.layout["wrap"]
        for line in page.text.splitlines():
            if not line or any(line == t or line in t.split(" ") for a in page.articles for t in [a.title]):
                continue  # headlines are not wrapped
            # printed width: at most the column, plus punctuation kept from the next line
            assert sum(segpages._wide(ch) for ch in line.rstrip(segpages.NO_LINE_START)) <= columns, line


def test_resumed_article_is_printed_in_two_parts_with_another_between(tune_pages):
    resumed = [p for p in tune_pages if p.layout["resumed"] is not None]
    assert resumed
    for page in resumed:
        k = page.layout["resumed"]
        art = page.articles[k]
        assert art.resumed and sum(a.resumed for a in page.articles) == 1
        gaps = [(e, s) for (_, e), (s, _) in zip(art.sentences, art.sentences[1:])
                if any(e <= os_ < s for o in page.articles if o is not art for os_, _ in o.sentences)]
        assert len(gaps) == 1
        # part 1 stops mid-sentence
        assert page.text[gaps[0][0] - 1] not in segpages.END + segpages.CLOSERS


def test_no_blank_line_pages_have_none(tune_pages, heldout_pages):
    pages = [p for p in tune_pages + heldout_pages if p.layout["blank"] == "none"]
    assert pages
    for page in pages:
        assert all(line.strip() for line in page.text.rstrip("\n").split("\n"))
    assert any("\n\n" in p.text for p in tune_pages if p.layout["blank"] != "none")


def test_generated_names_and_places_are_not_the_seed_pages(tune_pages):
    seed_text = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "seeds").glob("*.txt"))
    made = {x for p in tune_pages for x in p.layout["names"] + p.layout["places"]}
    assert made and not {x for x in made if x in seed_text}


def test_drcd_pages_print_furniture_in_traditional_script(heldout_pages):
    drcd = [p for p in heldout_pages if p.layout["file"] == "DRCD_dev.json"]
    assert drcd and all(p.layout["script"] == "traditional" for p in drcd)
    assert not any(w in p.text for p in drcd for w in ("本报讯", "记者", "新华社"))


# ---- metrics on a hand-made page ------------------------------------------------------------

TEXT = "甲标题\n甲一句。甲二\n\n乙标题\n乙一句。乙二句。\n\n句。甲三句。\n\n图为丙。（记者 某某 摄）\n"


def _at(sub: str, after: int = 0) -> tuple[int, int]:
    s = TEXT.index(sub, after)
    return s, s + len(sub)


A1, A2A, B1, B2 = _at("甲一句。"), _at("甲二"), _at("乙一句。"), _at("乙二句。")
A2B, A3, C1 = _at("句。", B2[1]), _at("甲三句。"), _at("图为丙。")
PAGE = Page(TEXT, (TruthArticle("甲标题", "article", (A1, A2A, A2B, A3), True),
                   TruthArticle("乙标题", "article", (B1, B2), False),
                   TruthArticle("", "caption", (C1,), False)),
            {"file": "hand.json", "blank": "all", "resumed": 0})


def _art(title: str, *spans: tuple[int, int], kind: str = "article") -> Article:
    return Article(article_id=title, doc_id="d", path="p", title=title, text="", kind=kind,
                   segments=tuple(Segment(s, e, 0) for s, e in spans))


PA = _art("甲标题", (A1[0], A2A[1]), (A2B[0], A3[1]))
PB = _art("乙标题", (B1[0], B2[1]))
PC = _art("", (C1[0], TEXT.index("）") + 1), kind="caption")


def _overall(pred: list[Article]) -> segmentation.Scores:
    return segmentation.score([PAGE], [pred]).overall


def test_perfect_segmentation_scores_one_everywhere():
    s = _overall([PA, PB, PC])
    assert (s.boundary_precision, s.boundary_recall, s.boundary_f1) == (1.0, 1.0, 1.0)
    assert (s.bcubed_precision, s.bcubed_recall, s.bcubed_f1) == (1.0, 1.0, 1.0)
    assert s.headline_accuracy == 1.0 and s.headlines == 2
    assert s.resumed_stitched == 1.0 and s.caption_accuracy == 1.0 and s.sentences == 7


def test_labels_take_the_article_covering_most_of_a_sentence():
    half = _art("x", (A1[0], A1[0] + 1))  # covers 1 of 4 characters of 甲一句。
    labels = segmentation.predicted_labels(TEXT, PAGE.articles, [half, PA])
    assert labels[0] == [1, 1, 1, 1] and labels[1] == [-1, -1]


def test_merging_two_articles_lowers_recall_not_precision():
    merged = _art("甲标题", (A1[0], A3[1]))  # 乙 swallowed into 甲
    s = _overall([merged, PC])
    assert s.boundary_precision == 1.0 and s.boundary_recall == pytest.approx(1 / 3, abs=1e-4)
    assert s.bcubed_precision < 1.0 and s.bcubed_recall == 1.0
    assert s.headline_accuracy == 0.5  # 乙's sentences went to an article titled 甲标题


def test_splitting_an_article_lowers_precision_not_recall():
    s = _overall([PA, _art("乙标题", B1), _art("乙二", B2), PC])
    assert s.boundary_recall == 1.0 and s.boundary_precision == 0.75
    assert s.bcubed_recall < 1.0 and s.bcubed_precision == 1.0


def test_uncovered_sentence_is_a_predicted_boundary():
    s = _overall([PA, _art("乙标题", B2), PC])
    assert s.boundary_recall == 1.0 and s.boundary_precision == 0.75


def test_wrong_title_lowers_headline_accuracy_only():
    s = _overall([PA, _art("乙标题 乙一句。", (B1[0], B2[1])), PC])
    assert s.headline_accuracy == 0.5 and s.boundary_f1 == 1.0 and s.bcubed_f1 == 1.0
    spaced = _art(" 甲标题\u3000", (A1[0], A2A[1]), (A2B[0], A3[1]))  # whitespace is collapsed
    assert _overall([spaced, PB, PC]).headline_accuracy == 1.0


def test_resumed_article_split_in_two_is_not_stitched():
    s = _overall([_art("甲标题", (A1[0], A2A[1])), PB, _art("", (A2B[0], A3[1])), PC])
    assert s.resumed_stitched == 0.0 and s.resumed == 1
    assert s.boundary_f1 == 1.0 and s.bcubed_recall < 1.0  # boundaries alone cannot see it


def test_caption_taken_as_an_article_counts_against_captions():
    assert _overall([PA, PB, _art("", (C1[0], C1[1]))]).caption_accuracy == 0.0


def test_evaluate_times_segment_calls_and_reports_json(tmp_path):
    calls = []

    def fake(doc):
        calls.append(doc.text)
        return [PA, PB, PC]

    report = segmentation.evaluate([PAGE], fake, "tune", 0)
    assert calls == [TEXT, TEXT]  # one untimed warm-up, one timed call
    assert report.overall.boundary_f1 == 1.0 and report.pages_per_second > 0
    assert report.pages_per_second_by_file["hand.json"] == report.pages_per_second
    assert report.per_file["hand.json"].pages == 1 and report.by_layout["resumed article"].pages == 1
    assert report.by_layout["blank lines everywhere"].pages == 1 and "no blank lines" not in report.by_layout
    path = tmp_path / "r.json"
    segmentation.write_report(path, report.to_json({"commit": "abc"}))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["commit"] == "abc" and data["overall"]["bcubed_f1"] == 1.0 and "page_scores" not in data
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
