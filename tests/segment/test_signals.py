"""qa.segment.signals: the shipped decision weights, the title-run decoder and the text signals."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from qa.errors import ModelFileError
from qa.segment.articles import merge_fragments
from qa.segment.signals import (FRAG, MODEL_FILE, NEXT, PREV, SUB, TITLE_FEATURES, Classifier, crosses_word, load_model,
                                overlap, place_title_lines, terms)
from qa.segment.units import BODY, TITLE, _units


def test_shipped_model_loads_with_every_decision():
    model = load_model()
    logp = model.titles.scores(np.zeros((2, len(TITLE_FEATURES))))
    assert logp.shape == (2, 4) and np.allclose(np.exp(logp).sum(axis=1), 1.0)  # PREV, NEXT, SUB, FRAG
    assert model.split.weights.shape[0] == 1 and model.resume.weights.shape[0] == 1
    assert 0.0 < model.resume_threshold < 1.0


def test_missing_or_damaged_model_file_names_the_file(tmp_path):
    missing = tmp_path / "segmenter.json"
    with pytest.raises(ModelFileError, match="segmenter.json"):
        load_model(str(missing))
    missing.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelFileError, match="damaged"):
        load_model(str(missing))
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    data["titles"]["features"] = ["something_else"]
    missing.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelFileError, match="refit"):
        load_model(str(missing))


def _uniform_titles(logp: list[list[float]]) -> Classifier:
    """A model whose class log-probabilities are the given rows whatever the features."""
    k = len(TITLE_FEATURES)
    return Classifier(TITLE_FEATURES, np.zeros((4, k)), np.asarray(logp[0]), np.zeros(k), np.ones(k))


def _rows(n: int, after_body: bool = True, headed: bool = False) -> np.ndarray:
    rows = np.zeros((n, len(TITLE_FEATURES)))
    rows[0, TITLE_FEATURES.index("after_body")] = float(after_body)
    rows[:, TITLE_FEATURES.index("prev_headed")] = float(headed)
    return rows


def test_title_run_labels_follow_the_page_order():
    likes_prev = _uniform_titles([[0.0, -3.0, -3.0, -3.0]])
    assert place_title_lines(likes_prev, _rows(2), has_prev=True, has_next=True) == [PREV, PREV]
    # No body above: nothing to close; a body that has its headline takes no second one.
    assert place_title_lines(likes_prev, _rows(2), has_prev=False, has_next=True) == [NEXT, NEXT]
    assert place_title_lines(likes_prev, _rows(2, headed=True), has_prev=True, has_next=True) == [NEXT, NEXT]
    likes_frag = _uniform_titles([[-3.0, -3.0, -3.0, 0.0]])
    # Only the first line right after body text may be a fragment.
    labels = place_title_lines(likes_frag, _rows(2), has_prev=True, has_next=True)
    assert labels[0] == FRAG and labels[1] != FRAG
    assert FRAG not in place_title_lines(likes_frag, _rows(2, after_body=False), has_prev=True, has_next=True)
    likes_sub = _uniform_titles([[-3.0, -2.0, 0.0, -3.0]])
    assert place_title_lines(likes_sub, _rows(2, after_body=False), has_prev=True, has_next=True) == [SUB, SUB]


def test_fragment_prior_leans_the_line_after_body_to_a_fragment():
    # NEXT is likelier than FRAG by one nat (log-probabilities -1.0 against -2.0).
    leans_next = _uniform_titles([[-4.0, -1.0, -4.0, -2.0]])
    assert place_title_lines(leans_next, _rows(1), has_prev=True, has_next=True) == [NEXT]
    assert place_title_lines(leans_next, _rows(1), has_prev=True, has_next=True, fragment_prior=1.5) == [FRAG]
    # Only a line right after body text is leaned: elsewhere the model alone decides.
    assert place_title_lines(leans_next, _rows(1, after_body=False), has_prev=True, has_next=True,
                             fragment_prior=1.5) == [NEXT]
    assert load_model().fragment_prior >= 0.0


def test_word_across_a_junction():
    assert crosses_word("人们都感觉到，这", "里有着一线城市的样子。")  # 这|里 -> 这里
    assert not crosses_word("人们都感觉到了。", "新的一年开始了。")


def test_terms_overlap_of_headline_and_body():
    head, body = terms("氢能公交车投入运营"), terms("全市首批氢能公交车近日投入运营。")
    assert overlap(head, body) == pytest.approx(7 / 8)  # all bigrams but 车投 (车近日投); no single characters
    assert overlap(terms("图书馆开放时间"), body) == 0.0


def test_fragment_joins_the_paragraph_below_or_stands_alone():
    text = "一篇报道的标题\n\n首批氢能公交车近日投入\n\n运营，覆盖三条线路。\n\n另一篇的标题\n"
    units = _units(text)
    frag = next(i for i, u in enumerate(units) if u.text.startswith("首批"))
    units[frag] = replace(units[frag], kind=TITLE)
    merged, standalone = merge_fragments(units, [frag])
    assert merged[frag].kind == BODY and merged[frag].text == "首批氢能公交车近日投入运营，覆盖三条线路。"
    assert standalone == {}
    alone, standalone = merge_fragments(units[: frag + 1] + units[frag + 2:], [frag])
    assert alone[frag].kind == BODY and alone[frag].unfinished and standalone == {frag: frag}


class _FixedResume:
    """A resumption model giving the candidates of each interrupted paragraph fixed
    probabilities, in page order."""

    def __init__(self, probabilities: list[float]):
        self.probabilities = probabilities

    def scores(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.probabilities[: len(rows)])


def test_resumed_part_starts_at_the_first_of_consecutive_likely_paragraphs():
    from qa.segment.articles import WALK_UP_MIN_PROB, _resumptions

    text = ("城市绿地面积持续增加\n\n本报讯 今年以来，全市新增城市绿地一百二十公顷，建成口袋公园四十六个，"
            "市民出门五百米就能见到绿色。园林部门负责人介绍，新建公园大多利用\n\n氢能公交车投入运营\n\n"
            "时报讯 全市首批氢能公交车近日投入运营。\n\n边角地块。\n\n下一步，全市还将改造老旧公园二十座。\n")
    units = _units(text)
    broken = next(i for i, u in enumerate(units) if u.unfinished)
    tail = next(i for i, u in enumerate(units) if u.text == "边角地块。")
    # The short last words score low, the topical paragraph after them high: the part starts
    # at the short one as long as it is not unlikely; below WALK_UP_MIN_PROB it is left out.
    assert _resumptions(units, _FixedResume([WALK_UP_MIN_PROB + 0.05, 0.9]), 0.5, {}) == {tail: broken}
    assert _resumptions(units, _FixedResume([WALK_UP_MIN_PROB - 0.05, 0.9]), 0.5, {}) == {tail + 1: broken}
    assert _resumptions(units, _FixedResume([0.1, 0.3]), 0.5, {}) == {}


def test_paragraph_opening_with_a_comma_carries_an_interrupted_one_on_with_less_evidence():
    from qa.segment.articles import OPEN_END_MIN_PROB, _resumptions

    def page(rest: str) -> list:
        return _units("城市绿地面积持续增加\n\n本报讯 今年以来，全市新增城市绿地一百二十公顷\n\n氢能公交车投入运营\n\n"
                      f"时报讯 全市首批氢能公交车近日投入运营。\n\n{rest}\n")

    weak = _FixedResume([OPEN_END_MIN_PROB + 0.05])
    units = page("，建成口袋公园四十六个，市民出门五百米就能见到绿色。")
    broken = next(i for i, u in enumerate(units) if u.unfinished)
    assert units[broken].text.startswith("本报讯")  # a dateline paragraph stopping without final punctuation
    assert _resumptions(units, weak, 0.5, {}) == {len(units) - 1: broken}
    # The same weak evidence does not link a paragraph that opens like any other.
    assert _resumptions(page("建成口袋公园四十六个，市民出门五百米就能见到绿色。"), weak, 0.5, {}) == {}
