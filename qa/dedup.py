"""Near-duplicate articles: MinHash over character shingles, one canonical copy kept.

Two articles are duplicates when the estimated Jaccard similarity of their sets of
character 5-grams (of the folded text, whitespace and punctuation removed) is at least
`DEFAULT_THRESHOLD` (0.6). Reprinted copies with small wording changes score 0.8+,
different articles on the same topic stay below 0.2.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from qa.errors import ConfigError
from qa.text import normalize
from qa.types import Article

DEFAULT_THRESHOLD = 0.6
SHINGLE = 5
NUM_PERM = 128
SCHEME = "affine32"  # stored signatures are only comparable within one permutation scheme
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


@dataclass(frozen=True)
class DedupResult:
    """Canonical articles (sources merged) and the (kept_id, dropped_id) pairs merged."""

    articles: tuple[Article, ...]
    merged: tuple[tuple[str, str], ...]


def shingles(text: str, size: int = SHINGLE) -> set[bytes]:
    """Character `size`-grams of the folded text with whitespace and punctuation removed."""
    s = _DROP.sub("", normalize(text))
    if len(s) <= size:
        return {s.encode("utf-8")} if s else set()
    return {s[i : i + size].encode("utf-8") for i in range(len(s) - size + 1)}


def signature(text: str) -> np.ndarray:
    """MinHash signature (uint64 array of NUM_PERM values) of the text's shingles."""
    from datasketch import MinHash

    mh = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME)
    mh.update_batch(list(shingles(text)))
    return mh.hashvalues.copy()


def similarity(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Estimated Jaccard similarity: the share of equal MinHash values."""
    return float(np.mean(sig_a == sig_b))


def merge_duplicates(
    articles: Sequence[Article],
    signatures: Sequence[np.ndarray] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> DedupResult:
    """Group near-duplicate articles and keep one canonical article per group.

    The canonical copy is the longest text (ties: the earliest in input order); its
    `sources` lists every path any copy was seen in, in input order, without repeats.
    `signatures` may pass precomputed MinHash signatures (one per article).
    """
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"duplicate threshold {threshold} must be in (0, 1]")
    from datasketch import MinHash, MinHashLSH

    sigs = list(signatures) if signatures is not None else [signature(a.text) for a in articles]
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    parent = list(range(len(articles)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, sig in enumerate(sigs):
        mh = MinHash(num_perm=NUM_PERM, seed=1, hashvalues=sig, scheme=SCHEME)
        for key in lsh.query(mh):
            j = int(key)
            # LSH only proposes candidates; confirm with the signature estimate.
            if similarity(sig, sigs[j]) >= threshold:
                parent[find(i)] = find(j)
        lsh.insert(str(i), mh)

    groups: dict[int, list[int]] = {}
    for i in range(len(articles)):
        groups.setdefault(find(i), []).append(i)
    kept: list[tuple[int, Article]] = []
    merged: list[tuple[str, str]] = []
    for members in groups.values():
        best = max(members, key=lambda m: (len(articles[m].text), -m))
        paths: list[str] = []
        for m in members:
            for p in articles[m].sources or (articles[m].path,):
                if p not in paths:
                    paths.append(p)
        kept.append((min(members), replace(articles[best], sources=tuple(paths))))
        merged.extend(
            (articles[best].article_id, articles[m].article_id) for m in members if m != best
        )
    kept.sort(key=lambda t: t[0])
    return DedupResult(articles=tuple(a for _, a in kept), merged=tuple(merged))
