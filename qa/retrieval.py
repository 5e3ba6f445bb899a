"""Retrieval: BM25 over jieba tokens, dense FAISS search, and their fusion into Hits.

Every retriever has one method shape: `search(query, k) -> list[Hit]`, best first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from qa.errors import ConfigError
from qa.text import cut, normalize
from qa.types import Article, Chunk, Hit

# Function words and question words carry no topic: dropping them keeps BM25 on content.
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 也 都 就 而 并 等 这 那 其 之 于 以 为 对 从 把 被 由 向 将 让 给 "
    "中 上 下 里 个 有 又 还 很 更 最 已 已经 要 会 能 可 可以 吗 呢 吧 啊 呀 么 着 过 我 你 他 她 它 "
    "我们 你们 他们 她们 哪 哪些 哪个 哪里 哪儿 什么 多少 几 谁 怎么 怎样 如何 为什么 何时 何地 何 "
    "是否 有没有 请问 请 告诉 一下 一个 这个 那个 这些 那些 "
    "the a an of to in on for and or is are was were be what which who whom when where why how "
    "many much does did do".split()
)
_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)


def bm25_tokens(text: str) -> list[str]:
    """BM25 terms: jieba words of the folded text (simplified, NFKC, lower), minus stopwords
    and punctuation."""
    return [w for w in cut(normalize(text)) if w not in STOPWORDS and not _PUNCT.match(w)]


def rrf(rankings: Sequence[Sequence[int]], k: int = 60,
        weights: Sequence[float] | None = None) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: score(d) = sum_i w_i / (k + rank_i(d)), ranks 1-based; best first."""
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ConfigError(f"{len(weights)} fusion weights for {len(rankings)} rankings")
    scores: dict[int, float] = {}
    for w, ranking in zip(weights, rankings):
        for r, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + w / (k + r)
    return sorted(scores.items(), key=lambda t: (-t[1], t[0]))


@dataclass(frozen=True)
class RetrievalConfig:
    """Hybrid retrieval parameters; the defaults are the best RRF setting measured by
    bench/retrieval.py on CMRC 2018 dev and DRCD dev together (see README)."""

    mode: str = "hybrid"  # "hybrid", "bm25" or "dense"
    rrf_k: int = 10
    bm25_weight: float = 1.3
    dense_weight: float = 1.0
    depth: int = 50  # how many candidates each retriever contributes to the fusion

    def __post_init__(self) -> None:
        if self.mode not in ("hybrid", "bm25", "dense"):
            raise ConfigError(f"retrieval mode {self.mode!r}: use hybrid, bm25 or dense")
        if self.rrf_k < 1 or self.depth < 1:
            raise ConfigError(f"rrf_k ({self.rrf_k}) and depth ({self.depth}) must be >= 1")


class HybridRetriever:
    """Dense (FAISS inner product) and BM25 rankings of chunks fused with RRF into Hits.

    `index` is what holds the chunks: a qa.store.IndexView (or anything with its `chunks`,
    `articles`, `dense(vector, depth)` and `sparse(tokens, depth)`)."""

    def __init__(self, index, embed_query: Callable[[str], np.ndarray],
                 config: RetrievalConfig = RetrievalConfig()):
        self.index = index
        self.chunks: Sequence[Chunk] = index.chunks
        self.articles: Mapping[str, Article] = index.articles
        self.embed_query = embed_query
        self.config = config

    def dense_ranking(self, query: str, depth: int) -> list[tuple[int, float]]:
        """(row, cosine) of the `depth` nearest chunks to the query embedding."""
        if not len(self.chunks):
            return []
        return self.index.dense(np.asarray(self.embed_query(query), dtype=np.float32), depth)

    def bm25_ranking(self, query: str, depth: int) -> list[tuple[int, float]]:
        """(row, BM25 score) of the `depth` best chunks with a positive score."""
        tokens = bm25_tokens(query)
        if not len(self.chunks) or not tokens:
            return []
        return self.index.sparse(tokens, depth)
    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The `k` best chunks for `query`, best first, with fused and per-retriever scores."""
        if k < 1:
            raise ConfigError(f"k={k}: ask for at least one passage")
        cfg = self.config
        dense = self.dense_ranking(query, cfg.depth) if cfg.mode != "bm25" else []
        sparse = self.bm25_ranking(query, cfg.depth) if cfg.mode != "dense" else []
        if cfg.mode == "dense":
            fused = dense
        elif cfg.mode == "bm25":
            fused = sparse
        else:
            fused = rrf([[r for r, _ in dense], [r for r, _ in sparse]], k=cfg.rrf_k,
                        weights=[cfg.dense_weight, cfg.bm25_weight])
        dense_of, sparse_of = dict(dense), dict(sparse)
        hits = []
        for rank, (row, score) in enumerate(fused[:k], start=1):
            chunk = self.chunks[row]
            article = self.articles.get(chunk.article_id)
            hits.append(Hit(
                chunk=chunk, score=score, rank=rank, title=chunk.title,
                paths=article.sources if article else (),
                date=article.date if article else "",
                dateline=article.dateline if article else "",
                dense_score=dense_of.get(row), bm25_score=sparse_of.get(row),
            ))
        return hits
