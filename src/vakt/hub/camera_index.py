"""The segment index and gap records in the database, and the hook detection uses to flag footage."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.models.alerts import PersonEventRecord
from vakt.hub.models.cameras import Segment, StreamGap
from vakt.media.history import Gap, Span, TimelineEvent
from vakt.media.segments import SegmentInfo


def to_info(row: Segment) -> SegmentInfo:
    return SegmentInfo(
        row.device_id,
        Path(row.path),
        row.start,
        row.end,
        row.size,
        row.init_size,
        frames=row.frames,
        has_audio=row.has_audio,
        has_motion=row.has_motion,
        has_event=row.has_event,
        id=row.id,
    )


def to_span(row: Segment) -> Span:
    return Span(row.start, row.end, row.has_event)


async def add_segment(session: AsyncSession, info: SegmentInfo) -> Segment:
    row = Segment(
        device_id=info.camera_id,
        path=str(info.path),
        start=info.start,
        end=info.end,
        size=info.size,
        init_size=info.init_size,
        frames=info.frames,
        has_audio=info.has_audio,
        has_motion=info.has_motion,
        has_event=info.has_event,
    )
    session.add(row)
    await session.commit()
    return row


async def segments_between(
    session: AsyncSession,
    device_id: int,
    start: datetime,
    end: datetime,
    limit: int | None = None,
    *,
    damaged: bool = False,
) -> list[Segment]:
    """Good segments overlapping [start, end) by start; `damaged=True`: the damaged ones instead."""
    query = (
        select(Segment)
        .where(
            Segment.device_id == device_id,
            Segment.end > start,
            Segment.start < end,
            Segment.damage.is_not(None) if damaged else Segment.damage.is_(None),
        )
        .order_by(Segment.start)
    )
    if limit is not None:
        query = query.limit(limit)
    return list((await session.scalars(query)).all())


async def indexed_paths(session: AsyncSession, device_id: int) -> set[Path]:
    rows = await session.scalars(select(Segment.path).where(Segment.device_id == device_id))
    return {Path(p) for p in rows}


async def open_gap(session: AsyncSession, device_id: int, at: datetime, reason: str) -> None:
    if await _open_gap(session, device_id) is None:
        session.add(StreamGap(device_id=device_id, start=at, reason=reason or "stream lost"))
        await session.commit()


async def close_gap(session: AsyncSession, device_id: int, at: datetime) -> None:
    gap = await _open_gap(session, device_id)
    if gap is not None:
        gap.end = max(at, gap.start)
        await session.commit()


async def _open_gap(session: AsyncSession, device_id: int) -> StreamGap | None:
    return await session.scalar(
        select(StreamGap).where(StreamGap.device_id == device_id, StreamGap.end.is_(None)).limit(1)
    )


async def gaps_between(session: AsyncSession, device_id: int, start: datetime, end: datetime) -> list[Gap]:
    """Where the stream was lost, and where recorded footage was found damaged (by start)."""
    rows = await session.scalars(
        select(StreamGap)
        .where(
            StreamGap.device_id == device_id,
            StreamGap.start < end,
            (StreamGap.end.is_(None)) | (StreamGap.end > start),
        )
        .order_by(StreamGap.start)
    )
    gaps = [Gap(r.start, r.end, r.reason) for r in rows]
    damaged = await segments_between(session, device_id, start, end, damaged=True)
    gaps += [Gap(d.start, d.end, f"footage damaged: {d.damage}") for d in damaged]
    return sorted(gaps, key=lambda g: g.start)


def damage_now(row: Segment) -> str | None:
    """Why a segment must not be served: marked at start-up, or gone/resized since (a stat, cheap)."""
    if row.damage is not None:
        return row.damage
    if not row.local:
        return None  # served from its cloud copy, whose chunks are authenticated as they are read
    try:
        actual = Path(row.path).stat().st_size
    except OSError:
        return "the file is missing"
    return None if actual == row.size else f"the file has {actual} bytes, {row.size} were indexed"


async def mark_damaged(session: AsyncSession, damage: dict[int, str]) -> None:
    """Record the start-up check's findings: segment id -> why it is damaged."""
    for segment_id, reason in damage.items():
        await session.execute(update(Segment).where(Segment.id == segment_id).values(damage=reason[:300]))
    await session.commit()


async def unchecked_segments(session: AsyncSession) -> list[tuple[int, str, int, int]]:
    """(id, path, size, init size) of every segment not yet found damaged, newest first."""
    rows = await session.execute(
        select(Segment.id, Segment.path, Segment.size, Segment.init_size)
        .where(Segment.damage.is_(None), Segment.local.is_(True))
        .order_by(Segment.start.desc())
    )
    return [(r.id, r.path, r.size, r.init_size) for r in rows]


async def mark_segments(
    session: AsyncSession,
    device_id: int,
    start: datetime,
    end: datetime,
    *,
    event: bool | None = None,
    motion: bool | None = None,
) -> int:
    """Detection's hook: flag the footage of [start, end) as event and/or motion (kept longer, C12.1)."""
    values: dict[str, bool] = {}
    if event is not None:
        values["has_event"] = event
    if motion is not None:
        values["has_motion"] = motion
    if not values:
        return 0
    result = await session.execute(
        update(Segment)
        .where(Segment.device_id == device_id, Segment.end > start, Segment.start < end)
        .values(**values)
    )
    await session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def flag_person_footage(session: AsyncSession) -> int:
    """Segments that overlap a person event become event footage (kept longer by retention, C9.1)."""
    event = PersonEventRecord
    overlaps = (
        select(event.id)
        .where(
            event.device_id == Segment.device_id,
            event.started_at < Segment.end,
            func.coalesce(event.ended_at, event.started_at) >= Segment.start,
        )
        .exists()
    )
    result = await session.execute(
        update(Segment).where(Segment.has_event.is_(False), overlaps).values(has_event=True)
    )
    await session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# Timeline events come from other areas (person detection, lock log ...): each provider adds its own.
EventProvider = Callable[[AsyncSession, int, datetime, datetime], Awaitable[list[TimelineEvent]]]
EVENT_PROVIDERS: list[EventProvider] = []


def register_event_provider(provider: EventProvider) -> None:
    EVENT_PROVIDERS.append(provider)


async def person_events(
    session: AsyncSession, device_id: int, start: datetime, end: datetime
) -> list[TimelineEvent]:
    rows = await session.scalars(
        select(PersonEventRecord)
        .where(
            PersonEventRecord.device_id == device_id,
            PersonEventRecord.started_at < end,
            (PersonEventRecord.ended_at.is_(None)) | (PersonEventRecord.ended_at > start),
        )
        .order_by(PersonEventRecord.started_at)
    )
    return [TimelineEvent(r.started_at, r.ended_at, r.label, r.label.capitalize(), r.id) for r in rows]


register_event_provider(person_events)


async def timeline_events(
    session: AsyncSession, device_id: int, start: datetime, end: datetime
) -> list[TimelineEvent]:
    found: list[TimelineEvent] = []
    for provider in EVENT_PROVIDERS:
        found += await provider(session, device_id, start, end)
    return found
