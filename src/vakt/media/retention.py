"""Retention (C12.1, C4.3 loop recording) as pure logic: which segments to delete, and why.

The free-space floor is capped to a tenth of the disk (a floor larger than the disk must not delete
all footage), and a full disk (the recorder hit ENOSPC) frees a headroom even with a floor of 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

MAX_FLOOR_FRACTION = 0.10  # the floor never asks for more than this share of the disk to be free
FULL_DISK_FRACTION = 0.02  # after ENOSPC at least this share of the disk is freed ...
FULL_DISK_SEGMENTS = 3  # ... and at least room for this many of the largest segments (within the cap)


class Reason(StrEnum):
    MAX_AGE = "max_age"
    MAX_SIZE = "max_size"
    DISK_FLOOR = "disk_floor"


@dataclass(frozen=True)
class RetainedSegment:
    id: int
    camera_id: int
    start: datetime
    end: datetime
    size: int
    has_event: bool = False
    pending_upload: bool = False  # not yet in the cloud tier: age and size limits wait for it (C10.1)


@dataclass(frozen=True)
class RetentionLimits:
    """Per camera: footage older than `max_age` goes; above `max_bytes` the oldest goes first."""

    max_age: timedelta | None = timedelta(days=7)
    max_bytes: int | None = None
    event_max_age: timedelta | None = None  # event footage may be kept longer; default: max_age


@dataclass(frozen=True)
class Disk:
    """The media folder's file system now."""

    total: int
    free: int
    full: bool = False  # the recorder hit ENOSPC: free a headroom even when the floor is 0


@dataclass(frozen=True)
class Floor:
    bytes: int
    warning: str | None = None  # the configured floor was capped; said in the log and camera status


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.0f} MB" if n >= 10_000_000 else f"{n / 1_000_000:.1f} MB"


@dataclass(frozen=True)
class Deletion:
    segment: RetainedSegment
    reason: Reason


def _eviction_order(segments: Iterable[RetainedSegment]) -> list[RetainedSegment]:
    """Continuous footage before event footage; oldest first within each."""
    return sorted(segments, key=lambda s: (s.has_event, s.start, s.id))


class RetentionPolicy:
    """Decides deletions from segment rows, per-camera limits, and the disk's free space."""

    def __init__(
        self,
        limits: dict[int, RetentionLimits],
        default: RetentionLimits | None = None,
        min_free_bytes: int = 0,
    ) -> None:
        self.limits = limits
        self.default = default or RetentionLimits()
        self.min_free_bytes = min_free_bytes

    def limits_for(self, camera_id: int) -> RetentionLimits:
        return self.limits.get(camera_id, self.default)

    def floor(self, disk: Disk, segments: Iterable[RetainedSegment] = ()) -> Floor:
        """Free space to keep: the configured floor capped to a tenth of the disk; a headroom when full."""
        cap = int(disk.total * MAX_FLOOR_FRACTION)
        wanted, warning = self.min_free_bytes, None
        if wanted > cap:
            warning = (
                f"free-space floor {_mb(wanted)} is more than {MAX_FLOOR_FRACTION:.0%} of the disk "
                f"({_mb(disk.total)}); keeping {_mb(cap)} free instead"
            )
            wanted = cap
        if disk.full:
            largest = max((s.size for s in segments), default=0)
            headroom = max(FULL_DISK_SEGMENTS * largest, int(disk.total * FULL_DISK_FRACTION))
            wanted = max(wanted, min(cap, headroom))
        return Floor(wanted, warning)

    def select(
        self, segments: list[RetainedSegment], now: datetime, disk: Disk | None = None
    ) -> list[Deletion]:
        deleted: dict[int, Deletion] = {}
        by_camera: dict[int, list[RetainedSegment]] = {}
        for seg in segments:
            by_camera.setdefault(seg.camera_id, []).append(seg)
        for camera_id, all_own in by_camera.items():
            own = [s for s in all_own if not s.pending_upload]
            limits = self.limits_for(camera_id)
            for seg in self._too_old(own, limits, now):
                deleted[seg.id] = Deletion(seg, Reason.MAX_AGE)
            kept = [s for s in own if s.id not in deleted]
            for seg in self._over_size(kept, limits):
                deleted[seg.id] = Deletion(seg, Reason.MAX_SIZE)
        floor = self.floor(disk, segments).bytes if disk is not None else 0
        if disk is not None and disk.free < floor:
            needed = floor - disk.free - sum(d.segment.size for d in deleted.values())
            for seg in _eviction_order(s for s in segments if s.id not in deleted):
                if needed <= 0:
                    break
                deleted[seg.id] = Deletion(seg, Reason.DISK_FLOOR)
                needed -= seg.size
        return sorted(deleted.values(), key=lambda d: (d.segment.start, d.segment.id))

    @staticmethod
    def _too_old(
        segments: list[RetainedSegment], limits: RetentionLimits, now: datetime
    ) -> list[RetainedSegment]:
        out = []
        for seg in segments:
            age_limit = limits.event_max_age if seg.has_event and limits.event_max_age else limits.max_age
            if age_limit is not None and seg.end < now - age_limit:
                out.append(seg)
        return out

    @staticmethod
    def _over_size(segments: list[RetainedSegment], limits: RetentionLimits) -> list[RetainedSegment]:
        if limits.max_bytes is None:
            return []
        excess = sum(s.size for s in segments) - limits.max_bytes
        out = []
        for seg in _eviction_order(segments):
            if excess <= 0:
                break
            out.append(seg)
            excess -= seg.size
        return out
