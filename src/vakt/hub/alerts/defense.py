"""Active defense (C9): manual (siren + fast-flashing spotlight for up to a minute) and automatic
(on a person while armed; stops once no motion has been seen for ``quiet_after`` seconds)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from vakt.hub.mqtt import CommandError, HubMqtt

log = logging.getLogger(__name__)
MAX_SECONDS = 60  # C9.2: up to one minute


class DefenseRefused(CommandError):
    """The camera answered, and said no."""


@dataclass
class _Automatic:
    serial: str
    last_activity: float
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class DefenseController:
    """Sends the camera commands; keeps automatic runs going while there is activity, then stops them."""

    def __init__(self, mqtt: HubMqtt, quiet_after: float = 10.0, check_every: float = 0.5) -> None:
        self.mqtt = mqtt
        self.quiet_after = quiet_after
        self.check_every = check_every
        self._auto: dict[int, _Automatic] = {}

    async def start(self, serial: str, seconds: int = MAX_SECONDS) -> dict[str, Any]:
        """C9.2: siren + fast-flashing spotlight on the camera for ``seconds`` (at most 60)."""
        seconds = max(1, min(MAX_SECONDS, seconds))
        ack = await self.mqtt.send_command(serial, "camera.active_defense", {"seconds": seconds})
        if not ack.ok:
            raise DefenseRefused(ack.error or "the camera refused active defense")
        return dict(ack.result or {})

    async def stop(self, serial: str, device_id: int | None = None) -> dict[str, Any]:
        if device_id is not None:
            self._cancel(device_id)
        ack = await self.mqtt.send_command(serial, "camera.active_defense.stop", {})
        if not ack.ok:
            raise DefenseRefused(ack.error or "the camera refused to stop active defense")
        return dict(ack.result or {})

    async def record(self, serial: str, seconds: int = 60) -> None:
        """Make the camera record (to its card) while the event lasts."""
        ack = await self.mqtt.send_command(serial, "camera.record", {"on": True, "seconds": seconds})
        if not ack.ok:
            log.warning("camera %s refused to record: %s", serial, ack.error)

    def is_automatic(self, device_id: int) -> bool:
        return device_id in self._auto

    async def trigger(self, device_id: int, serial: str) -> None:
        """C9.1: start (or keep going) automatic active defense for a detection on this camera; the
        command goes out in the background so alerts are not held up by a slow camera."""
        run = self._auto.get(device_id)
        if run is not None:
            run.last_activity = time.monotonic()
            return
        run = self._auto[device_id] = _Automatic(serial, time.monotonic())
        run.task = asyncio.create_task(self._supervise(device_id, run), name=f"defense-{serial}")

    def activity(self, device_id: int) -> None:
        """Motion or a person seen on the camera: keep the automatic alarm going."""
        run = self._auto.get(device_id)
        if run is not None:
            run.last_activity = time.monotonic()

    async def _supervise(self, device_id: int, run: _Automatic) -> None:
        try:
            await self.start(run.serial, MAX_SECONDS)
        except CommandError as exc:
            log.warning("automatic active defense on %s failed: %s", run.serial, exc)
            self._auto.pop(device_id, None)
            return
        log.info("automatic active defense on %s started", run.serial)
        started = time.monotonic()
        while True:
            await asyncio.sleep(self.check_every)
            now = time.monotonic()
            if now - run.last_activity >= self.quiet_after:
                break
            if now - started >= MAX_SECONDS - 1:  # the camera stops by itself after a minute: renew it
                started = now
                with contextlib.suppress(CommandError):
                    await self.start(run.serial, MAX_SECONDS)
        self._auto.pop(device_id, None)
        try:
            await self.mqtt.send_command(run.serial, "camera.active_defense.stop", {})
            log.info(
                "automatic active defense on %s stopped: no motion for %.0f s", run.serial, self.quiet_after
            )
        except CommandError as exc:
            log.warning("stopping active defense on %s failed: %s", run.serial, exc)

    def _cancel(self, device_id: int) -> None:
        run = self._auto.pop(device_id, None)
        if run is not None and run.task is not None:
            run.task.cancel()

    async def close(self) -> None:
        for device_id in list(self._auto):
            self._cancel(device_id)
