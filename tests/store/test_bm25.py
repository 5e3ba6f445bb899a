"""BM25 over segments: the same scores as bm25s on one segment, the same with the index cut
into segments, and damage named."""
from pathlib import Path

import numpy as np
import pytest

from qa.chunking import chunk_article
from qa.loading import load_paths
from qa.retrieval import bm25_tokens
from qa.segment import segment_page
from qa.store import bm25
from qa.store.bm25 import TermMatrix

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ["5月集装箱吞吐量是多少", "新华社记者报道", "会议在哪里召开", "同比增长"]


@pytest.fixture(scope="module")
def tokens() -> list[list[str]]:
    docs = load_paths([ROOT / "seeds"]).documents
    chunks = [c for d in docs for a in segment_page(d) for c in chunk_article(a)]
    assert len(chunks) > 20
    return [bm25_tokens(f"{c.title}\n{c.text}") for c in chunks]


def test_scores_are_those_of_bm25s_on_one_segment(tokens):
    import bm25s

    reference = bm25s.BM25()
    reference.index(tokens, show_progress=False)
    matrix = TermMatrix.build(tokens)
    scored = 0
    for query in QUERIES:
        terms = [t for t in bm25_tokens(query) if t in matrix.terms]
        if not terms:
            continue
        scored += 1
        ours = bm25.scores([matrix], terms)[0]
        np.testing.assert_allclose(ours, reference.get_scores(terms), rtol=1e-5, atol=1e-6)
        assert ours.max() > 0
    assert scored >= 3


def test_cutting_the_index_into_segments_changes_no_score(tokens):
    whole = bm25.scores([TermMatrix.build(tokens)], bm25_tokens(QUERIES[0]))[0]
    cuts = (0, 3, len(tokens) // 2, len(tokens))
    parts = [TermMatrix.build(tokens[a:b]) for a, b in zip(cuts, cuts[1:])]
    np.testing.assert_allclose(np.concatenate(bm25.scores(parts, bm25_tokens(QUERIES[0]))), whole,
                               rtol=1e-5)


def test_saved_matrix_loads_back_and_damage_is_named(tokens, tmp_path):
    matrix = TermMatrix.build(tokens)
    matrix.save(tmp_path / "bm25")
    back = TermMatrix.load(tmp_path / "bm25")
    assert back.terms == matrix.terms and back.problem(len(tokens)) == ("", "")
    assert back.problem(len(tokens) + 1)[0] == "lengths.npy"
    rows = back.rows.copy()
    rows[0] = len(tokens) + 5
    bad = TermMatrix(back.terms, back.pointers, rows, back.counts, back.lengths)
    assert bad.problem(len(tokens)) == ("rows.npy", "chunk rows out of range")
    counts = back.counts.copy()
    counts[-1] = 0
    assert TermMatrix(back.terms, back.pointers, back.rows, counts, back.lengths).problem(
        len(tokens))[0] == "counts.npy"
