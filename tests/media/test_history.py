"""Video history calendar and timeline (C7.2) in the camera's time zone (C6 Time Zone), A5 share start."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from vakt.media.history import Gap, Span, TimelineEvent, build_timeline, day_bounds, days_with_footage

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_calendar_days_follow_the_camera_time_zone() -> None:
    """23:30 UTC on 31 Oct is already 1 Nov in Stockholm; a span across local midnight marks both days."""
    spans = [
        (utc(2026, 10, 31, 23, 30), utc(2026, 10, 31, 23, 31)),
        (utc(2026, 11, 3, 22, 55), utc(2026, 11, 3, 23, 5)),
        (utc(2026, 11, 30, 22, 30), utc(2026, 11, 30, 22, 31)),
        (utc(2026, 11, 30, 23, 30), utc(2026, 11, 30, 23, 31)),  # 1 Dec in Stockholm
    ]
    assert days_with_footage(spans, STOCKHOLM, 2026, 11) == [
        date(2026, 11, 1),
        date(2026, 11, 3),
        date(2026, 11, 4),
        date(2026, 11, 30),
    ]
    assert days_with_footage(spans, ZoneInfo("UTC"), 2026, 11) == [date(2026, 11, 3), date(2026, 11, 30)]


def test_day_bounds_across_dst() -> None:
    start, end = day_bounds(date(2026, 10, 25), STOCKHOLM)
    assert end - start == timedelta(hours=25)


def test_timeline_merges_segments_and_keeps_gaps_and_events() -> None:
    base = utc(2026, 11, 22, 8)
    step = timedelta(seconds=10)
    segments = [Span(base + step * i, base + step * (i + 1)) for i in range(6)]
    segments += [Span(base + timedelta(minutes=5), base + timedelta(minutes=5, seconds=10), has_event=True)]
    gap = Gap(base + timedelta(seconds=60), base + timedelta(minutes=5))
    events = [TimelineEvent(base + timedelta(minutes=5, seconds=2), None, "person", "Person")]
    timeline = build_timeline(date(2026, 11, 22), STOCKHOLM, segments, [gap], events)
    assert [(r.start, r.end, r.has_event) for r in timeline.recordings] == [
        (base, base + timedelta(seconds=60), False),
        (base + timedelta(minutes=5), base + timedelta(minutes=5, seconds=10), True),
    ]
    assert timeline.gaps == [gap] and timeline.events == events


def test_timeline_from_share_start_hides_earlier_footage() -> None:
    """A5: a shared user sees history only from the time the share began."""
    base = utc(2026, 11, 22, 8)
    segments = [Span(base, base + timedelta(hours=2))]
    share_start = base + timedelta(hours=1)
    timeline = build_timeline(date(2026, 11, 22), STOCKHOLM, segments, [], not_before=share_start)
    assert timeline.recordings == [Span(base + timedelta(hours=1), base + timedelta(hours=2))]
    assert timeline.start == base + timedelta(hours=1)


def test_a_damaged_segment_between_recordings_is_not_bridged() -> None:
    """Issue 10: 1 s segments, the middle one damaged (a gap): two recordings, not one across it."""
    t = utc(2026, 12, 2, 12, 0)
    spans = [Span(t, t + timedelta(seconds=1)), Span(t + timedelta(seconds=2), t + timedelta(seconds=3))]
    damaged = Gap(t + timedelta(seconds=1), t + timedelta(seconds=2), "footage damaged: the file is missing")
    timeline = build_timeline(date(2026, 12, 2), ZoneInfo("UTC"), spans, [damaged])
    assert [(s.start, s.end) for s in timeline.recordings] == [(s.start, s.end) for s in spans]
    assert build_timeline(date(2026, 12, 2), ZoneInfo("UTC"), spans, []).recordings == [
        Span(t, t + timedelta(seconds=3))
    ], "without the gap, back-to-back segments join"
