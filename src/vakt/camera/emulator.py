"""The camera emulator: sources, live streams, RTSP and HTTP servers, the device and its MQTT link."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import Any

from vakt.camera.config import CameraConfig
from vakt.camera.device import CameraDevice, CommandRefused
from vakt.camera.http import HttpServer
from vakt.camera.live import LiveStream
from vakt.camera.motion import watch_motion
from vakt.camera.rtsp.auth import Authenticator
from vakt.camera.rtsp.server import RtspServer
from vakt.camera.settings import CameraSettings
from vakt.camera.source import Clip, SourceFiles, cache_key, load_clip, prepare_sources, transcode_h264
from vakt.protocol.client import CommandError, DeviceClient, DeviceOffline
from vakt.protocol.credentials import device_password
from vakt.protocol.messages import Command, DeviceKind, Event

log = logging.getLogger(__name__)

RTSP_USER = "admin"
ACK_GRACE = 0.3  # lets the command's Ack leave before the network side goes down
OUTBOX_EVENTS = 1000
LINK_CHECK_SECONDS = 0.5


class CameraEmulator:
    """``async with CameraEmulator(config) as cam:`` serves ``cam.rtsp_url('live')`` until the block ends."""

    def __init__(self, config: CameraConfig) -> None:
        self.config = config
        self.auth = Authenticator(RTSP_USER, config.code, realm=f"vakt camera {config.serial}")
        self.streams: dict[str, LiveStream] = {}
        self.files: SourceFiles | None = None
        self.rtsp: RtspServer | None = None
        self.http: HttpServer | None = None
        self.mqtt: DeviceClient | None = None
        self._device: CameraDevice | None = None
        self._mqtt_task: asyncio.Task[None] | None = None
        self._publisher: asyncio.Task[None] | None = None
        self._dirty = asyncio.Event()
        self._outbox: deque[Event] = deque(maxlen=OUTBOX_EVENTS)
        self._flush_lock = asyncio.Lock()
        self._lifecycle = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._clips: dict[tuple[str, bool], Clip] = {}  # (stream, flipped) -> clip, made on first use
        self._cache: Path | None = None

    @property
    def device(self) -> CameraDevice:
        if self._device is None:
            raise RuntimeError("camera emulator not started")
        return self._device

    # ---- lifecycle ---------------------------------------------------------------------------------
    async def __aenter__(self) -> CameraEmulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        cfg = self.config
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        cache = cfg.cache_dir
        try:
            cache.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("cache %s not writable (%s): using %s", cache, exc, cfg.data_dir / "cache")
            cache = cfg.data_dir / "cache"
        self._cache = cache
        self.files = await asyncio.to_thread(prepare_sources, cfg.video, cache)
        main, sub = await asyncio.gather(
            asyncio.to_thread(load_clip, self.files.main), asyncio.to_thread(load_clip, self.files.sub)
        )
        self._clips[("live", False)], self._clips[("sub", False)] = main, sub
        self.streams = {"live": LiveStream("live", main), "sub": LiveStream("sub", sub)}
        self._device = CameraDevice(cfg, self.streams["live"], self, self._emit)
        self._device.on_change = self._dirty.set
        self.settings_applied(CameraSettings(), self._device.settings)
        for stream in self.streams.values():
            stream.start()
        self.rtsp = RtspServer(self.streams, self.auth, cfg.host, cfg.rtsp_port, on_watchers=self._dirty.set)
        await self.rtsp.start()
        if cfg.http_port is not None:
            self.http = HttpServer(self, cfg.host, cfg.http_port)
            await self.http.start()
        self._publisher = asyncio.create_task(self._publish_states(), name="camera-state")
        if cfg.motion_detection:
            device = self._device
            self._spawn(
                watch_motion(
                    self.streams["sub"], lambda: device.settings.detection_sensitivity, device.motion_seen
                )
            )
        self._start_mqtt()
        self._spawn(self._boot())
        if cfg.mqtt_host is not None:
            self._spawn(self._watch_link())
        log.info("camera %s up: %s", cfg.serial, self.rtsp_url("live"))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._device is not None:
            await self._device.shutdown()
        await self._stop_mqtt()
        if self._publisher is not None:
            self._publisher.cancel()
            self._publisher = None
        if self.rtsp is not None:
            await self.rtsp.stop()
        if self.http is not None:
            await self.http.stop()
        for stream in self.streams.values():
            await stream.stop()

    async def _watch_link(self) -> None:
        """C1 network exception: the LED turns slow red while the broker cannot be reached."""
        while True:
            await asyncio.sleep(LINK_CHECK_SECONDS)
            client = self.mqtt
            deliberately_off = self._mqtt_task is None  # network or power off: handled by their own flags
            reachable = deliberately_off or (client is not None and client.connected.is_set())
            if reachable != self.device.server_reachable:
                self.device.server_reachable = reachable
                log.warning("broker %s", "reachable again" if reachable else "unreachable: LED slow red (C1)")
                self._dirty.set()

    async def _boot(self) -> None:
        """C1: solid red while starting, then normal."""
        self.device.starting = True
        self._dirty.set()
        await asyncio.sleep(self.config.boot_seconds)
        self.device.starting = False
        self._dirty.set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("camera task %s failed", task.get_name(), exc_info=task.exception())

    # ---- MQTT link ---------------------------------------------------------------------------------
    def _start_mqtt(self) -> None:
        cfg = self.config
        if cfg.mqtt_host is None or self._mqtt_task is not None:
            return
        if self.mqtt is None:
            password = cfg.mqtt_password or device_password(cfg.code)
            self.mqtt = DeviceClient(
                serial=cfg.serial,
                password=password,
                host=cfg.mqtt_host,
                port=cfg.mqtt_port,
                handler=self._on_command,
                replay_file=cfg.data_dir / "commands.json",
            )
            self.mqtt.on_connect(self._on_mqtt_connect)
        self._mqtt_task = asyncio.create_task(self.mqtt.run(), name="camera-mqtt")
        self._dirty.set()

    async def _stop_mqtt(self) -> None:
        task, self._mqtt_task = self._mqtt_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _on_mqtt_connect(self) -> None:
        if self._device is not None and not self._device.server_reachable:
            self._device.server_reachable = True
            log.info("broker reachable again")
        self._dirty.set()  # replaces the state the client re-announced from before the outage
        self._spawn(self._flush_outbox())

    async def _on_command(self, serial: str, command: Command) -> dict[str, Any] | None:
        try:
            return await self.device.handle(command.name, command.args)
        except CommandRefused as exc:
            raise CommandError(str(exc)) from None

    async def _emit(self, type_: str, data: dict[str, Any]) -> None:
        event = Event(source=self.config.serial, type=type_, data=data)
        log.info("camera event %s %s", type_, data)
        self._outbox.append(event)
        await self._flush_outbox()

    async def _flush_outbox(self) -> None:
        """C10.1: events raised while offline are delivered once the camera is back, each once, in order."""
        # One flush at a time: two events at once (active defense ending) once both sent the head and
        # both popped it, the second from an empty deque (IndexError), skipping an event.
        async with self._flush_lock:
            client = self.mqtt
            if client is None or not client.connected.is_set():
                return
            while self._outbox:
                event = self._outbox[0]
                try:
                    await client.publish_event(event)
                except DeviceOffline:
                    return
                if self._outbox and self._outbox[0] is event:  # a full outbox may have dropped it meanwhile
                    self._outbox.popleft()

    async def _publish_states(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            await asyncio.sleep(0.05)  # coalesce bursts of changes into one retained state
            if self.mqtt is not None:
                await self.mqtt.publish_state(self.config.serial, self.state())

    # ---- state -------------------------------------------------------------------------------------
    def rtsp_url(self, path: str = "live", with_credentials: bool = False) -> str:
        host = self.config.public_host or self.config.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        port = self.rtsp.port if self.rtsp else self.config.rtsp_port
        creds = f"{RTSP_USER}:{self.config.code}@" if with_credentials else ""
        return f"rtsp://{creds}{host}:{port}/{path}"

    def watching(self) -> int:
        """C1 solid blue: people watching, in the hub's app (it reports its live viewers) or on RTSP."""
        rtsp = self.rtsp.watchers("live") if self.rtsp is not None and self.rtsp.running else 0
        return rtsp + self.device.app_viewers

    def state(self) -> dict[str, Any]:
        cfg = self.config
        main = self.streams["live"].clip
        sub = self.streams["sub"].clip
        return {
            "kind": DeviceKind.CAMERA.value,
            "emulated": True,
            "serial": cfg.serial,
            "model": cfg.model,
            "firmware": cfg.firmware,
            **self.device.state(),
            "watching": self.watching(),
            "rtsp": {
                "port": self.rtsp.port if self.rtsp else cfg.rtsp_port,
                "main": "/live",
                "sub": "/sub",
                "main_url": self.rtsp_url("live"),
                "sub_url": self.rtsp_url("sub"),
                "user": RTSP_USER,
                "auth": ["digest", "basic"],
                "main_video": {"width": main.video.width, "height": main.video.height, "fps": main.video.fps},
                "sub_video": {"width": sub.video.width, "height": sub.video.height, "fps": sub.video.fps},
                "audio": main.audio is not None and self.device.settings.audio,
                "source": cfg.video.name if cfg.video else "generated",
            },
            "http": {
                "port": self.http.port if self.http else None,
                "snapshot": "/snapshot.jpg",
                "speaker": "/audio/speaker",
                "speaker_last": "/audio/speaker/last.wav",
                "panel": "/panel/input",
            },
        }

    async def panel_input(self, args: dict[str, Any]) -> dict[str, Any]:
        """A physical input (the HTTP panel and tests use this; it works while the network is down)."""
        if self._device is None:
            raise CommandRefused("camera not started")
        power_on = args.get("input") == "power" and args.get("value") == "on"
        if not self.device.powered and not power_on:
            raise CommandRefused("the camera is powered off")
        try:
            result = await self.device.panel_input(args)
        except ValueError as exc:
            raise CommandRefused(str(exc)) from None
        self._dirty.set()
        return result

    # ---- Lifecycle protocol used by the device ----------------------------------------------------
    def settings_applied(self, old: CameraSettings, new: CameraSettings) -> None:
        self.streams["live"].audio_enabled = new.audio
        if old.flip_image != new.flip_image:
            self._spawn(self._flip(new.flip_image))

    @property
    def main_flipped(self) -> bool:
        """Whether the main stream now plays the flipped variant (the snapshot flips only what is not)."""
        flipped = self._clips.get(("live", True))
        return flipped is not None and self.streams["live"].gop_clip is flipped

    async def _flip(self, flip: bool) -> None:
        """Flip Image (C6) on every stream: H.264 has no orientation flag that players honour, so a flipped
        variant of each stream is encoded once (cached on disk, only when flip is first turned on) and
        swapped in at a keyframe; the upright main stream stays the source file, never re-encoded."""
        for name in ("live", "sub"):
            clip = self._clips.get((name, flip))
            if clip is None:
                clip = await asyncio.to_thread(self._flipped_clip, name)
                self._clips[(name, flip)] = clip
            if self.device.settings.flip_image == flip:
                self.streams[name].swap_clip(clip)
        self._dirty.set()

    def _flipped_clip(self, name: str) -> Clip:
        assert self.files is not None and self._cache is not None
        main = self.files.main
        scale, keep_audio = (1.0, True) if name == "live" else (0.5, False)
        path = self._cache / f"{main.stem}-{cache_key(main, 'flip', scale)}-flipped-{name}.mp4"
        if not path.exists():
            started = time.monotonic()
            transcode_h264(main, path, scale, flip=True, keep_audio=keep_audio)
            log.info("Flip Image: encoded the flipped %s stream once in %.1f s (%s)",
                     name, time.monotonic() - started, path)  # fmt: skip
        return load_clip(path)

    def schedule_restart(self, factory_reset: bool) -> None:
        self._spawn(self._restart(factory_reset))

    def schedule_network(self, up: bool, back_after: float | None) -> None:
        self._spawn(self._network(up, back_after))

    def schedule_power(self, on: bool, back_after: float | None) -> None:
        self._spawn(self._power(on, back_after))

    def schedule_wifi_change(self, ssid: str) -> None:
        self._spawn(self._wifi_change(ssid))

    async def _wifi_change(self, ssid: str) -> None:
        """C3.3: offline (RTSP and MQTT drop, the hub shows it offline), then back on the new network."""
        await asyncio.sleep(ACK_GRACE)
        async with self._lifecycle:
            log.info("Wi-Fi change: leaving the network to join %r (C3.3)", ssid)
            self.device.network_ok = False
            self._dirty.set()
            await self._go_dark()
            await asyncio.sleep(self.config.boot_seconds)
            self.device.wifi_ssid = ssid
            self.device.network_ok = True
            await self._come_back()
            await self._emit("NetworkJoined", {"ssid": ssid})
            self._dirty.set()

    async def _go_dark(self) -> None:
        if self.rtsp is not None:
            await self.rtsp.stop()
        await self._stop_mqtt()

    async def _come_back(self) -> None:
        if self.rtsp is not None and not self.rtsp.running:
            await self.rtsp.start()
        self._start_mqtt()

    async def _restart(self, factory_reset: bool) -> None:
        await asyncio.sleep(ACK_GRACE)
        async with self._lifecycle:
            if factory_reset:
                log.warning("RESET held: restoring defaults and restarting into set-up mode (C2.1)")
                await self.device.factory_reset()
            else:
                log.info("camera restarting")
            await self.device.shutdown()  # siren, spotlight, active defense and recording end
            self.device.starting = True
            self._dirty.set()
            await self._emit("Restart", {"factory_reset": factory_reset})
            await asyncio.sleep(0.1)
            await self._go_dark()
            await asyncio.sleep(self.config.boot_seconds)
            await self._come_back()
            self.device.starting = False
            self._dirty.set()

    async def _network(self, up: bool, back_after: float | None) -> None:
        await asyncio.sleep(ACK_GRACE)
        async with self._lifecycle:
            self.device.network_ok = up
            self._dirty.set()
            if up:
                log.info("network back: RTSP and MQTT resume")
                await self._come_back()
            else:
                log.warning("network down: camera offline (LED slow red); local recording continues (C10.1)")
                await self._go_dark()
        if not up and back_after is not None:
            await asyncio.sleep(back_after)
            await self._network(True, None)

    async def _power(self, on: bool, back_after: float | None) -> None:
        await asyncio.sleep(ACK_GRACE)
        async with self._lifecycle:
            if on and not self.device.powered:
                self.device.powered = True
                self.device.starting = True
                self._dirty.set()
                await asyncio.sleep(self.config.boot_seconds)
                await self._come_back()
                self.device.starting = False
                log.info("camera powered on")
            elif not on and self.device.powered:
                log.warning("camera powered off: streaming, recording and control stop (C10.2)")
                await self.device.shutdown()
                self.device.powered = False
                await self._go_dark()
            self._dirty.set()
        if not on and back_after is not None:
            await asyncio.sleep(back_after)
            await self._power(True, None)
