"""The official CMRC 2018 metric, worked by hand, plus retrieval and abstention scores."""
from __future__ import annotations

import pytest

from qa.errors import ConfigError
from qa.metrics import (abstention_scores, em_score, f1_score, mixed_segmentation, mrr,
                        percentile, recall_at_k, remove_punctuation)


def test_segmentation_splits_cjk_and_keeps_numbers_whole():
    # "50.6%": one number token, '%' (not in the official list) its own token.
    assert mixed_segmentation("50.6%") == ["50.6", "%"]
    assert mixed_segmentation("约8000人") == ["约", "8000", "人"]
    # lower-cased; the space only separates the Latin run from nothing (CJK splits anyway).
    assert mixed_segmentation("Apple公司") == ["apple", "公", "司"]
    assert mixed_segmentation("apple 公司") == ["apple", "公", "司"]
    assert mixed_segmentation("3300余万元") == ["3300", "余", "万", "元"]
    # nltk-like word tokens: thousands comma kept, clitic split, "..." one token.
    assert mixed_segmentation("I don't know, 1,000 cats...") == [
        "i", "do", "n't", "know", ",", "1,000", "cats", "..."]


def test_segmentation_punctuation_follows_official_list():
    # '“' '”' are listed: own tokens, removed with rm_punc.
    assert mixed_segmentation("“不见面审批”") == ["“", "不", "见", "面", "审", "批", "”"]
    assert mixed_segmentation("“不见面审批”", rm_punc=True) == ["不", "见", "面", "审", "批"]
    # '‘' is NOT in the official list (only '’' is): it survives rm_punc.
    assert mixed_segmentation("‘数据’", rm_punc=True) == ["‘", "数", "据"]
    # Official quirk: a removed char does not close the Latin run, so "a-b" becomes "ab".
    assert mixed_segmentation("wi-fi", rm_punc=True) == ["wifi"]
    assert mixed_segmentation("wi-fi") == ["wi", "-", "fi"]


def test_remove_punctuation_keeps_spaces_and_unlisted_marks():
    assert remove_punctuation(" “一网通办”、 ") == "一网通办"
    assert remove_punctuation("Apple 公司") == "apple 公司"
    assert remove_punctuation("50.6%") == "50.6%"
    assert remove_punctuation("等待……") == "等待……"  # '……' never matches char by char


def test_exact_match():
    assert em_score("50.6%", ["50.6%"]) == 1.0
    assert em_score("“不见面审批”", ["不见面审批"]) == 1.0  # listed quotes dropped
    assert em_score("约8000人", ["8000人"]) == 0.0
    # The official EM keeps spaces, so these differ although F1 is perfect.
    assert em_score("Apple公司", ["apple 公司"]) == 0.0
    assert em_score("10大工作专班", ["10大", "10大工作专班"]) == 1.0
    assert em_score("", ["482家"]) == 0.0
    assert em_score("482家", []) == 0.0


def test_f1_worked_examples():
    assert f1_score("50.6%", ["50.6%"]) == 1.0
    # pred [约, 8000, 人] vs gold [8000, 人]: lcs 2, P=2/3, R=1, F1=2*(2/3)/(5/3)=0.8
    assert f1_score("约8000人", ["8000人"]) == pytest.approx(0.8)
    assert f1_score("Apple公司", ["apple 公司"]) == 1.0
    # pred [‘, 不, 见, 面, 审, 批] (’ dropped) vs 5 gold tokens: P=5/6, R=1, F1=10/11
    assert f1_score("‘不见面审批’", ["不见面审批"]) == pytest.approx(10 / 11)


def test_f1_takes_max_over_golds_and_contiguous_lcs():
    # pred: 大 型 企 业 pmi 为 51.6 % (8 tokens)
    # gold "51.6%": lcs 2, P=1/4, R=1 -> 0.4 ; gold "50.8%": lcs 1 ('%'), P=1/8, R=1/2 -> 0.2
    pred = "大型企业PMI为51.6%"
    assert f1_score(pred, ["50.8%"]) == pytest.approx(0.2)
    assert f1_score(pred, ["50.8%", "51.6%"]) == pytest.approx(0.4)
    # Contiguous, not subsequence: pred 研 究 院 vs gold 研 发 院 share only 1-token runs.
    # lcs 1, P=R=1/3, F1=1/3
    assert f1_score("研究院", ["研发院"]) == pytest.approx(1 / 3)


def test_f1_empty_and_disjoint_are_zero():
    assert f1_score("", ["5月30日"]) == 0.0
    assert f1_score("   ", ["5月30日"]) == 0.0
    assert f1_score("王钦敏", ["赵庆河"]) == 0.0
    assert f1_score("王钦敏", []) == 0.0


def test_traditional_text_is_scored_as_written():
    # Traditional characters are CJK tokens like any other.
    assert mixed_segmentation("國際競爭力") == ["國", "際", "競", "爭", "力"]
    assert em_score("「國際競爭力」", ["國際競爭力"]) == 1.0
    # The official metric does not fold scripts: only 力 matches, P=R=1/5, F1=0.2.
    assert em_score("国际竞争力", ["國際競爭力"]) == 0.0
    assert f1_score("国际竞争力", ["國際競爭力"]) == pytest.approx(0.2)


def test_recall_and_mrr():
    ranks = [1, 3, None, 2]
    assert recall_at_k(ranks, 1) == 0.25
    assert recall_at_k(ranks, 2) == 0.5
    assert recall_at_k(ranks, 10) == 0.75
    # (1 + 1/3 + 0 + 1/2) / 4 = 11/24
    assert mrr(ranks) == pytest.approx(11 / 24)
    assert recall_at_k([], 5) == 0.0 and mrr([]) == 0.0
    with pytest.raises(ConfigError, match="k=0"):
        recall_at_k(ranks, 0)
    with pytest.raises(ConfigError, match="position 1"):
        mrr([1, 0])


def test_percentile_interpolates():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10, 20], 95) == pytest.approx(19.5)
    with pytest.raises(ConfigError):
        percentile([], 50)
    with pytest.raises(ConfigError):
        percentile([1.0], 150)


def test_abstention_precision_recall():
    # abstained on q1 (unanswerable, right) and q2 (answerable, wrong); missed q3.
    p, r = abstention_scores([True, True, False, False], [True, False, True, False])
    assert (p, r) == (0.5, 0.5)
    assert abstention_scores([False, False], [True, False]) == (0.0, 0.0)
    assert abstention_scores([True], [True]) == (1.0, 1.0)
    with pytest.raises(ConfigError):
        abstention_scores([True], [True, False])
