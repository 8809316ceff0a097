"""Retention as pure logic (C12.1 retention limits, C4.3 loop recording): table-driven."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

import pytest

from vakt.media.retention import Disk, Reason, RetainedSegment, RetentionLimits, RetentionPolicy

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
MB = 1_000_000
DISK = 1000 * MB  # large enough that the 10 % cap of the floor does not matter in the table


def seg(id: int, camera: int, hours_ago: float, size: int = MB, event: bool = False,
        pending: bool = False) -> RetainedSegment:  # fmt: skip
    start = NOW - timedelta(hours=hours_ago)
    return RetainedSegment(id, camera, start, start + timedelta(seconds=10), size, event, pending)


CASES = [
    # (name, segments, limits, default, min_free, free, expected ids, expected reason)
    ("nothing over any limit", [seg(1, 1, 1), seg(2, 1, 2)], {}, RetentionLimits(), 0, None, [], None),
    (
        "max age drops old continuous footage",
        [seg(1, 1, 200), seg(2, 1, 1)],
        {},
        RetentionLimits(),
        0,
        None,
        [1],
        Reason.MAX_AGE,
    ),
    (
        "event footage kept longer when event_max_age is set",
        [seg(1, 1, 200, event=True), seg(2, 1, 200)],
        {},
        RetentionLimits(event_max_age=timedelta(days=30)),
        0,
        None,
        [2],
        Reason.MAX_AGE,
    ),
    (
        "max size drops continuous before older event footage",
        [seg(1, 1, 5, event=True), seg(2, 1, 4), seg(3, 1, 3), seg(4, 1, 2)],
        {1: RetentionLimits(max_bytes=2 * MB)},
        RetentionLimits(),
        0,
        None,
        [2, 3],
        Reason.MAX_SIZE,
    ),
    (
        "max size reaches event footage when continuous is not enough",
        [seg(1, 1, 5, event=True), seg(2, 1, 4, event=True), seg(3, 1, 3)],
        {1: RetentionLimits(max_bytes=1 * MB)},
        RetentionLimits(),
        0,
        None,
        [1, 3],
        Reason.MAX_SIZE,
    ),
    (
        "limits are per camera",
        [seg(1, 1, 3), seg(2, 2, 3), seg(3, 2, 2)],
        {2: RetentionLimits(max_bytes=1 * MB)},
        RetentionLimits(),
        0,
        None,
        [2],
        Reason.MAX_SIZE,
    ),
    (
        "disk floor takes the oldest continuous footage across cameras",
        [seg(1, 1, 3), seg(2, 2, 4), seg(3, 1, 5, event=True), seg(4, 2, 1)],
        {},
        RetentionLimits(),
        5 * MB,
        3 * MB,
        [1, 2],
        Reason.DISK_FLOOR,
    ),
    (
        "footage not yet uploaded waits for the cloud tier (C10.1)",
        [seg(1, 1, 200, pending=True), seg(2, 1, 200)],
        {},
        RetentionLimits(),
        0,
        None,
        [2],
        Reason.MAX_AGE,
    ),
    (
        "the disk floor still applies to footage not yet uploaded",
        [seg(1, 1, 2, pending=True)],
        {},
        RetentionLimits(),
        5 * MB,
        4 * MB,
        [1],
        Reason.DISK_FLOOR,
    ),
    ("disk floor satisfied: nothing", [seg(1, 1, 3)], {}, RetentionLimits(), 5 * MB, 6 * MB, [], None),
    (
        "no age limit keeps everything",
        [seg(1, 1, 10_000)],
        {},
        RetentionLimits(max_age=None),
        0,
        None,
        [],
        None,
    ),
]


@pytest.mark.parametrize(
    ("name", "segments", "limits", "default", "min_free", "free", "ids", "reason"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_retention_selects(
    name: str,
    segments: list[RetainedSegment],
    limits: dict[int, RetentionLimits],
    default: RetentionLimits,
    min_free: int,
    free: int | None,
    ids: list[int],
    reason: Reason | None,
) -> None:
    policy = RetentionPolicy(limits, default, min_free_bytes=min_free)
    deletions = policy.select(segments, NOW, None if free is None else Disk(DISK, free))
    assert sorted(d.segment.id for d in deletions) == ids
    if reason is not None:
        assert {d.reason for d in deletions} == {reason}


def test_disk_floor_counts_what_age_already_frees() -> None:
    """Space freed by the age rule counts toward the floor: nothing extra goes."""
    policy = RetentionPolicy({}, RetentionLimits(max_age=timedelta(hours=100)), min_free_bytes=2 * MB)
    deletions = policy.select([seg(1, 1, 200, size=3 * MB), seg(2, 1, 1)], NOW, Disk(DISK, 0))
    assert [(d.segment.id, d.reason) for d in deletions] == [(1, Reason.MAX_AGE)]


def footage(count: int, events: Collection[int] = ()) -> list[RetainedSegment]:
    """`count` 1 MB segments of one camera, oldest first (id 1 is the oldest)."""
    return [seg(i, 1, count + 1 - i, event=i in events) for i in range(1, count + 1)]


def test_full_disk_frees_a_headroom_even_with_a_floor_of_zero() -> None:
    """Issue 10: with min_free 0, ENOSPC used to free nothing and recording stayed paused."""
    policy = RetentionPolicy({}, RetentionLimits(max_age=None), min_free_bytes=0)
    segments = footage(20, events={1, 2})
    assert policy.select(segments, NOW, Disk(100 * MB, 0)) == [], "not full: a floor of 0 keeps all"
    deletions = policy.select(segments, NOW, Disk(100 * MB, 0, full=True))
    # headroom: 3 x the largest segment (3 MB) > 2 % of the disk; the oldest continuous footage goes
    assert [d.segment.id for d in deletions] == [3, 4, 5]
    assert {d.reason for d in deletions} == {Reason.DISK_FLOOR}


def test_floor_larger_than_the_disk_is_capped_and_says_so() -> None:
    """A floor of 1 TB on a 20 MB disk keeps 10 % free (2 MB), not an empty disk; a warning explains."""
    policy = RetentionPolicy({}, RetentionLimits(max_age=None), min_free_bytes=10**12)
    disk = Disk(20 * MB, 1 * MB)
    floor = policy.floor(disk)
    assert floor.bytes == 2 * MB
    assert floor.warning is not None and "1000000 MB" in floor.warning and "2.0 MB" in floor.warning
    deletions = policy.select(footage(15), NOW, disk)
    assert [d.segment.id for d in deletions] == [1]
    assert RetentionPolicy({}, min_free_bytes=1 * MB).floor(disk).warning is None


def test_event_footage_goes_last_on_a_full_disk() -> None:
    """Only when every continuous segment is gone does event footage go (oldest first)."""
    policy = RetentionPolicy({}, RetentionLimits(max_age=None), min_free_bytes=5 * MB)
    segments = footage(6, events={1, 2, 3})
    deletions = policy.select(segments, NOW, Disk(100 * MB, 0, full=True))
    assert [d.segment.id for d in deletions] == [1, 2, 4, 5, 6]
