"""Near-duplicate articles: MinHash over character shingles, one canonical copy kept.

Two articles are duplicates when the estimated Jaccard similarity of their sets of
character 5-grams (of the folded text, whitespace and punctuation removed) is at least
`DEFAULT_THRESHOLD` (0.6). Reprinted copies with small wording changes score 0.8+,
different articles on the same topic stay below 0.2.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterator, Sequence

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


def shingles(text: str, size: int = SHINGLE, block: int = 1 << 16) -> Iterator[list[bytes]]:
    """Character `size`-grams of the folded text with whitespace and punctuation removed, in
    blocks (a long text never holds all its shingles at once; repeats are harmless to MinHash)."""
    s = _DROP.sub("", normalize(text))
    if len(s) <= size:
        if s:
            yield [s.encode("utf-8")]
        return
    for start in range(0, len(s) - size + 1, block):
        yield [s[i : i + size].encode("utf-8") for i in range(start, min(start + block, len(s) - size + 1))]


def signature(text: str) -> np.ndarray:
    """MinHash signature (uint64 array of NUM_PERM values) of the text's shingles."""
    from datasketch import MinHash

    mh = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME)
    for block in shingles(text):
        mh.update_batch(block)
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
    sigs = list(signatures) if signatures is not None else [signature(a.text) for a in articles]
    kept: list[Article] = []
    merged: list[tuple[str, str]] = []
    for members in group_duplicates(sigs, threshold):
        group = [articles[m] for m in members]
        top = best_copy(group)
        kept.append(canonical(group))
        merged.extend((group[top].article_id, a.article_id) for i, a in enumerate(group) if i != top)
    return DedupResult(articles=tuple(kept), merged=tuple(merged))


def canonical(copies: Sequence[Article]) -> Article:
    """The copy a group keeps: the longest text (ties: the earliest), with `sources` listing
    every path any copy was seen in, in order, without repeats."""
    paths: list[str] = []
    for a in copies:
        for p in a.sources or (a.path,):
            if p not in paths:
                paths.append(p)
    return replace(copies[best_copy(copies)], sources=tuple(paths))


def best_copy(copies: Sequence[Article]) -> int:
    """Index of the longest text among `copies` (ties: the earliest)."""
    return max(range(len(copies)), key=lambda m: (len(copies[m].text), -m))


def band_ranges(threshold: float = DEFAULT_THRESHOLD) -> list[tuple[int, int]]:
    """The LSH bands (start, end) of a signature for `threshold`: datasketch's own choice."""
    from datasketch import MinHashLSH

    return list(MinHashLSH(threshold=threshold, num_perm=NUM_PERM).hashranges)


def band_keys(sig: np.ndarray, ranges: Sequence[tuple[int, int]]) -> list[int]:
    """One signed 64-bit key per band: two signatures are LSH candidates when any key agrees."""
    import hashlib

    return [int.from_bytes(hashlib.blake2b(np.ascontiguousarray(sig[s:e], dtype=np.uint64).tobytes(),
                                           digest_size=8).digest(), "little", signed=True)
            for s, e in ranges]


def group_duplicates(sigs: Sequence[np.ndarray], threshold: float = DEFAULT_THRESHOLD,
                     ranges: Sequence[tuple[int, int]] | None = None) -> list[list[int]]:
    """Groups of indices of near-duplicate signatures (LSH candidates confirmed by the estimated
    Jaccard similarity, joined transitively), each ascending, ordered by first member."""
    ranges = band_ranges(threshold) if ranges is None else ranges
    parent = list(range(len(sigs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    buckets: dict[tuple[int, int], list[int]] = {}
    for i, sig in enumerate(sigs):
        for band, key in enumerate(band_keys(sig, ranges)):
            seen = buckets.setdefault((band, key), [])
            for j in seen:
                if find(i) != find(j) and similarity(sig, sigs[j]) >= threshold:
                    parent[find(i)] = find(j)
            seen.append(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(sigs)):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])
