"""A recorded segment: one fragmented MP4 file of about ten seconds, and where it lives on disk."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

PART_SUFFIX = ".part"
NAME_FORMAT = "%Y%m%dT%H%M%S_%fZ"


@dataclass(frozen=True)
class SegmentInfo:
    """One finished segment as indexed (C7.2): UTC-aware start/end, size, and detection flags."""

    camera_id: int
    path: Path
    start: datetime
    end: datetime
    size: int
    init_size: int
    frames: int = 0
    has_audio: bool = False
    has_motion: bool = False
    has_event: bool = False
    id: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("segment times must be timezone-aware (UTC)")

    @property
    def duration(self) -> float:
        return (self.end - self.start).total_seconds()

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end

    def flagged(self, *, event: bool | None = None, motion: bool | None = None) -> SegmentInfo:
        return replace(
            self,
            has_event=self.has_event if event is None else event,
            has_motion=self.has_motion if motion is None else motion,
        )


def camera_dir(media_dir: Path, camera_id: int) -> Path:
    return media_dir / f"camera-{camera_id}"


def segment_path(media_dir: Path, camera_id: int, start: datetime) -> Path:
    """Final path of a segment; the file name carries its UTC start so recovery can rebuild the index."""
    utc = start.astimezone(UTC)
    return camera_dir(media_dir, camera_id) / utc.strftime("%Y-%m-%d") / (utc.strftime(NAME_FORMAT) + ".mp4")


def start_from_name(path: Path) -> datetime | None:
    stem = path.name.removesuffix(PART_SUFFIX).removesuffix(".mp4")
    try:
        return datetime.strptime(stem, NAME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def overlapping(segments: list[SegmentInfo], start: datetime, end: datetime) -> list[SegmentInfo]:
    """Segments (sorted by start) that overlap [start, end)."""
    return sorted((s for s in segments if s.end > start and s.start < end), key=lambda s: s.start)


def seconds(delta: timedelta) -> float:
    return delta.total_seconds()
