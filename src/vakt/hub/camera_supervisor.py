"""Camera supervisor: one ingest + recorder + live pipeline per camera, the index, retention, cloud tier."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vakt.hub import camera_index
from vakt.hub.bus import EventBus
from vakt.hub.cloud_cursors import DbCursors
from vakt.hub.db import utcnow
from vakt.hub.models.cameras import Camera, RecordingMode, Segment
from vakt.hub.models.devices import Device
from vakt.hub.secretbox import SecretBox
from vakt.media.cloud import MediaStore, StoreUnavailable, Uploaded, Uploader, UploadQueue, create_store
from vakt.media.encryption import CameraKey
from vakt.media.ingest import Backoff, Ingest
from vakt.media.integrity import check_segment
from vakt.media.live import LiveChunk, LiveMuxer, LiveStream
from vakt.media.pipeline import CameraPipeline, PipelineConfig
from vakt.media.recovery import recover_orphans
from vakt.media.retention import Disk, RetainedSegment, RetentionLimits, RetentionPolicy
from vakt.media.s3 import S3Store
from vakt.media.segments import SegmentInfo, camera_dir
from vakt.media.settings import MediaSettings

log = logging.getLogger(__name__)
MB = 1024 * 1024


def password_context(serial: str) -> str:
    return f"camera-rtsp:{serial}"


def with_credentials(url: str, username: str, password: str) -> str:
    """`rtsp://host/path` + credentials -> `rtsp://user:pass@host/path` (quoted)."""
    if not username:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def split_credentials(url: str) -> tuple[str, str, str]:
    """`rtsp://user:pass@host/path` -> (url without credentials, user, password)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return clean, parts.username or "", parts.password or ""


@dataclass
class FootageCheck:
    """What the start-up check of the media folder found (also in the log)."""

    adopted: int = 0  # files without an index row, whole enough to index
    checked: int = 0  # indexed segments checked
    damaged: int = 0  # ... found missing, resized or unreadable: marked, shown as gaps
    seconds: float = 0.0
    done: bool = False


@dataclass
class FootageCounts:
    """Segments indexed and deleted by retention since start (fault tests compare them with the disk)."""

    indexed: int = 0
    deleted: int = 0
    disk_full: int = 0


@dataclass
class _Wanted:
    url: str
    sub_url: str | None
    audio: bool
    continuous: bool
    emulated: bool = False


class OnDemandLive:
    """The sub-stream (Standard definition) is pulled only while someone watches it."""

    def __init__(self, device_id: int, url: str, loop: asyncio.AbstractEventLoop) -> None:
        self.url = url
        self.live = LiveStream()
        self.idle_since: datetime | None = None

        def publish(chunk: LiveChunk) -> None:
            loop.call_soon_threadsafe(self.live.publish, chunk)

        self.ingest = Ingest(
            url, [LiveMuxer(publish)], name=f"camera-{device_id}-sub", audio=False, backoff=Backoff(cap=5.0)
        )
        self.ingest.start()

    async def stop(self) -> None:
        await asyncio.to_thread(self.ingest.stop)
        self.live.stop()


class CameraSupervisor:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        box: SecretBox,
        bus: EventBus | None,
        media_dir: Path,
        settings: MediaSettings,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.box = box
        self.bus = bus
        self.media_dir = media_dir
        self.settings = settings
        self.pipelines: dict[int, CameraPipeline] = {}
        self.sub_streams: dict[int, OnDemandLive] = {}
        self._wanted: dict[int, _Wanted] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()
        self.check = FootageCheck()
        self.counts = FootageCounts()
        self.storage_warning: str | None = None  # shown in every camera's status (GET /api/cameras/{id})
        self._disk_full_seen = False  # once ENOSPC was hit, retention keeps a headroom free
        self.floor_bytes = 0  # the free space retention keeps, as of its last run
        self._retention_lock = asyncio.Lock()
        self.uploader: Uploader | None = None
        self.store: MediaStore | None = None
        if settings.s3.enabled:
            self.store = S3Store(settings.s3, DbCursors(sessionmaker))
        elif settings.cloud is not None:
            self.store = create_store(settings.cloud)
        if self.store is not None:
            queue = UploadQueue(media_dir / ".upload-queue")
            self.uploader = Uploader(
                self.store,
                queue,
                retry_initial=min(1.0, settings.upload_retry_cap_s),
                retry_cap=settings.upload_retry_cap_s,
                on_uploaded=self._uploaded,
            )
        self.cloud_deleted = 0  # segments whose cloud copy retention removed since start

    # -- life cycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        self.media_dir.mkdir(parents=True, exist_ok=True)
        await self.recover()
        self._update_floor_warning(self._policy({}))
        await self.reconcile()
        # the check of indexed footage reads every file: in the background, recording already runs
        self._tasks.append(asyncio.create_task(self._check_in_background()))
        self._tasks.append(
            asyncio.create_task(self._every(self.settings.reconcile_interval_s, self.reconcile))
        )
        self._tasks.append(
            asyncio.create_task(self._every(self.settings.retention_interval_s, self.run_retention))
        )
        self._tasks.append(
            asyncio.create_task(self._every(self.settings.retention_interval_s, self.run_cloud_retention))
        )
        if self.uploader is not None:
            self._tasks.append(asyncio.create_task(self.uploader.run()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await asyncio.gather(
            *(p.stop() for p in self.pipelines.values()), *(s.stop() for s in self.sub_streams.values())
        )
        self.pipelines.clear()
        self.sub_streams.clear()
        if isinstance(self.store, S3Store):
            await self.store.close()

    async def _every(self, seconds: float, job: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception:
                log.exception("camera supervisor: %s failed", getattr(job, "__name__", job))

    # -- which cameras run ------------------------------------------------------------------------
    async def recover(self) -> None:
        """Segments cut by a crash or kill (no index row) are indexed or quarantined (C7.1)."""
        async with self.sessionmaker() as session:
            ids = list(await session.scalars(select(Camera.device_id)))
            for device_id in ids:
                known = await camera_index.indexed_paths(session, device_id)
                found = await asyncio.to_thread(recover_orphans, self.media_dir, device_id, known)
                for info in found:
                    await camera_index.add_segment(session, info)
                self.check.adopted += len(found)
        if self.check.adopted:
            log.warning("footage check: %d segment files without an index row adopted", self.check.adopted)

    async def check_footage(self) -> FootageCheck:
        """Every indexed segment, newest first: exists, has its indexed size, parses and decodes a frame.

        A damaged or missing one is marked (`damage`) and shown as a gap; playback and export skip it."""
        began = time.monotonic()
        async with self.sessionmaker() as session:
            rows = await camera_index.unchecked_segments(session)
        batch = 200  # mark as we go: a long check still protects the footage it has already read
        for first in range(0, len(rows), batch):
            chunk = rows[first : first + batch]
            found = await asyncio.to_thread(_check_all, chunk)
            self.check.checked += len(chunk)
            if found:
                self.check.damaged += len(found)
                async with self.sessionmaker() as session:
                    await camera_index.mark_damaged(session, found)
                for segment_id, reason in found.items():
                    log.error("footage check: segment %d is damaged (%s); shown as a gap", segment_id, reason)
        self.check.seconds = time.monotonic() - began
        self.check.done = True
        log.info(
            "footage check: %d segments checked in %.1fs, %d damaged, %d adopted",
            self.check.checked,
            self.check.seconds,
            self.check.damaged,
            self.check.adopted,
        )
        return self.check

    async def _check_in_background(self) -> None:
        try:
            await self.check_footage()
        except Exception:
            log.exception("footage check failed; segments not yet checked are served as indexed")

    async def _load_wanted(self) -> dict[int, _Wanted]:
        wanted: dict[int, _Wanted] = {}
        async with self.sessionmaker() as session:
            rows = await session.execute(select(Camera, Device).join(Device, Device.id == Camera.device_id))
            for camera, device in rows.all():
                password = ""
                if camera.password_encrypted:
                    password = self.box.decrypt(camera.password_encrypted, password_context(device.serial))
                sub = with_credentials(camera.sub_url, camera.username, password) if camera.sub_url else None
                wanted[camera.device_id] = _Wanted(
                    with_credentials(camera.main_url, camera.username, password),
                    sub,
                    camera.audio,
                    camera.recording_mode == RecordingMode.CONTINUOUS.value,
                    camera.emulated,
                )
        return wanted

    async def reconcile(self) -> None:
        """Start pipelines of new cameras, restart changed ones, stop removed ones; idle sub-streams stop."""
        async with self._lock:
            self._wanted = await self._load_wanted()
            for device_id in list(self.pipelines):
                want = self._wanted.get(device_id)
                pipe = self.pipelines[device_id]
                if want is None or want.url != pipe.config.url or want.audio != pipe.config.audio:
                    await self.pipelines.pop(device_id).stop()
                    if want is None:
                        await self._forget(device_id)
                else:
                    pipe.set_continuous(want.continuous)
            for device_id, want in self._wanted.items():
                if device_id not in self.pipelines:
                    await self._start_pipeline(device_id, want)
            await self._stop_idle_sub_streams()

    async def _forget(self, device_id: int) -> None:
        """A deleted camera's footage goes with it (its index rows went with the device)."""
        async with self.sessionmaker() as session:
            if await session.get(Device, device_id) is not None:
                return
        folder = camera_dir(self.media_dir, device_id)
        await asyncio.to_thread(shutil.rmtree, folder, True)
        log.info("camera %s deleted: its recordings in %s were removed", device_id, folder)
        if self.store is not None:
            prefix = camera_dir(Path(), device_id).name + "/"
            try:
                removed = await self.store.delete_prefix(prefix)
                log.info("camera %s deleted: its %d cloud copies were removed", device_id, removed)
            except StoreUnavailable as exc:
                log.error(
                    "camera %s deleted: its cloud copies (%s) stay in the store: %s", device_id, prefix, exc
                )

    async def _start_pipeline(self, device_id: int, want: _Wanted) -> None:
        config = PipelineConfig(
            device_id,
            want.url,
            self.media_dir,
            audio=want.audio,
            continuous=want.continuous,
            segment_seconds=self.settings.segment_seconds,
            read_timeout=self.settings.read_timeout_s,
            backoff_cap=self.settings.reconnect_cap_s,
            # an emulated camera says by MQTT when it is back; one added by URL is not dialed forever
            give_up_after=0 if want.emulated else self.settings.reconnect_give_up_after,
        )

        async def on_segment(info: SegmentInfo) -> None:
            await self._segment_done(info)

        async def on_status(kind: str, at: datetime, detail: str) -> None:
            await self._stream_status(device_id, kind, at, detail)

        async def on_disk_full() -> None:
            await self.disk_full()

        pipe = CameraPipeline(config, on_segment, on_status, on_disk_full)
        self.pipelines[device_id] = pipe
        await pipe.start()

    async def _stop_idle_sub_streams(self) -> None:
        now = utcnow()
        for device_id, sub in list(self.sub_streams.items()):
            want = self._wanted.get(device_id)
            if sub.live.subscriber_count:
                sub.idle_since = None
                continue
            sub.idle_since = sub.idle_since or now
            if want is None or want.sub_url != sub.url or now - sub.idle_since > timedelta(seconds=30):
                await self.sub_streams.pop(device_id).stop()

    def gave_up(self, device_id: int) -> str | None:
        """Why the hub stopped dialing this camera (until its owner reconnects it), or None."""
        pipe = self.pipelines.get(device_id)
        return pipe.ingest.gave_up if pipe is not None else None

    async def reconnect(self, device_id: int) -> None:
        """Dial a camera again from scratch (after it gave up, or to retry at once)."""
        async with self._lock:
            pipe = self.pipelines.pop(device_id, None)
            if pipe is not None:
                await pipe.stop()
        await self.reconcile()

    def live_stream(self, device_id: int, stream: str) -> LiveStream | None:
        """Main stream: the recording pipeline's; sub: started on demand when the camera has one."""
        if stream == "sub":
            want = self._wanted.get(device_id)
            if want is not None and want.sub_url:
                sub = self.sub_streams.get(device_id)
                if sub is None:
                    sub = self.sub_streams[device_id] = OnDemandLive(
                        device_id, want.sub_url, asyncio.get_running_loop()
                    )
                return sub.live
        pipe = self.pipelines.get(device_id)
        return pipe.live if pipe is not None else None

    # -- events from pipelines --------------------------------------------------------------------
    async def _segment_done(self, info: SegmentInfo) -> None:
        async with self.sessionmaker() as session:
            if await session.get(Device, info.camera_id) is None:
                # the last segment of a camera deleted while it recorded: it goes with its camera
                await asyncio.to_thread(info.path.unlink, True)
                log.info("camera %s was deleted: its last segment %s is removed", info.camera_id, info.path)
                return
            row = await camera_index.add_segment(session, info)
            camera = await session.get(Camera, info.camera_id)
        self.counts.indexed += 1
        if self.uploader is not None:
            seal_for = None
            if camera is not None and camera.image_encryption and camera.encryption_key:
                seal_for = CameraKey.from_json(camera.encryption_key).public_key
            self.uploader.submit(info.path, str(info.path.relative_to(self.media_dir)), seal_for)
        log.debug("camera %s: segment %s indexed (%.1fs)", info.camera_id, row.id, info.duration)

    async def _uploaded(self, done: Uploaded) -> None:
        async with self.sessionmaker() as session:
            await session.execute(
                update(Segment)
                .where(Segment.path == str(done.job.source))
                .values(uploaded=True, cloud_key=done.key, cloud_size=done.size, sealed=done.sealed)
            )
            await session.commit()

    async def _stream_status(self, device_id: int, kind: str, at: datetime, detail: str) -> None:
        async with self.sessionmaker() as session:
            if kind == "lost":
                await camera_index.open_gap(session, device_id, at, detail)
            elif kind == "up":
                await camera_index.close_gap(session, device_id, at)
            camera = await session.get(Camera, device_id)
            device = await session.get(Device, device_id)
            if camera is not None and device is not None and not camera.emulated:
                # a real RTSP camera has no MQTT availability: its stream is its online state (A3)
                device.online = kind == "up"
                device.last_seen_at = at
                await session.commit()
        if self.bus is not None:
            await self.bus.publish(
                {
                    "type": "camera.stream",
                    "device_id": device_id,
                    "streaming": kind == "up",
                    "gave_up": detail if kind == "gave_up" else None,
                    "at": at.isoformat(),
                },
                device_id=device_id,
            )

    # -- retention ----------------------------------------------------------------------------------
    def _policy(self, limits: dict[int, RetentionLimits]) -> RetentionPolicy:
        return RetentionPolicy(limits, min_free_bytes=self.settings.min_free_mb * MB)

    def _disk(self) -> Disk:
        usage = shutil.disk_usage(self.media_dir)
        return Disk(usage.total, usage.free, full=self._disk_full_seen)

    def _update_floor_warning(self, policy: RetentionPolicy) -> None:
        warning = policy.floor(self._disk()).warning
        if warning != self.storage_warning and warning is not None:
            log.warning("recording storage: %s", warning)
        self.storage_warning = warning

    async def disk_full(self) -> None:
        """A recorder hit ENOSPC: free a headroom now (even with a floor of 0) and resume recording."""
        self._disk_full_seen = True
        self.counts.disk_full += 1
        before = self._disk().free
        freed = await self.run_retention()
        disk = self._disk()
        log.warning(
            "disk full (%d bytes were free): retention deleted %d segments; now %d of %d bytes free, "
            "keeping at least %d free from now on",
            before,
            freed,
            disk.free,
            disk.total,
            self.floor_bytes,
        )
        if disk.free >= self.floor_bytes:
            for pipe in self.pipelines.values():
                pipe.recorder.resume()
        else:
            log.error("disk full and no footage left to delete: recording waits for free space")

    async def run_retention(self) -> int:
        """Apply per-camera age/size limits and the free-space floor (C12.1, C4.3); returns files deleted."""
        async with self._retention_lock, self.sessionmaker() as session:
            await camera_index.flag_person_footage(session)
            cameras = (await session.scalars(select(Camera))).all()
            limits = {
                c.device_id: RetentionLimits(
                    max_age=timedelta(days=c.retention_days) if c.retention_days > 0 else None,
                    max_bytes=c.retention_max_mb * MB if c.retention_max_mb else None,
                )
                for c in cameras
            }
            rows = (
                await session.execute(
                    select(
                        Segment.id,
                        Segment.device_id,
                        Segment.start,
                        Segment.end,
                        Segment.size,
                        Segment.has_event,
                        Segment.path,
                        Segment.uploaded,
                        Segment.cloud_key,
                    ).where(Segment.local.is_(True))
                )
            ).all()
            paths = {r.id: Path(r.path) for r in rows}
            cloud = self.uploader is not None
            segments = [
                RetainedSegment(
                    r.id, r.device_id, r.start, r.end, r.size, r.has_event, cloud and not r.uploaded
                )
                for r in rows
            ]
            policy = self._policy(limits)
            self._update_floor_warning(policy)
            disk = self._disk()
            self.floor_bytes = policy.floor(disk, segments).bytes
            deletions = policy.select(segments, utcnow(), disk)
            if not deletions:
                return 0
            ids = [d.segment.id for d in deletions]
            in_cloud = {r.id for r in rows if r.cloud_key is not None}
            # rows first: a crash in between leaves files without rows (adopted again at start-up),
            # never rows without files; a segment with a cloud copy keeps its row, served from the cloud
            await session.execute(
                delete(Segment).where(Segment.id.in_([i for i in ids if i not in in_cloud]))
            )
            await session.execute(
                update(Segment).where(Segment.id.in_([i for i in ids if i in in_cloud])).values(local=False)
            )
            await session.commit()
        await asyncio.to_thread(_unlink_all, [paths[i] for i in ids])
        self.counts.deleted += len(ids)
        reasons = sorted({d.reason.value for d in deletions})
        log.info("retention deleted %d segments (%s)", len(ids), ", ".join(reasons))
        return len(ids)

    async def run_cloud_retention(self) -> int:
        """The S3 tier's own limits (VAKT_S3_RETENTION_DAYS / _MAX_GB), oldest first; returns copies removed.

        Rows first, then objects: a crash in between leaves an unindexed object, never a row that
        points at nothing. A segment with neither copy left loses its row."""
        if not isinstance(self.store, S3Store):
            return 0
        s3 = self.settings.s3
        async with self._retention_lock, self.sessionmaker() as session:
            rows = (
                await session.execute(
                    select(Segment.id, Segment.start, Segment.cloud_key, Segment.cloud_size, Segment.local)
                    .where(Segment.cloud_key.is_not(None))
                    .order_by(Segment.start.desc())
                )
            ).all()
            oldest_kept = utcnow() - timedelta(days=s3.retention_days) if s3.retention_days else None
            budget = int(s3.retention_max_gb * 1024**3) if s3.retention_max_gb else None
            total = 0
            going = []
            for r in rows:  # newest first: the newest footage fills the budget
                total += r.cloud_size or 0
                too_old = oldest_kept is not None and r.start < oldest_kept
                if too_old or (budget is not None and total > budget):
                    going.append(r)
            if not going:
                return 0
            ids = [r.id for r in going]
            await session.execute(delete(Segment).where(Segment.id.in_([r.id for r in going if not r.local])))
            await session.execute(
                update(Segment)
                .where(Segment.id.in_([r.id for r in going if r.local]))
                .values(cloud_key=None, cloud_size=None)
            )
            await session.commit()
        try:
            await self.store.delete([str(r.cloud_key) for r in going])
        except StoreUnavailable as exc:
            log.warning("cloud retention: %d objects stay in the bucket for now (%s)", len(going), exc)
        self.cloud_deleted += len(ids)
        log.info("cloud retention removed %d segments from the cloud tier", len(ids))
        return len(ids)

    # -- emulated cameras announce their streams in their retained state --------------------------
    async def on_state(self, device: Device, state: dict[str, Any]) -> None:
        rtsp = state.get("rtsp")
        if device.kind != "camera" or not isinstance(rtsp, dict) or not rtsp.get("main_url"):
            return
        async with self.sessionmaker() as session:
            camera = await session.get(Camera, device.id)
            if camera is None:
                code = self.box.decrypt(device.code_encrypted, device.serial) if device.code_encrypted else ""
                camera = Camera(
                    device_id=device.id,
                    main_url=str(rtsp["main_url"]),
                    emulated=True,
                    username=str(rtsp.get("user", "admin")),
                    password_encrypted=self.box.encrypt(code, password_context(device.serial)),
                )
                session.add(camera)
            camera.main_url = str(rtsp["main_url"])
            camera.sub_url = str(rtsp["sub_url"]) if rtsp.get("sub_url") else None
            settings = state.get("settings")
            if isinstance(settings, dict):  # set on the device itself (C6): Audio and Time Zone follow
                if isinstance(settings.get("audio"), bool):
                    camera.audio = settings["audio"]
                if isinstance(settings.get("time_zone"), str) and _known_zone(settings["time_zone"]):
                    camera.time_zone = settings["time_zone"]
            await session.commit()
        await self.reconcile()


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _check_all(rows: list[tuple[int, str, int, int]]) -> dict[int, str]:
    """Segment id -> why it is damaged, for the rows (id, path, size, init size) that fail the check."""
    found = {}
    for segment_id, path, size, init_size in rows:
        reason = check_segment(Path(path), size, init_size)
        if reason is not None:
            found[segment_id] = reason
    return found


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.error("retention could not delete %s: %s", path, exc)
