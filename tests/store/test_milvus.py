"""qa.store.milvus against Milvus Lite (real, no mocks): the mirror holds exactly the live
chunks and ranks them as the default store does, and a rerun after a change (or a killed
run) repairs it without duplicates."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pymilvus")  # the scale extra; make test installs it

from qa.embedders import FakeEmbedder  # noqa: E402
from qa.errors import ConfigError  # noqa: E402
from qa.indexer import ingest, remove_paths  # noqa: E402
from qa.retrieval import bm25_tokens  # noqa: E402
from qa.store import EmbeddingCache, IndexView, read_manifest  # noqa: E402
from qa.store.milvus import AVG_DRIFT, MilvusMirror  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ["5月份中国制造业PMI是多少？", "龙虾狂欢节的照片是谁拍的？", "潍坊高新区有多少家隐形冠军企业？",
             "東陽市為外貿企業辦理出口退稅多少？"]


def _view(index: Path) -> IndexView:
    return IndexView(index, read_manifest(index))


@pytest.fixture
def built(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "seeds", corpus)
    index = tmp_path / "index"
    ingest([corpus], index, FakeEmbedder(64), cache=EmbeddingCache(tmp_path / "cache.sqlite"))
    return corpus, index


def _same_rankings(view: IndexView, mirror: MilvusMirror, bm25_rtol: float = 1e-4) -> None:
    """Same rows; same scores (BM25 within `bm25_rtol`: a segment's weights keep the average
    length they were written with until it drifts past AVG_DRIFT)."""
    embedder = FakeEmbedder(64)
    for question in QUESTIONS:
        vector = embedder.encode_queries([question])[0]
        want, got = view.dense(vector, 10), mirror.dense(view, vector, 10)
        assert [r for r, _ in got] == [r for r, _ in want]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-4, atol=1e-5)
        tokens = bm25_tokens(question)
        want, got = view.sparse(tokens, 10), mirror.sparse(view, tokens, 10)
        assert [r for r, _ in got] == [r for r, _ in want] and got
        np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=bm25_rtol)


def test_mirror_ranks_as_the_default_store_and_follows_removals(built, tmp_path):
    corpus, index = built
    mirror = MilvusMirror(tmp_path / "milvus.db", "seeds", 64)
    view = _view(index)
    first = mirror.reconcile(view)
    assert first.upserted == mirror.count() == len(view.chunks) > 0
    _same_rankings(view, mirror)
    assert mirror.reconcile(view).upserted == 0  # nothing to do the second time
    view.close()

    removed = remove_paths([next(corpus.iterdir())], index, FakeEmbedder(64))
    assert removed
    view = _view(index)
    live = len(view.chunks) - sum(len(d) for d in view.deleted)
    mirror.reconcile(view)
    assert mirror.count() == live  # the removed file's chunks are gone, nothing duplicated
    _same_rankings(view, mirror, bm25_rtol=AVG_DRIFT)
    view.close()
    mirror.close()


def test_a_half_written_mirror_is_repaired_without_duplicates(built, tmp_path):
    _, index = built
    view = _view(index)
    mirror = MilvusMirror(tmp_path / "milvus.db", "seeds", 64)
    mirror.reconcile(view)
    total = mirror.count()
    name = view.manifest.segments[0].name
    mirror.client().delete("seeds", ids=[f"{name}:0", f"{name}:1"])  # as if a run died mid-segment,
    mirror.client().delete(mirror.state_collection, ids=["state"])  # before recording that it finished
    assert mirror.count() == total - 2 and not mirror.in_step(view.manifest)
    report = mirror.reconcile(view)
    assert name in report.segments_written and mirror.count() == total
    _same_rankings(view, mirror)
    view.close()
    mirror.close()


def test_bad_arguments_and_unreachable_server_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="collection name"):
        MilvusMirror(tmp_path / "m.db", "bad name!", 64)
    with pytest.raises(ConfigError, match="dim"):
        MilvusMirror(tmp_path / "m.db", "ok", 0)
    with pytest.raises(ConfigError, match="127.0.0.1:9"):
        MilvusMirror("http://127.0.0.1:9", "ok", 64, timeout=2).client()


def test_segments_are_rewritten_when_the_average_length_drifts(built, tmp_path):
    _, index = built
    view = _view(index)
    mirror = MilvusMirror(tmp_path / "milvus.db", "seeds", 64)
    mirror.reconcile(view)
    assert mirror.reconcile(view).segments_written == ()  # in step: nothing rewritten
    state = mirror._state()
    for record in state["segments"].values():  # as if written when chunks were half as long again
        record["avglen"] *= 1.5
    mirror.client().upsert(mirror.state_collection, [{"key": "state", "unused": [0.0, 0.0],
                                                      "state": json.dumps(state)}])
    report = mirror.reconcile(view)
    assert report.segments_written == tuple(e.name for e in view.manifest.segments)
    _same_rankings(view, mirror)  # exact again
    view.close()
    mirror.close()
