"""A4/X2/X3 from device events: lock alarms, doorbell, low battery, and devices going offline."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from vakt.hub.alerts.notifier import Alert
from vakt.hub.alerts.policy import X2_ALARMS, decide
from vakt.hub.models.alerts import Arming, ArmingMode, NotificationKind
from vakt.hub.models.devices import Device
from vakt.hub.mqtt import HubMqtt
from vakt.lock import AlarmCode, EventType
from vakt.media.durable import write_file
from vakt.protocol import Event

if TYPE_CHECKING:
    from vakt.hub.alerts.service import AlertsService

log = logging.getLogger(__name__)

# The lock's alarm codes (Matter DoorLock AlarmCodeEnum, vakt.lock.AlarmCode) -> notification kind
ALARM_KINDS = {
    AlarmCode.WrongCodeEntryLimit: NotificationKind.LOCKOUT,
    AlarmCode.FrontEsceutcheonRemoved: NotificationKind.TAMPER,
    AlarmCode.DoorForcedOpen: NotificationKind.FORCED_ENTRY,
    AlarmCode.LockJammed: NotificationKind.JAMMED,
    AlarmCode.MemoryDamaged: NotificationKind.JAMMED,  # a fault that needs the owner, not an intrusion
}
# Alarms whose title says more than their kind's
ALARM_TITLES = {AlarmCode.MemoryDamaged: "Lock memory damaged: it stays locked until you restore it"}
TITLES = {
    NotificationKind.LOCKOUT: "Lockout: too many wrong attempts",
    NotificationKind.TAMPER: "Tamper alarm",
    NotificationKind.FORCED_ENTRY: "Door forced open",
    NotificationKind.JAMMED: "Lock jammed",
    NotificationKind.LOW_BATTERY: "Low battery",
    NotificationKind.DOORBELL: "Someone is at the door",
    NotificationKind.OFFLINE: "Device offline",
}


def event_kind(event: Event) -> NotificationKind | None:
    """The notification an event calls for, if any."""
    if event.type == EventType.DoorLockAlarm and event.data.get("active", True):
        code = _alarm_code(event)
        return None if code is None else ALARM_KINDS.get(code)
    if event.type == EventType.Doorbell:
        return NotificationKind.DOORBELL
    if event.type == EventType.LowBattery:
        return NotificationKind.LOW_BATTERY
    return None


def _alarm_code(event: Event) -> AlarmCode | None:
    try:
        return AlarmCode(str(event.data.get("alarm_code")))
    except ValueError:
        return None


def event_title(event: Event, kind: NotificationKind) -> str:
    code = _alarm_code(event) if event.type == EventType.DoorLockAlarm else None
    return ALARM_TITLES.get(code, TITLES[kind]) if code is not None else TITLES[kind]


class DeviceAlerts:
    def __init__(self, alerts: AlertsService) -> None:
        self.alerts = alerts

    def register(self, mqtt: HubMqtt) -> None:
        mqtt.on_event(self.on_event)
        mqtt.on_availability(self.on_availability)

    async def on_event(self, device: Device, event: Event) -> None:
        kind = event_kind(event)
        if kind is None:
            return
        cameras = await self._owner_cameras(device.owner_id)
        snapshot = (
            await self._snapshot(cameras[0])
            if cameras and kind in (*X2_ALARMS, NotificationKind.DOORBELL)
            else None
        )
        name = device.name or device.serial
        data: dict[str, Any] = {
            "event_type": event.type,
            **{k: v for k, v in event.data.items() if k != "ts"},
        }
        if snapshot is not None:
            data["snapshot"], data["camera_id"] = snapshot, cameras[0].id
        if kind is NotificationKind.DOORBELL and cameras:
            data["live_view"] = f"/devices/{cameras[0].id}?talk=1"  # X3: straight to live view and talk
        title = event_title(event, kind)
        await self.alerts.notifier.notify(Alert(device.id, kind, f"{title}: {name}", title, data=data))
        if kind in X2_ALARMS:
            mode = await self._mode(device.owner_id)
            decision = decide(mode, kind)
            for camera in cameras:
                if decision.defend:
                    await self.alerts.defense.trigger(camera.id, camera.serial)
                elif decision.record:
                    try:
                        await self.alerts.defense.record(camera.serial)
                    except Exception as exc:
                        log.warning("camera %s could not record the alarm: %s", camera.serial, exc)

    async def on_availability(self, device: Device, online: bool) -> None:
        if online:
            return
        if device.kind == "camera":
            settings = (device.state or {}).get("settings") or {}
            if not settings.get("offline_notification", False):
                return
        elif device.kind != "gateway":
            return
        name = device.name or device.serial
        await self.alerts.notifier.notify(
            Alert(
                device.id,
                NotificationKind.OFFLINE,
                f"{TITLES[NotificationKind.OFFLINE]}: {name}",
                f"{name} went offline",
            )
        )

    async def _owner_cameras(self, owner_id: int) -> list[Device]:
        async with self.alerts.sessionmaker() as session:
            rows = await session.scalars(
                select(Device)
                .where(Device.owner_id == owner_id, Device.kind == "camera", Device.online)
                .order_by(Device.id)
            )
            return list(rows.all())

    async def _mode(self, owner_id: int) -> ArmingMode:
        async with self.alerts.sessionmaker() as session:
            arming = await session.get(Arming, owner_id)
            return ArmingMode(arming.mode) if arming else ArmingMode.AWAY

    async def _snapshot(self, camera: Device) -> str | None:
        """A JPEG from the camera now (its HTTP snapshot), stored under the media folder."""
        state = camera.state or {}
        http = state.get("http") or {}
        port = http.get("port")
        if not isinstance(port, int) or not camera.code_encrypted:
            return None
        host = urlsplit(str((state.get("rtsp") or {}).get("main_url") or "")).hostname or "127.0.0.1"
        code = self.alerts.box.decrypt(camera.code_encrypted, camera.serial)
        url = f"http://{host}:{port}{http.get('snapshot') or '/snapshot.jpg'}"
        try:
            async with httpx.AsyncClient(auth=("admin", code), timeout=5.0) as client:
                response = await client.get(url)
                response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("snapshot from camera %s failed: %s", camera.serial, exc)
            return None
        relative = Path("snapshots") / str(camera.id) / f"alarm-{int(time.time() * 1000)}.jpg"
        path = self.alerts.settings.media_dir / relative
        await asyncio.to_thread(write_file, path, response.content)  # durable before indexed
        return str(relative)
