"""The merge policy: segments of one size merge together, a large old one is left alone, and
a mostly deleted one is merged away."""
from qa.store.manifest import SegmentEntry
from qa.store.merge import MAX_SEGMENTS, merge_plan


def entries(*sizes: int, deleted: dict[int, int] | None = None) -> list[SegmentEntry]:
    deleted = deleted or {}
    return [SegmentEntry(f"seg-{i + 1}", n, deleted_chunks=deleted.get(i, 0)) for i, n in enumerate(sizes)]


def test_few_segments_are_left_alone():
    assert merge_plan(entries(*[100] * MAX_SEGMENTS)) is None


def test_equal_flushes_merge_together_and_leave_a_large_old_segment():
    plan = merge_plan(entries(100_000, *[6_000] * MAX_SEGMENTS))
    assert plan == 1  # every flush, not the large segment
    later = merge_plan(entries(100_000, 48_000, *[6_000] * (MAX_SEGMENTS - 1)))
    assert later == 2  # the flushes of the next round, not the earlier merge 8 times their size


def test_a_mostly_deleted_segment_is_merged_with_everything_newer():
    assert merge_plan(entries(100, 100, 100, deleted={1: 60})) == 1
    assert merge_plan(entries(100, 100, 100, deleted={1: 40})) is None
