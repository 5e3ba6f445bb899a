"""The reader's training script exports LightGBM trees that qa.answer walks identically."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import lightgbm as lgb  # noqa: E402
import train_scorer  # noqa: E402

from qa.answer import tree_predict  # noqa: E402


def test_exported_ranker_scores_like_lightgbm():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 5))
    relevance = np.digitize(X[:, 0] + 0.5 * X[:, 3] ** 2, [0.0, 1.0, 2.0])
    booster = lgb.train({"objective": "lambdarank", "verbose": -1, "min_data_in_leaf": 5},
                        lgb.Dataset(X, relevance, group=[20] * 30), num_boost_round=15)
    model = train_scorer.export_lightgbm(booster, [f"f{i}" for i in range(5)])
    assert len(model["trees"]) == 15
    np.testing.assert_allclose(tree_predict(model, X), booster.predict(X), rtol=1e-9, atol=1e-9)


def test_relevance_grades_exact_matches_highest():
    assert np.digitize([0.0, 0.3, 0.6, 0.9, 1.0], train_scorer.RELEVANCE_EDGES).tolist() == [0, 1, 2, 3, 4]


def test_the_ranker_learns_from_train_files_only():
    """Data policy: CMRC 2018 dev and DRCD dev are evaluation sets, scored but never learnt from."""
    import calibrate
    import tune_reader

    names = {p.name for p in train_scorer.TRAIN_SETS.values()}
    assert names == {"cmrc2018_train.json", "xquad.zh.json"}
    assert not names & {p.name for p in train_scorer.HELD_OUT_SETS.values()}
    assert tune_reader.SETS == train_scorer.TRAIN_SETS
    assert set(calibrate.SETS) == set(train_scorer.TRAIN_SETS) | set(train_scorer.HELD_OUT_SETS)
