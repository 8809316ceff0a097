"""Retention (C12.1, C4.3 loop recording) as pure logic: which segments to delete, and why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


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

    def select(
        self, segments: list[RetainedSegment], now: datetime, free_bytes: int | None = None
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
        if free_bytes is not None and free_bytes < self.min_free_bytes:
            needed = self.min_free_bytes - free_bytes - sum(d.segment.size for d in deleted.values())
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
