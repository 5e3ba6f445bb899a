"""Reciprocal rank fusion as a pure function."""
import pytest

from qa.errors import ConfigError
from qa.retrieval import bm25_tokens, rrf


def test_rrf_rewards_documents_ranked_high_by_both():
    fused = rrf([[1, 2, 3], [2, 3, 1]], k=60)
    assert [d for d, _ in fused][0] == 2
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)


def test_rrf_weights_and_disjoint_lists():
    fused = dict(rrf([[1], [2]], k=1, weights=[2.0, 1.0]))
    assert fused == {1: 1.0, 2: 0.5}
    with pytest.raises(ConfigError):
        rrf([[1]], weights=[1.0, 2.0])


def test_bm25_tokens_fold_traditional_and_drop_question_words():
    assert bm25_tokens("臺灣的經濟成長率是多少？") == bm25_tokens("台湾的经济成长率是多少？")
    tokens = bm25_tokens("5月份制造业PMI为多少？")
    assert "多少" not in tokens and "pmi" in tokens and "制造业" in tokens
