"""Merging segments: when to, and the merged segment's content.

Like Lucene's log merge policy: the newest segments are merged once there are more than
MAX_SEGMENTS, taking in older ones while they are not much larger than the largest segment
merged, so segments of one size merge together and a large old one is rewritten rarely; a segment mostly deleted is merged (its
deletions dropped) with everything newer. Merging copies rows, tokens and vectors: nothing
is re-embedded or re-tokenised.
"""
from __future__ import annotations

from typing import Iterator, Sequence

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


def merge_batches(segments: Sequence[SegmentFile], deleted_files: Sequence[set[str]],
                  deleted_articles: Sequence[set[str]],
                  ranges: Sequence[tuple[int, int]]) -> Iterator[SegmentData]:
    """What the given segments (oldest first) hold once their deletions are dropped, in batches
    for a SegmentBuilder: every live file first, then each segment's documents, copies (with
    their LSH band keys) and articles with their chunks, tokens and vectors, a batch at a time."""
    files: dict[str, tuple[str, bool]] = {}
    for seg, gone in zip(segments, deleted_files):
        for f, (sha, done) in seg.files().items():
            if f not in gone:  # a file's later piece completes it
                files[f] = (sha, done or files.get(f, ("", False))[1])
    yield SegmentData(files=files)
    for seg, gone_files, gone_articles in zip(segments, deleted_files, deleted_articles):
        for documents in seg.document_batches():
            yield SegmentData(documents=[(f, d) for f, d in documents if f not in gone_files])
        for batch in seg.copy_batches():
            copies = [c for c in batch if c.file not in gone_files]
            yield SegmentData(copies=copies, bands=[(band, key, c.copy_id) for c in copies
                                                    for band, key in enumerate(band_keys(c.signature, ranges))])
        stored = np.load(seg.folder / VECTORS, allow_pickle=False, mmap_mode="r")
        for batch in seg.article_batches():
            kept = [(a, m) for a, m in batch if a.article_id not in gone_articles]
            found = seg.chunks_of([a.article_id for a, _ in kept])
            rows = [row for row, _, _ in found]
            yield SegmentData(articles=kept, chunks=[c for _, c, _ in found], tokens=[t for _, _, t in found],
                              vectors=np.asarray(stored[rows], dtype=np.float32) if rows else None)
