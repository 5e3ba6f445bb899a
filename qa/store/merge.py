"""Merging segments: when to, and the merged segment's content.

Like Lucene's log merge policy: the newest segments are merged once there are more than
MAX_SEGMENTS, taking in older ones while they are not much larger than the largest segment
merged, so segments of one size merge together and a large old one is rewritten rarely; a segment mostly deleted is merged (its
deletions dropped) with everything newer. Merging copies rows, tokens and vectors: nothing
is re-embedded or re-tokenised.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from qa.dedup import band_keys
from qa.store.manifest import SegmentEntry
from qa.store.segment import VECTORS, SegmentData, SegmentFile

MAX_SEGMENTS = 8
GROWTH = 4  # an older segment joins a merge while it is at most this times its largest segment
MIN_LIVE_SHARE = 0.5


def live_rows(entry: SegmentEntry) -> int:
    return entry.chunks - entry.deleted_chunks


def merge_plan(entries: Sequence[SegmentEntry]) -> int | None:
    """The position from which the segments are to be merged into one, or None."""
    start = None
    if len(entries) > MAX_SEGMENTS:
        start = MAX_SEGMENTS // 2  # down to about half the maximum
        largest = max(live_rows(e) for e in entries[start:])
        while start > 0 and live_rows(entries[start - 1]) <= GROWTH * max(largest, 1):
            start -= 1
            largest = max(largest, live_rows(entries[start]))
    dead = [i for i, e in enumerate(entries) if e.live_share < MIN_LIVE_SHARE]
    if dead:
        start = min([dead[0]] + ([start] if start is not None else []))
    return start


def merged_segment(segments: Sequence[SegmentFile], deleted_files: Sequence[set[str]],
                   deleted_articles: Sequence[set[str]],
                   ranges: Sequence[tuple[int, int]]) -> SegmentData:
    """What the given segments (oldest first) hold once their deletions are dropped."""
    data = SegmentData()
    vectors: list[np.ndarray] = []
    for seg, gone_files, gone_articles in zip(segments, deleted_files, deleted_articles):
        for f, (sha, done) in seg.files().items():
            if f not in gone_files:  # a file's later piece completes it
                data.files[f] = (sha, done or data.files.get(f, ("", False))[1])
        data.documents += [(f, d) for f, d in seg.documents() if f not in gone_files]
        copies = [c for c in seg.copies() if c.file not in gone_files]
        data.copies += copies
        data.bands += [(band, key, c.copy_id) for c in copies
                       for band, key in enumerate(band_keys(c.signature, ranges))]
        kept = [(a, m) for a, m in seg.articles() if a.article_id not in gone_articles]
        data.articles += kept
        stored = np.load(seg.folder / VECTORS, allow_pickle=False, mmap_mode="r")
        rows = []
        for row, chunk, tokens in seg.chunks_of([a.article_id for a, _ in kept]):
            rows.append(row)
            data.chunks.append(chunk)
            data.tokens.append(tokens)
        vectors.append(np.asarray(stored[rows], dtype=np.float32) if rows else
                       np.zeros((0, stored.shape[1]), np.float32))
    if vectors:
        data.vectors = np.concatenate(vectors)
    return data

