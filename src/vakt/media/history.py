"""Video history (C7.2): calendar days with footage and the timeline of one day, in the camera's zone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

JOIN_TOLERANCE = timedelta(seconds=1.5)


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime
    has_event: bool = False


@dataclass(frozen=True)
class Gap:
    """The stream was lost from `start` to `end` (None: still lost)."""

    start: datetime
    end: datetime | None
    reason: str = "stream lost"


@dataclass(frozen=True)
class TimelineEvent:
    """A detection or manual-recording mark, supplied by whoever owns events (a hook, not this module)."""

    start: datetime
    end: datetime | None
    kind: str
    label: str = ""
    id: int | None = None


@dataclass
class Timeline:
    day: date
    time_zone: str
    start: datetime
    end: datetime
    recordings: list[Span] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    events: list[TimelineEvent] = field(default_factory=list)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants of local midnight to the next local midnight (23 or 25 hours across DST)."""
    start = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
    return start, end


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return day_bounds(first, tz)[0], day_bounds(following, tz)[0]


def days_with_footage(
    spans: Iterable[tuple[datetime, datetime]], tz: ZoneInfo, year: int, month: int
) -> list[date]:
    """Local dates of the month on which any footage exists (a span crossing midnight marks both days)."""
    days: set[date] = set()
    for start, end in spans:
        day = start.astimezone(tz).date()
        last = (end - timedelta(microseconds=1)).astimezone(tz).date()
        while day <= last:
            if day.year == year and day.month == month:
                days.add(day)
            day += timedelta(days=1)
    return sorted(days)


def merge_spans(
    spans: Iterable[Span], tolerance: timedelta = JOIN_TOLERANCE, gaps: Iterable[Gap] = ()
) -> list[Span]:
    """Join back-to-back segments into continuous recordings, keeping event footage apart and never
    bridging a gap (a short lost stream or one damaged segment stays visible)."""
    breaks = sorted(g.start for g in gaps)
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        last = merged[-1] if merged else None
        if (
            last
            and last.has_event == span.has_event
            and span.start - last.end <= tolerance
            and not any(last.end - tolerance <= b < span.start for b in breaks)
        ):
            merged[-1] = Span(last.start, max(last.end, span.end), last.has_event)
        else:
            merged.append(span)
    return merged


def build_timeline(
    day: date,
    tz: ZoneInfo,
    segments: Iterable[Span],
    gaps: Iterable[Gap],
    events: Iterable[TimelineEvent] = (),
    *,
    not_before: datetime | None = None,
) -> Timeline:
    """The day's recordings, gaps and events, clipped to the local day (and to `not_before`, A5)."""
    start, end = day_bounds(day, tz)
    if not_before is not None:
        start = max(start, not_before)
    timeline = Timeline(day, tz.key, start, end)
    clipped = [
        Span(max(s.start, start), min(s.end, end), s.has_event)
        for s in segments
        if s.end > start and s.start < end
    ]
    timeline.gaps = [
        Gap(max(g.start, start), None if g.end is None else min(g.end, end), g.reason)
        for g in gaps
        if (g.end is None or g.end > start) and g.start < end
    ]
    timeline.recordings = merge_spans(clipped, gaps=timeline.gaps)
    timeline.events = sorted(
        (e for e in events if (e.end or e.start) >= start and e.start < end), key=lambda e: e.start
    )
    return timeline
