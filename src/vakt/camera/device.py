"""The camera's behaviour behind its control plane: commands, physical inputs, LED, siren, spotlight,
active defense, SD card, recording and settings. Transport-free: the emulator wires it to MQTT/HTTP."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from vakt.camera import commands as cmd
from vakt.camera.config import CameraConfig
from vakt.camera.led import Led, LedInputs, led_for
from vakt.camera.live import LiveStream
from vakt.camera.recorder import ClipRecorder
from vakt.camera.sd import MB, SdError, SdFolder, SdStatus
from vakt.camera.settings import CameraSettings, apply_changes
from vakt.camera.speaker import Speaker

log = logging.getLogger(__name__)

RESET_HOLD_SECONDS = 3.5  # "about 4 s" (C2.1): a hold of at least 3.5 s counts
MOTION_CLIP_SECONDS = 10.0  # a motion clip runs until this long after the last motion seen


class CommandRefused(Exception):
    """The command cannot be carried out; the message becomes the Ack's error."""


class Lifecycle(Protocol):
    """What the device asks of the emulator around it (power, network, restart, live viewers)."""

    def watching(self) -> int: ...
    def schedule_restart(self, factory_reset: bool) -> None: ...
    def schedule_network(self, up: bool, back_after: float | None) -> None: ...
    def schedule_power(self, on: bool, back_after: float | None) -> None: ...
    def schedule_wifi_change(self, ssid: str) -> None: ...
    def settings_applied(self, old: CameraSettings, new: CameraSettings) -> None: ...


EventSink = Callable[[str, dict[str, Any]], Awaitable[None]]


class CameraDevice:
    def __init__(self, config: CameraConfig, main: LiveStream, lifecycle: Lifecycle, emit: EventSink) -> None:
        self.config = config
        self.main = main
        self.lifecycle = lifecycle
        self.emit = emit
        self.settings_file = config.data_dir / "settings.json"
        self.settings = self._load_settings()
        self.sd = SdFolder(config.data_dir / "sd")
        if config.sd_inserted:
            self.sd.insert(config.sd_capacity_mb * MB, initialized=True)
        self.speaker = Speaker(config.data_dir / "speaker")
        self.starting = True
        self.network_ok = True  # the network side is up (panel input "network")
        self.server_reachable = True  # the broker answers (False: a network exception too, C1)
        self.setup_mode = False
        self.wifi_ssid: str | None = None  # the Wi-Fi network joined last (None: wired or never joined)
        self.app_viewers = 0  # people watching live in the app, as the hub reports them (C1)
        self.powered = True
        self.siren_until: datetime | None = None
        self.spotlight = cmd.SpotlightMode.OFF
        self.defense_until: datetime | None = None
        self.recorder: ClipRecorder | None = None
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._motion_until = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self.on_change: Callable[[], None] = lambda: None

    # ---- persistence -------------------------------------------------------------------------------
    def _load_settings(self) -> CameraSettings:
        try:
            return CameraSettings.model_validate_json(self.settings_file.read_text())
        except FileNotFoundError:
            return CameraSettings(device_version=self.config.firmware)
        except ValueError as exc:
            log.warning("settings file %s unreadable (%s): using defaults", self.settings_file, exc)
            return CameraSettings(device_version=self.config.firmware)

    def _save_settings(self) -> None:
        self.settings_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.settings_file.with_suffix(".tmp")
        tmp.write_text(self.settings.model_dump_json(indent=2))
        tmp.replace(self.settings_file)

    # ---- state -------------------------------------------------------------------------------------
    @property
    def led(self) -> Led:
        if not self.powered:
            return Led.OFF
        return led_for(
            LedInputs(
                status_light=self.settings.status_light,
                starting=self.starting,
                camera_fault=self.sd.card.status is SdStatus.ERROR,
                network_ok=self.network_ok and self.server_reachable,
                setup_mode=self.setup_mode,
                watching=self.lifecycle.watching(),
            )
        )

    @property
    def siren_on(self) -> bool:
        return self.siren_until is not None

    def state(self) -> dict[str, Any]:
        rec = self.recorder
        return {
            "led": self.led.value,
            "siren": {"on": self.siren_on, "until": _iso(self.siren_until)},
            "spotlight": {"mode": self.spotlight.value},
            "active_defense": {"on": self.defense_until is not None, "until": _iso(self.defense_until)},
            "sd": self.sd.card.summary(),
            "recording": {
                "on": rec is not None,
                "file": rec.name if rec else None,
                "reason": rec.reason if rec else None,
            },
            "settings": self.settings.model_dump(mode="json"),
            "setup_mode": self.setup_mode,
            "network": "setup" if self.setup_mode else ("online" if self.network_ok else "offline"),
            "wifi": {"ssid": self.wifi_ssid},
            "server_reachable": self.server_reachable,
            "power": "on" if self.powered else "off",
            "starting": self.starting,
            "speaker": self.speaker.summary(),
        }

    def _changed(self) -> None:
        self.on_change()

    def _timer(self, name: str, seconds: float, action: Callable[[], Awaitable[None]]) -> None:
        self._cancel_timer(name)

        async def run() -> None:
            await asyncio.sleep(seconds)
            self._timers.pop(name, None)
            await action()

        self._timers[name] = asyncio.create_task(run(), name=f"camera-{name}")

    def _cancel_timer(self, name: str) -> None:
        task = self._timers.pop(name, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def shutdown(self) -> None:
        """Everything stops: timers, siren, spotlight, active defense, recording."""
        for name in list(self._timers):
            self._cancel_timer(name)
        self.sd.card.finish_initialize()  # a format under way completes rather than hanging forever
        self.siren_until = self.defense_until = None
        self.spotlight = cmd.SpotlightMode.OFF
        await self.stop_recording()

    # ---- commands ----------------------------------------------------------------------------------
    async def handle(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Run one command; returns the Ack result or raises CommandRefused."""
        handlers: dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]] = {
            "camera.settings": self._cmd_settings,
            "camera.siren": self._cmd_siren,
            "camera.spotlight": self._cmd_spotlight,
            "camera.active_defense": self._cmd_active_defense,
            "camera.active_defense.stop": self._cmd_active_defense_stop,
            "camera.sd.initialize": self._cmd_sd_initialize,
            "camera.record": self._cmd_record,
            "camera.restart": self._cmd_restart,
            "camera.wifi.join": self._cmd_wifi_join,
            "camera.wifi.change": self._cmd_wifi_change,
            "camera.viewers": self._cmd_viewers,
            "panel.input": self.panel_input,
        }
        handler = handlers.get(name)
        if handler is None:
            raise CommandRefused(f"unknown command {name}")
        if not self.powered:
            raise CommandRefused("the camera is powered off")
        try:
            result = await handler(args)
        except (ValueError, SdError) as exc:
            raise CommandRefused(str(exc)) from None
        self._changed()
        return result

    async def _cmd_settings(self, args: dict[str, Any]) -> dict[str, Any]:
        cmd.parse_args(cmd.SettingsArgs, args)
        try:
            new = apply_changes(self.settings, args)
        except ValueError as exc:
            raise ValueError(_first_error(exc)) from None
        old, self.settings = self.settings, new
        self._save_settings()
        self.lifecycle.settings_applied(old, new)
        changed = {
            k: v for k, v in new.model_dump(mode="json").items() if old.model_dump(mode="json")[k] != v
        }
        if changed:
            await self.emit("SettingsChanged", {"changed": changed})
        return {"settings": new.model_dump(mode="json")}

    async def _cmd_siren(self, args: dict[str, Any]) -> dict[str, Any]:
        a: cmd.SirenArgs = cmd.parse_args(cmd.SirenArgs, args)
        if a.on:
            await self._siren_on(a.seconds)
        else:
            await self._siren_off()
        return {"siren": self.siren_on}

    async def _siren_on(self, seconds: float) -> None:
        self.siren_until = _now() + timedelta(seconds=seconds)
        self._timer("siren", seconds, self._siren_off)
        await self.emit("Siren", {"on": True, "seconds": seconds})

    async def _siren_off(self) -> None:
        self._cancel_timer("siren")
        if self.siren_until is not None:
            self.siren_until = None
            await self.emit("Siren", {"on": False})
            self._changed()

    async def _cmd_spotlight(self, args: dict[str, Any]) -> dict[str, Any]:
        a: cmd.SpotlightArgs = cmd.parse_args(cmd.SpotlightArgs, args)
        self._set_spotlight(a.mode, a.seconds)
        return {"spotlight": self.spotlight.value}

    def _set_spotlight(self, mode: cmd.SpotlightMode, seconds: float | None) -> None:
        self.spotlight = mode
        self._cancel_timer("spotlight")
        if seconds is not None and mode is not cmd.SpotlightMode.OFF:

            async def off() -> None:
                self.spotlight = cmd.SpotlightMode.OFF
                self._changed()

            self._timer("spotlight", seconds, off)

    async def _cmd_active_defense(self, args: dict[str, Any]) -> dict[str, Any]:
        """C9.2: siren plus fast-flashing spotlight for up to one minute, recorded to the SD card."""
        a: cmd.ActiveDefenseArgs = cmd.parse_args(cmd.ActiveDefenseArgs, args)
        self.defense_until = _now() + timedelta(seconds=a.seconds)
        await self._siren_on(a.seconds)
        self._set_spotlight(cmd.SpotlightMode.FLASH_FAST, None)
        self._timer("active_defense", a.seconds, self._defense_end)
        recording = await self._try_record("active_defense", a.seconds)
        await self.emit("ActiveDefense", {"on": True, "seconds": a.seconds, "recording": recording})
        return {"until": _iso(self.defense_until), "recording": recording}

    async def _defense_end(self) -> None:
        self._cancel_timer("active_defense")
        if self.defense_until is None:
            return
        self.defense_until = None
        await self._siren_off()
        self._set_spotlight(cmd.SpotlightMode.OFF, None)
        await self.emit("ActiveDefense", {"on": False})
        self._changed()

    async def _cmd_active_defense_stop(self, args: dict[str, Any]) -> dict[str, Any]:
        cmd.parse_args(cmd.EmptyArgs, args)
        was_on = self.defense_until is not None
        await self._defense_end()
        return {"stopped": was_on}

    async def _cmd_sd_initialize(self, args: dict[str, Any]) -> dict[str, Any]:
        cmd.parse_args(cmd.EmptyArgs, args)
        await self.stop_recording()
        self.sd.initialize_files()
        await self.emit("SdCardStatus", self.sd.card.summary())

        async def done() -> None:
            self.sd.card.finish_initialize()
            await self.emit("SdCardStatus", self.sd.card.summary())
            self._changed()

        self._timer("sd_format", self.config.sd_format_seconds, done)
        return {"sd": self.sd.card.summary()}

    async def _cmd_record(self, args: dict[str, Any]) -> dict[str, Any]:
        a: cmd.RecordArgs = cmd.parse_args(cmd.RecordArgs, args)
        if not a.on:
            finished = await self.stop_recording()
            return {"recording": False, "file": finished}
        if not self.sd.card.writable:
            raise SdError(f"cannot record: SD card is {self.sd.card.status.value}")
        await self._try_record("manual", a.seconds)
        return {"recording": True, "file": self.recorder.name if self.recorder else None}

    async def _try_record(self, reason: str, seconds: float) -> bool:
        if not self.sd.card.writable:
            return False
        await self.stop_recording()
        self.recorder = ClipRecorder(self.main, self.sd, reason, audio=self.settings.audio)
        self._timer("record", seconds, self._record_timeout)
        return True

    async def _record_timeout(self) -> None:
        await self.stop_recording()
        self._changed()

    async def stop_recording(self) -> str | None:
        self._cancel_timer("record")
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return None
        finished = recorder.stop()
        await self.emit(
            "Recording", {"file": finished.name, "bytes": finished.size, "reason": recorder.reason}
        )
        return finished.name

    async def _cmd_restart(self, args: dict[str, Any]) -> dict[str, Any]:
        cmd.parse_args(cmd.EmptyArgs, args)
        self.lifecycle.schedule_restart(factory_reset=False)
        return {"restarting": True}

    async def _cmd_wifi_join(self, args: dict[str, Any]) -> dict[str, Any]:
        a: cmd.WifiJoinArgs = cmd.parse_args(cmd.WifiJoinArgs, args)
        if abs(a.band_ghz - 2.4) > 0.1:
            raise ValueError(f"only 2.4 GHz Wi-Fi is supported (C3.1), not {a.band_ghz:g} GHz")
        self.setup_mode = False
        self.wifi_ssid = a.ssid
        await self.emit("NetworkJoined", {"ssid": a.ssid})
        return {"ssid": a.ssid}

    async def _cmd_viewers(self, args: dict[str, Any]) -> dict[str, Any]:
        """C1: the hub's live fan-out has ``count`` viewers (its own recorder is not one of them)."""
        a: cmd.ViewersArgs = cmd.parse_args(cmd.ViewersArgs, args)
        self.app_viewers = a.count
        return {"viewers": a.count}

    async def _cmd_wifi_change(self, args: dict[str, Any]) -> dict[str, Any]:
        """C3.3: the camera first goes offline, then joins the new network (after the Ack has left)."""
        a: cmd.WifiJoinArgs = cmd.parse_args(cmd.WifiJoinArgs, args)
        if abs(a.band_ghz - 2.4) > 0.1:
            raise ValueError(f"only 2.4 GHz Wi-Fi is supported (C3.1), not {a.band_ghz:g} GHz")
        self.lifecycle.schedule_wifi_change(a.ssid)
        return {"ssid": a.ssid, "offline_first": True}

    # ---- motion (C4.3) -----------------------------------------------------------------------------
    def motion_seen(self) -> None:
        """The camera's own motion detection saw motion: record it to the card when so set (C4.3)."""
        if not self.powered:
            return
        now = time.monotonic()
        new_episode = now > self._motion_until
        self._motion_until = now + MOTION_CLIP_SECONDS
        if self.recorder is not None and self.recorder.reason == "motion":
            self._timer("record", MOTION_CLIP_SECONDS, self._record_timeout)  # keep recording
        if new_episode:
            task = asyncio.create_task(self._motion_started(), name="camera-motion")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _motion_started(self) -> None:
        recording = False
        if self.settings.motion_recording and self.recorder is None:
            recording = await self._try_record("motion", MOTION_CLIP_SECONDS)
        await self.emit("Motion", {"recording": recording or self.recorder is not None})
        self._changed()

    # ---- physical inputs ---------------------------------------------------------------------------
    async def panel_input(self, args: dict[str, Any]) -> dict[str, Any]:
        a: cmd.PanelInput = cmd.parse_args(cmd.PanelInput, args)
        if a.input == "reset_hold":
            held = a.seconds if a.seconds is not None else 0.0
            if held < RESET_HOLD_SECONDS:
                return {"reset": False, "reason": f"held {held:g} s; hold about 4 s to reset (C2.1)"}
            self.lifecycle.schedule_restart(factory_reset=True)
            return {"reset": True}
        if a.input == "sd_insert":
            self.sd.insert((a.capacity_mb or self.config.sd_capacity_mb) * MB, initialized=False)
        elif a.input == "sd_remove":
            await self.stop_recording()
            self.sd.card.remove()
        elif a.input == "sd_fault":
            await self.stop_recording()
            self.sd.card.fault()
            log.warning("SD card fault: LED fast red (C4.4)")
        elif a.input in ("network", "power"):
            up = _on_off(a.value)
            schedule = (
                self.lifecycle.schedule_network if a.input == "network" else self.lifecycle.schedule_power
            )
            schedule(up, a.seconds)
            return {a.input: "on" if up else "off", "back_after": a.seconds}
        elif a.input == "ethernet":
            self.setup_mode = False
            await self.emit("NetworkJoined", {"wired": True})
            return {"setup_mode": False}
        await self.emit("SdCardStatus", self.sd.card.summary())
        self._changed()
        return {"sd": self.sd.card.summary()}

    async def factory_reset(self) -> None:
        """C2.1: every parameter back to its default; the camera then restarts into set-up mode."""
        await self._defense_end()
        await self._siren_off()
        self._set_spotlight(cmd.SpotlightMode.OFF, None)
        await self.stop_recording()
        old = self.settings
        self.settings = CameraSettings(device_version=self.config.firmware)
        self.settings_file.unlink(missing_ok=True)
        self.lifecycle.settings_applied(old, self.settings)
        self.setup_mode = True


def _on_off(value: str | None) -> bool:
    if value in ("on", "true", "1"):
        return True
    if value in ("off", "false", "0"):
        return False
    raise ValueError(f"value must be 'on' or 'off', not {value!r}")


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        return f"{where}: {first['msg']}"
    return str(exc)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
