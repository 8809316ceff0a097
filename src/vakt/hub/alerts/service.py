"""The alerts service of the hub: per-camera analysis, person events, notifications, active defense,
and notifications for device events (lock alarms, doorbell, low battery, offline)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vakt.detect import DetectConfig, NoDetectorConfig, OnnxYoloxConfig, PersonEvent
from vakt.detect.detectors import Detector, ModelError, MotionOnlyDetector, create_detector
from vakt.detect.models import find_model
from vakt.hub.alerts.analysis import AnalysisResult, CameraAnalysis
from vakt.hub.alerts.defense import DefenseController
from vakt.hub.alerts.device_alerts import DeviceAlerts
from vakt.hub.alerts.notifier import Alert, Notifier
from vakt.hub.alerts.policy import decide, is_outdoor
from vakt.hub.alerts.push import PushSender
from vakt.hub.alerts.vapid import VapidKeys
from vakt.hub.bus import EventBus
from vakt.hub.camera_index import mark_segments
from vakt.hub.camera_supervisor import password_context, with_credentials
from vakt.hub.models.alerts import Arming, ArmingMode, NotificationKind, PersonEventRecord
from vakt.hub.models.cameras import Camera
from vakt.hub.models.devices import Device
from vakt.hub.outbound import Destinations
from vakt.hub.permissions import Permission
from vakt.hub.settings import HubSettings
from vakt.media.durable import write_file

log = logging.getLogger(__name__)
PersonEventHook = Callable[[int, PersonEventRecord], Awaitable[None]]


def camera_settings(device: Device) -> dict[str, Any]:
    return dict((device.state or {}).get("settings") or {})


def load_detector(models_dir: Path, threads: int = 1) -> tuple[Detector, str | None]:
    """The person model from the models folder, or motion-only with the reason why."""
    path = find_model(models_dir)
    if path is None:
        reason = f"no person model in {models_dir}: run `vakt models fetch`; camera alerts are motion-only"
        log.warning(reason)
        return MotionOnlyDetector(), reason
    try:
        return create_detector(OnnxYoloxConfig(model_path=path, threads=threads)), None
    except ModelError as exc:
        reason = f"person model unusable ({exc}); camera alerts are motion-only"
        log.error(reason)
        return MotionOnlyDetector(), reason


class AlertsService:
    """Owns the analysis of every camera and turns what it sees into events, alerts and defense."""

    def __init__(self, app: FastAPI, detector: Detector, model_problem: str | None) -> None:
        self.settings: HubSettings = app.state.settings
        self._app_state = app.state
        self.sessionmaker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
        self.bus: EventBus = app.state.bus
        self.detector = detector
        self.model_problem = model_problem
        self.vapid = VapidKeys.load_or_create(self.settings.data_dir)
        self.box = app.state.broker_sync.box
        destinations = Destinations(
            frozenset(h.lower() for h in self.settings.outbound_allowed_hosts),
            self.settings.webhook_private_addresses,
        )
        push = PushSender(self.vapid, destinations=destinations)
        self.notifier = Notifier(self.sessionmaker, self.bus, push, self.box)
        self.defense = DefenseController(app.state.mqtt)
        self.device_alerts = DeviceAlerts(self)
        self.analyses: dict[int, CameraAnalysis] = {}
        self._configs: dict[int, tuple[str, DetectConfig]] = {}
        self._open: dict[int, int] = {}  # camera id -> id of its ongoing person event
        self._last_alert: dict[int, float] = {}  # camera id -> loop time of its last person alert
        self.person_event_hooks: list[PersonEventHook] = []
        self._flagging: set[asyncio.Task[None]] = set()
        self.snapshot_dir = self.settings.media_dir / "snapshots"
        self.reconcile_every = 2.0

    @property
    def status(self) -> dict[str, Any]:
        return {
            "detector": self.detector.description,
            "person_detection": self.detector.finds_people,
            "problem": self.model_problem,
            "cameras": {str(i): {"frames": a.frames, "error": a.error} for i, a in self.analyses.items()},
        }

    def on_person_event(self, hook: PersonEventHook) -> None:
        """Other areas (recording) hear of each person event start and end."""
        self.person_event_hooks.append(hook)

    # -- camera analyses ---------------------------------------------------------------------------
    async def run(self) -> None:
        while True:
            try:
                await self.reconcile()
            except Exception:
                log.exception("reconciling camera analyses failed")
            await asyncio.sleep(self.reconcile_every)

    async def reconcile(self) -> None:
        """Start analysis for cameras with human detection on and a sub-stream; stop it for the others."""
        async with self.sessionmaker() as session:
            rows = await session.execute(
                select(Device, Camera)
                .outerjoin(Camera, Camera.device_id == Device.id)
                .where(Device.kind == "camera")
            )
            wanted: dict[int, tuple[str, DetectConfig]] = {}
            for camera, stream in rows.all():
                settings = camera_settings(camera)
                # a camera added by RTSP URL (V4) has no MQTT presence: its stream is its availability
                url = self._stream_url(stream, camera) if stream is not None else None
                if url is None and camera.online:
                    url = self._sub_url(camera)
                if url is None or not settings.get("intelligent_human_detection", True):
                    continue
                if self._recording_gave_up(camera.id):  # the camera never answers: stop dialing it too
                    continue
                detector_config = NoDetectorConfig() if not self.detector.finds_people else None
                config = DetectConfig(
                    sensitivity=int(settings.get("detection_sensitivity", 50)),
                    **({"detector": detector_config} if detector_config else {}),
                )
                wanted[camera.id] = (url, config)
        for device_id in list(self.analyses):
            if wanted.get(device_id) != self._configs.get(device_id):
                await self._stop_analysis(device_id)
        loop = asyncio.get_running_loop()
        for device_id, (url, config) in wanted.items():
            if device_id not in self.analyses:
                analysis = CameraAnalysis(device_id, url, config, self.detector, self.handle, loop)
                self.analyses[device_id], self._configs[device_id] = analysis, (url, config)
                analysis.start()
                log.info("analysing camera %d (sensitivity %d)", device_id, config.sensitivity)

    def _recording_gave_up(self, device_id: int) -> bool:
        cameras = getattr(self._app_state, "cameras", None)
        return cameras is not None and cameras.gave_up(device_id) is not None

    def _stream_url(self, stream: Camera, camera: Device) -> str | None:
        """The sub-stream (else main) of a camera the recording side knows, with its credentials."""
        url = stream.sub_url or stream.main_url
        if not url:
            return None
        password = (
            self.box.decrypt(stream.password_encrypted, password_context(camera.serial))
            if (stream.password_encrypted)
            else ""
        )
        return with_credentials(url, stream.username, password)

    def _sub_url(self, camera: Device) -> str | None:
        rtsp = (camera.state or {}).get("rtsp") or {}
        url = rtsp.get("sub_url") or rtsp.get("main_url")
        if not isinstance(url, str) or not url.startswith("rtsp://"):
            return None
        if camera.code_encrypted and "@" not in url.split("//", 1)[1].split("/", 1)[0]:
            code = self.box.decrypt(camera.code_encrypted, camera.serial)
            url = url.replace("rtsp://", f"rtsp://{rtsp.get('user') or 'admin'}:{code}@", 1)
        return url

    async def _stop_analysis(self, device_id: int) -> None:
        analysis = self.analyses.pop(device_id)
        self._configs.pop(device_id, None)
        analysis.stop()
        await asyncio.to_thread(analysis.join)

    async def close(self) -> None:
        for task in list(self._flagging):
            task.cancel()
        for device_id in list(self.analyses):
            await self._stop_analysis(device_id)
        await self.defense.close()
        await self.notifier.close()

    # -- results -----------------------------------------------------------------------------------
    async def handle(self, result: AnalysisResult) -> None:
        """React to one analysed frame of a camera (called on the event loop)."""
        frame = result.frame
        if frame.persons or frame.motion:
            self.defense.activity(result.device_id)
        events = frame.events
        if events.started is not None:
            await self.person_started(result.device_id, events.started, result.stream_origin)
        elif events.improved is not None and result.device_id in self._open:
            await self._update_event(result.device_id, events.improved, result.stream_origin)
        for ended in events.ended:
            await self.person_ended(result.device_id, ended, result.stream_origin)

    async def person_started(self, device_id: int, event: PersonEvent, origin: float) -> int | None:
        async with self.sessionmaker() as session:
            device = await session.get(Device, device_id)
            if device is None:
                return None
            arming = await session.get(Arming, device.owner_id)
            mode = ArmingMode(arming.mode) if arming else ArmingMode.AWAY
            record = PersonEventRecord(
                device_id=device_id,
                label=event.label,
                started_at=_wall(origin, event.start),
                score=event.score,
                box=list(event.box) if event.box else None,
            )
            session.add(record)
            await session.flush()
            snapshot = self._save_snapshot(device_id, record.id, event)
            record.snapshot_path = snapshot
            if event.snapshot_pts is not None:
                record.snapshot_at = _wall(origin, event.snapshot_pts)
            await session.commit()
            self._open[device_id] = record.id
            settings = camera_settings(device)
            serial, name = device.serial, device.name or device.serial
        kind = NotificationKind.PERSON if event.label == "person" else NotificationKind.MOTION
        decision = decide(mode, kind, is_outdoor(device.state or {}))
        await self.bus.publish(
            {"type": "person.event", "device_id": device_id, "event": person_event_json(record)},
            device_id,
            permission=Permission.LIVE_VIEW,
        )
        if decision.notify and settings.get("alarm_notification", True) and self._alert_due(device_id):
            what = "Person detected" if kind is NotificationKind.PERSON else "Motion detected"
            await self.notifier.notify(
                Alert(
                    device_id,
                    kind,
                    f"{what}: {name}",
                    f"{what} by {name}",
                    permission=Permission.LIVE_VIEW,
                    person_event_id=record.id,
                    data={
                        "snapshot_url": f"/api/person-events/{record.id}/snapshot" if snapshot else None,
                        "arming": mode.value,
                    },
                )
            )
        if decision.defend and settings.get("intelligent_human_detection", True):
            await self.defense.trigger(device_id, serial)
        elif decision.record:
            with contextlib.suppress(Exception):
                await self.defense.record(serial)
        for hook in self.person_event_hooks:
            await _safe(hook(device_id, record))
        return record.id

    def _alert_due(self, device_id: int) -> bool:
        """One alert per camera per cooldown: people coming and going do not flood the owner (A4)."""
        now = asyncio.get_running_loop().time()
        last = self._last_alert.get(device_id)
        if last is not None and now - last < self.settings.alert_cooldown_s:
            log.info(
                "camera %d: person event recorded; no alert (%.0f s since the last one)",
                device_id,
                now - last,
            )
            return False
        self._last_alert[device_id] = now
        return True

    async def person_ended(self, device_id: int, event: PersonEvent, origin: float) -> None:
        """The camera's open person event ended (also used by tests and other sources)."""
        await self._update_event(device_id, event, origin, close=True)

    async def _update_event(
        self, device_id: int, event: PersonEvent, origin: float, close: bool = False
    ) -> None:
        record_id = self._open.get(device_id)
        if record_id is None:
            return
        async with self.sessionmaker() as session:
            record = await session.get(PersonEventRecord, record_id)
            if record is None:
                return
            if event.score > record.score and event.snapshot_jpeg:
                record.score = event.score
                record.box = list(event.box) if event.box else None
                replaced = record.snapshot_path
                record.snapshot_path = self._save_snapshot(device_id, record.id, event)
                if replaced and replaced != record.snapshot_path:
                    (self.settings.media_dir / replaced).unlink(missing_ok=True)
                record.snapshot_at = _wall(origin, event.snapshot_pts or event.start)
            if close:
                record.ended_at = _wall(origin, event.end if event.end is not None else event.start)
            await session.commit()
            payload = person_event_json(record)
        if close:
            self._open.pop(device_id, None)
            self._flag_recording(device_id, record.started_at, record.ended_at or record.started_at)
            await self.bus.publish(
                {"type": "person.event", "device_id": device_id, "event": payload},
                device_id,
                permission=Permission.LIVE_VIEW,
            )
            for hook in self.person_event_hooks:
                await _safe(hook(device_id, record))

    def _flag_recording(self, device_id: int, start: datetime, end: datetime) -> None:
        """Flag the recorded segments of the event (kept longer, shown on the timeline); again a little
        later for the segment still being written when the event ended."""

        async def flag() -> None:
            for wait in (0.0, 15.0):
                await asyncio.sleep(wait)
                try:
                    async with self.sessionmaker() as session:
                        await mark_segments(session, device_id, start, end + timedelta(seconds=1), event=True)
                except Exception:
                    log.exception("flagging the recording of camera %d failed", device_id)

        task = asyncio.create_task(flag())
        self._flagging.add(task)
        task.add_done_callback(self._flagging.discard)

    def _save_snapshot(self, device_id: int, record_id: int, event: PersonEvent) -> str | None:
        if not event.snapshot_jpeg:
            return None
        relative = (
            Path("snapshots")
            / str(device_id)
            / f"event-{record_id}-{int((event.snapshot_pts or 0) * 1000)}.jpg"
        )
        write_file(self.settings.media_dir / relative, event.snapshot_jpeg)  # durable before indexed
        return str(relative)


def _wall(origin: float, stream_time: float) -> datetime:
    return datetime.fromtimestamp(origin + stream_time, UTC)


def person_event_json(record: PersonEventRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "device_id": record.device_id,
        "label": record.label,
        "start": record.started_at.isoformat(),
        "end": record.ended_at.isoformat() if record.ended_at else None,
        "score": round(record.score, 3),
        "box": record.box,
        "snapshot_url": f"/api/person-events/{record.id}/snapshot" if record.snapshot_path else None,
    }


async def _safe(awaitable: Awaitable[None]) -> None:
    try:
        await awaitable
    except Exception:
        log.exception("a person event hook failed")


@contextlib.asynccontextmanager
async def service(app: FastAPI) -> AsyncIterator[None]:
    """Lifespan service: the alerts of the hub run while the hub runs (``app.state.alerts``)."""
    settings: HubSettings = app.state.settings
    detector, problem = await asyncio.to_thread(load_detector, settings.models_dir)
    alerts = AlertsService(app, detector, problem)
    app.state.alerts = alerts
    alerts.device_alerts.register(app.state.mqtt)
    task = asyncio.create_task(alerts.run(), name="alerts-reconcile")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await alerts.close()
