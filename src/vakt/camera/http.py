"""The camera's HTTP side: snapshot, two-way audio speaker (C5.3), state, and the emulated physical panel.

Every endpoint needs the same credentials as RTSP (``admin`` + verification code, Basic or Digest)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from vakt.camera.device import CommandRefused
from vakt.camera.rtsp.auth import Authenticator
from vakt.camera.settings import camera_time
from vakt.camera.snapshot import SnapshotError, snapshot_jpeg
from vakt.camera.speaker import SpeakerError, pcm_from_body

if TYPE_CHECKING:
    from vakt.camera.emulator import CameraEmulator

log = logging.getLogger(__name__)

MAX_BODY = 4 * 1024 * 1024
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _auth_middleware(auth: Authenticator) -> Any:
    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not auth.check(request.headers.get("Authorization"), request.method):
            response = web.json_response({"error": "authentication required"}, status=401)
            for challenge in auth.challenges():
                response.headers.add("WWW-Authenticate", challenge)
            return response
        return await handler(request)

    return check


def build_app(emulator: CameraEmulator) -> web.Application:
    app = web.Application(middlewares=[_auth_middleware(emulator.auth)], client_max_size=MAX_BODY)

    async def snapshot(request: web.Request) -> web.Response:
        stream = emulator.streams["live"]
        settings = emulator.device.settings
        osd = camera_time(datetime.now(UTC), settings)
        gop = list(stream.gop)
        flip = settings.flip_image != emulator.main_flipped  # until the flipped stream is swapped in
        try:
            jpeg = await asyncio.to_thread(snapshot_jpeg, stream.gop_clip.video, gop, flip, osd)
        except SnapshotError as exc:
            return web.json_response({"error": str(exc)}, status=503)
        return web.Response(body=jpeg, content_type="image/jpeg", headers={"Cache-Control": "no-store"})

    async def speaker_post(request: web.Request) -> web.Response:
        if not emulator.device.settings.audio:
            return web.json_response({"error": "audio is off in the camera settings (C6)"}, status=409)
        body = await request.read()
        try:
            pcm = pcm_from_body(body)
        except SpeakerError as exc:
            return web.json_response({"error": str(exc)}, status=415)
        speaker = emulator.device.speaker
        speaker.play(pcm, new_talk=request.query.get("new") == "1")
        emulator.device.on_change()
        return web.json_response(speaker.summary())

    async def speaker_last(request: web.Request) -> web.StreamResponse:
        path = emulator.device.speaker.last_file
        if path is None or not path.exists():
            return web.json_response({"error": "nothing has been played yet"}, status=404)
        return web.FileResponse(path, headers={"Content-Type": "audio/wav"})

    async def state(request: web.Request) -> web.Response:
        return web.json_response(emulator.state())

    async def panel(request: web.Request) -> web.Response:
        try:
            args = await request.json()
        except ValueError:
            return web.json_response({"error": "body must be JSON"}, status=400)
        if not isinstance(args, dict):
            return web.json_response({"error": "body must be a JSON object"}, status=400)
        try:
            result = await emulator.panel_input(args)
        except CommandRefused as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(result)

    async def sd_list(request: web.Request) -> web.Response:
        card = emulator.device.sd.card
        if not card.writable:
            return web.json_response({"error": f"SD card is {card.status.value}"}, status=409)
        items = [
            {"name": r.name, "bytes": r.size, "reason": r.name.split("-", 1)[1][:-4]} for r in card.recordings
        ]
        return web.json_response({"sd": card.summary(), "recordings": items})

    async def sd_get(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        card = emulator.device.sd.card
        # only names the card lists are served: no path ever comes from the request
        if not card.writable or name not in {r.name for r in card.recordings}:
            return web.json_response({"error": "no such recording"}, status=404)
        return web.FileResponse(emulator.device.sd.folder / name, headers={"Content-Type": "video/mp4"})

    app.router.add_get("/sd/recordings", sd_list)
    app.router.add_get("/sd/recordings/{name}", sd_get)
    app.router.add_get("/snapshot.jpg", snapshot)
    app.router.add_post("/audio/speaker", speaker_post)
    app.router.add_get("/audio/speaker/last.wav", speaker_last)
    app.router.add_get("/state", state)
    app.router.add_post("/panel/input", panel)
    return app


class HttpServer:
    def __init__(self, emulator: CameraEmulator, host: str, port: int) -> None:
        self.emulator = emulator
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(build_app(self.emulator), access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self._runner.addresses:
            self.port = self._runner.addresses[0][1]
        log.info("camera HTTP on %s:%d (snapshot, speaker, panel)", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
