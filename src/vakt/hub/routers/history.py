"""Video history (C7.2, A6): calendar, timeline, HLS playback from any instant, clips, snapshots.

Everything needs the ``history`` permission; a shared user sees footage only from the share's start (A5):
instants before it are refused, and a segment that began before it is not served at all (not in the
calendar, timeline, playlist, clip or snapshot), so no frame from before the share is ever shown.

Footage whose local file retention removed is served from its cloud copy, through the hub (same
checks). Media of a camera with Image Encryption on (C6) is served only while the viewer's session
holds its unlocked key (POST .../encryption/unlock); otherwise 423. A sealed chunk that fails
authentication is a damaged segment (410), never garbage video.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy import select
from starlette.background import BackgroundTask

from vakt.hub import camera_index
from vakt.hub.api_types import Day, Instant, SegmentId
from vakt.hub.auth import CurrentAuth
from vakt.hub.authz import Action, require_since, since_share_start
from vakt.hub.db import DbSession, utcnow
from vakt.hub.errors import errors
from vakt.hub.models.cameras import Camera, Segment
from vakt.hub.permissions import DeviceAccess
from vakt.hub.routers.cameras import camera_access
from vakt.hub.routers.encryption import vault_of
from vakt.media.clips import NoFootage, export_clip, snapshot_at
from vakt.media.cloud import StoreUnavailable, read_footage
from vakt.media.encryption import DamagedFootage, Opener, is_encrypted
from vakt.media.history import build_timeline, day_bounds, days_with_footage, month_bounds
from vakt.media.playlist import build_playlist
from vakt.media.segments import SegmentInfo
from vakt.media.settings import MediaSettings

router = APIRouter(prefix="/api/cameras", tags=["history"])
HistoryAccess = Annotated[DeviceAccess, camera_access(Action.VIEW_HISTORY)]
HLS_TYPE = "application/vnd.apple.mpegurl"


class CalendarOut(BaseModel):
    time_zone: str
    year: int
    month: int
    days: list[date]


class SpanOut(BaseModel):
    start: datetime
    end: datetime
    has_event: bool = False


class GapOut(BaseModel):
    start: datetime
    end: datetime | None
    reason: str


class EventOut(BaseModel):
    start: datetime
    end: datetime | None
    kind: str
    label: str
    id: int | None


class TimelineOut(BaseModel):
    day: date
    time_zone: str
    start: datetime
    end: datetime
    recordings: list[SpanOut]
    gaps: list[GapOut]
    events: list[EventOut]


LOCKED = (
    "this camera's footage is encrypted: enter the encryption password first (POST .../encryption/unlock)"
)


async def _opener(request: Request, auth: CurrentAuth, session: DbSession, device_id: int) -> Opener | None:
    """The viewer's unlocked key of an encrypted camera; 423 while it is locked (C6)."""
    camera = await session.get(Camera, device_id)
    opener = vault_of(request).opener(auth.session.id, device_id)
    if camera is not None and is_encrypted(camera) and opener is None:
        raise HTTPException(status.HTTP_423_LOCKED, LOCKED)
    return opener


async def _from_cloud(
    request: Request, session: DbSession, row: Segment, opener: Opener | None, start: int, end: int
) -> bytes:
    """Bytes [start, end) of a segment no longer on the local disk, from the cloud tier."""
    store = getattr(getattr(request.app.state, "cameras", None), "store", None)
    if row.cloud_key is None or store is None:
        raise HTTPException(status.HTTP_410_GONE, f"segment {row.id} is no longer stored")
    if row.sealed and opener is None:
        raise HTTPException(status.HTTP_423_LOCKED, LOCKED)
    try:
        return await read_footage(store, row.cloud_key, start, end, opener if row.sealed else None)
    except DamagedFootage as exc:
        # from now on a gap in the timeline with its reason, like a file damaged on the local disk
        await camera_index.mark_damaged(session, {row.id: f"cloud copy: {exc}"})
        raise HTTPException(status.HTTP_410_GONE, f"segment {row.id} is damaged ({exc}); not served") from exc
    except FileNotFoundError as exc:
        raise HTTPException(status.HTTP_410_GONE, f"segment {row.id} is no longer in the cloud") from exc
    except StoreUnavailable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """`bytes=a-b` / `bytes=a-` / `bytes=-n` -> [start, end); None: the whole file; 416 when unusable."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    first, _, last = spec.partition("-")
    try:
        if unit.strip() != "bytes" or "," in spec:
            raise ValueError
        if not first:
            start, end = max(0, size - int(last)), size
        else:
            start, end = int(first), min(size, int(last) + 1) if last else size
    except ValueError:
        start, end = 0, -1
    if not 0 <= start < end <= size:
        raise HTTPException(
            status.HTTP_416_RANGE_NOT_SATISFIABLE, "that byte range is not in the segment",
            headers={"Content-Range": f"bytes */{size}"},
        )  # fmt: skip
    return start, end


async def _on_disk(
    request: Request, session: DbSession, rows: list[Segment], opener: Opener | None, folder: Path
) -> list[SegmentInfo]:
    """Segments as local files: cloud-only ones fetched (and opened) into `folder` for the remux."""
    infos = []
    for row in rows:
        info = camera_index.to_info(row)
        if not row.local:
            copy = folder / Path(row.path).name
            copy.write_bytes(await _from_cloud(request, session, row, opener, 0, row.size))
            info = SegmentInfo(
                info.camera_id, copy, info.start, info.end, info.size, info.init_size, info.frames,
                info.has_audio, info.has_motion, info.has_event, id=info.id,
            )  # fmt: skip
        infos.append(info)
    return infos


async def _zone(session: DbSession, device_id: int) -> ZoneInfo:
    camera = await session.get(Camera, device_id)
    return ZoneInfo(camera.time_zone if camera is not None else "UTC")


@router.get("/{device_id}/history/calendar", response_model=CalendarOut)
async def calendar(
    access: HistoryAccess,
    session: DbSession,
    year: Annotated[int, Query(ge=2000, le=2100)],
    month: Annotated[int, Query(ge=1, le=12)],
) -> CalendarOut:
    """Days of the month with footage, in the camera's time zone (C7.2, C6 Time Zone)."""
    zone = await _zone(session, access.device.id)
    start, end = month_bounds(year, month, zone)
    if access.history_since is not None:
        start = max(start, access.history_since)
    rows = await session.execute(
        select(Segment.start, Segment.end).where(
            Segment.device_id == access.device.id,
            Segment.end > start,
            Segment.start < end,
            Segment.damage.is_(None),  # damaged footage is a gap, not a day with footage
        )
    )
    spans = [(max(r.start, start), r.end) for r in since_share_start(access, rows.all())]
    return CalendarOut(
        time_zone=zone.key, year=year, month=month, days=days_with_footage(spans, zone, year, month)
    )


@router.get("/{device_id}/history/timeline", response_model=TimelineOut)
async def timeline(access: HistoryAccess, session: DbSession, day: Day) -> TimelineOut:
    """One local day: recordings (merged segments), gaps where the stream was lost, and events."""
    zone = await _zone(session, access.device.id)
    start, end = day_bounds(day, zone)
    device_id = access.device.id
    segments = since_share_start(access, await camera_index.segments_between(session, device_id, start, end))
    gaps = await camera_index.gaps_between(session, device_id, start, end)
    events = since_share_start(access, await camera_index.timeline_events(session, device_id, start, end))
    built = build_timeline(
        day, zone, [camera_index.to_span(s) for s in segments], gaps, events, not_before=access.history_since
    )
    return TimelineOut(
        day=built.day,
        time_zone=built.time_zone,
        start=built.start,
        end=built.end,
        recordings=[SpanOut(start=s.start, end=s.end, has_event=s.has_event) for s in built.recordings],
        gaps=[GapOut(start=g.start, end=g.end, reason=g.reason) for g in built.gaps],
        events=[
            EventOut(start=e.start, end=e.end, kind=e.kind, label=e.label, id=e.id) for e in built.events
        ],
    )


@router.get("/{device_id}/history/playlist.m3u8", response_class=Response, responses=errors(403, 423))
async def playlist(
    request: Request, auth: CurrentAuth, access: HistoryAccess, session: DbSession, at: Instant
) -> Response:
    """HLS (fMP4, EXT-X-MAP byte ranges) starting at the segment that contains `at`, with an offset."""
    require_since(access, at)
    await _opener(request, auth, session, access.device.id)
    rows = await camera_index.segments_between(
        session, access.device.id, at, at + timedelta(hours=24), limit=360
    )
    segments = [camera_index.to_info(r) for r in since_share_start(access, rows)]
    text = build_playlist(segments, at, lambda s: f"segments/{s.id}.mp4")
    if text is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no footage at or after {at.isoformat()}")
    return Response(text, media_type=HLS_TYPE, headers={"Cache-Control": "no-store"})


@router.get("/{device_id}/history/segments/{segment_id}.mp4", responses=errors(410, 416, 423, 503))
async def segment_file(
    request: Request, auth: CurrentAuth, access: HistoryAccess, session: DbSession, segment_id: SegmentId
) -> Response:
    """One recorded segment (HTTP Range supported, for the playlist's byte ranges), local or cloud."""
    row = await session.get(Segment, segment_id)
    if row is None or row.device_id != access.device.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"segment {segment_id} not found")
    require_since(access, row.start)  # a segment that began before the share is not served, even in part
    opener = await _opener(request, auth, session, access.device.id)
    if (damage := camera_index.damage_now(row)) is not None:
        raise HTTPException(status.HTTP_410_GONE, f"segment {segment_id} is damaged ({damage}); not served")
    if row.local:
        return FileResponse(row.path, media_type="video/mp4")
    wanted = _byte_range(request.headers.get("range"), row.size)
    start, end = wanted or (0, row.size)
    data = await _from_cloud(request, session, row, opener, start, end)
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "no-store"}
    if wanted is None:
        return Response(data, media_type="video/mp4", headers=headers)
    headers["Content-Range"] = f"bytes {start}-{start + len(data) - 1}/{row.size}"
    return Response(data, status.HTTP_206_PARTIAL_CONTENT, media_type="video/mp4", headers=headers)


@router.get("/{device_id}/history/clip", responses=errors(403, 410, 423, 503))
async def clip(
    request: Request,
    auth: CurrentAuth,
    access: HistoryAccess,
    session: DbSession,
    start: Instant,
    end: Instant,
) -> FileResponse:
    """One MP4 of [start, end), remuxed from the recorded segments (no re-encoding), as a download."""
    limit = MediaSettings().max_clip_s
    if not timedelta(0) < end - start <= timedelta(seconds=limit):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"end must be after start, at most {limit}s"
        )
    require_since(access, start)
    opener = await _opener(request, auth, session, access.device.id)
    rows = await camera_index.segments_between(session, access.device.id, start, end)
    out = Path(tempfile.gettempdir()) / f"vakt-clip-{secrets.token_hex(8)}.mp4"
    with tempfile.TemporaryDirectory(prefix="vakt-cloud-") as folder:
        segments = await _on_disk(request, session, since_share_start(access, rows), opener, Path(folder))
        try:
            await asyncio.to_thread(export_clip, segments, start, end, out)
        except NoFootage as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    filename = f"{access.device.name or 'camera'}-{start.astimezone(UTC):%Y%m%dT%H%M%SZ}.mp4".replace(
        " ", "_"
    )
    return FileResponse(
        out, media_type="video/mp4", filename=filename, background=BackgroundTask(out.unlink, missing_ok=True)
    )


@router.get("/{device_id}/history/snapshot", response_class=Response, responses=errors(403, 410, 423, 503))
async def snapshot_at_instant(
    request: Request, auth: CurrentAuth, access: HistoryAccess, session: DbSession, at: Instant
) -> Response:
    """The recorded frame at `at` as JPEG."""
    require_since(access, at)
    opener = await _opener(request, auth, session, access.device.id)
    if at > utcnow():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "that instant is in the future")
    window = (at - timedelta(seconds=1), at + timedelta(seconds=3))
    rows = await camera_index.segments_between(session, access.device.id, *window)
    with tempfile.TemporaryDirectory(prefix="vakt-cloud-") as folder:
        segments = await _on_disk(request, session, since_share_start(access, rows), opener, Path(folder))
        try:
            jpeg = await asyncio.to_thread(snapshot_at, segments, at)
        except NoFootage as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    return Response(jpeg, media_type="image/jpeg")
