"""Two-way audio, the app's half (C5.3): press and hold to talk to people in front of the camera.

The browser sends its microphone as binary WebSocket messages of raw PCM (s16le, 16 kHz, mono); the hub
forwards them, in order, to the camera's speaker endpoint ``POST /audio/speaker`` on the camera's HTTP
port (Basic auth ``admin:<verification code>``), batching ~200 ms per request. Needs ``talk``
(``vakt.hub.authz``); when it is lost the socket closes (4401/4403/4404) and queued audio is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect, status

from vakt.hub.authz import Action, SocketGrant, for_socket
from vakt.hub.models.devices import Device

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/cameras", tags=["talk"])

SAMPLE_RATE = 16000
BYTES_PER_S = SAMPLE_RATE * 2
MAX_MESSAGE_BYTES = 64 * 1024  # 2 s of audio: a client sending more in one message is broken
BATCH_BYTES = BYTES_PER_S // 5  # ~200 ms per request to the camera
MAX_BACKLOG = 40  # batches (~8 s) waiting for the camera; older audio is dropped beyond that
TalkGrant = Annotated[SocketGrant, for_socket(Action.TALK, kind="camera")]


def speaker_url(device: Device) -> str:
    """The camera's speaker endpoint, from the HTTP port and host it reports in its state."""
    state: dict[str, Any] = device.state or {}
    http: dict[str, Any] = state.get("http") or {}
    rtsp: dict[str, Any] = state.get("rtsp") or {}
    port = http.get("port")
    if not isinstance(port, int):
        raise HTTPException(status.HTTP_409_CONFLICT, "the camera has not reported its HTTP port yet")
    # The camera reports its address in its RTSP URL; the HTTP side listens on the same host.
    host = urlsplit(str(rtsp.get("main_url") or "")).hostname or "127.0.0.1"
    path = http.get("speaker") or "/audio/speaker"
    return f"http://{host}:{port}{path}"


class SpeakerForwarder:
    """Sends queued PCM batches to the camera one request at a time, so they arrive in order."""

    def __init__(self, url: str, code: str) -> None:
        self.url = url
        self.client = httpx.AsyncClient(auth=("admin", code), timeout=5.0)
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=MAX_BACKLOG)
        self.error: str | None = None
        self.sent_bytes = 0
        self.dropped = 0
        self.batches = 0

    def offer(self, batch: bytes | None) -> None:
        """Queue a batch (None: the end); when the camera lags too far, the oldest audio goes."""
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
                self.dropped += 1
        self.queue.put_nowait(batch)

    async def run(self) -> None:
        try:
            while (batch := await self.queue.get()) is not None:
                try:
                    response = await self.client.post(
                        self.url,
                        content=batch,
                        params={"new": "1"} if self.batches == 0 else None,
                        headers={"Content-Type": "audio/L16; rate=16000; channels=1"},
                    )
                except httpx.HTTPError as exc:
                    self.error = f"the camera's speaker is unreachable: {exc}"
                    log.warning("talk: %s", self.error)
                    return
                if response.status_code >= 400:
                    self.error = f"the camera refused the audio ({response.status_code})"
                    log.warning("talk: %s: %s", self.error, response.text[:200])
                    return
                self.sent_bytes += len(batch)
                self.batches += 1
        finally:
            await self.client.aclose()


@router.websocket("/{device_id}/talk")
async def talk(websocket: WebSocket, grant: TalkGrant) -> None:
    """Binary messages: PCM s16le 16 kHz mono. Text replies: ``{"error": ...}`` when the camera fails."""
    assert grant.access is not None
    device = grant.access.device
    url = speaker_url(device)
    code = websocket.app.state.broker_sync.box.decrypt(device.code_encrypted, device.serial)
    await websocket.accept()
    forwarder = SpeakerForwarder(url, code)
    sender = asyncio.create_task(forwarder.run())
    pending = bytearray()
    async with grant.watched() as watched:
        try:
            while not sender.done():
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                data = message.get("bytes")
                if data is None:
                    continue  # text frames are not audio; ignore them
                if len(data) > MAX_MESSAGE_BYTES or len(data) % 2:
                    await websocket.send_json({"error": "audio must be s16le PCM messages of at most 64 KiB"})
                    await websocket.close(status.WS_1003_UNSUPPORTED_DATA)
                    return
                pending += data
                if len(pending) >= BATCH_BYTES:
                    forwarder.offer(bytes(pending))
                    pending.clear()
            if sender.done() and forwarder.error:
                await websocket.send_json({"error": forwarder.error})
                await websocket.close(status.WS_1011_INTERNAL_ERROR)
        except WebSocketDisconnect:
            pass
        finally:
            if watched.closing is None:  # still allowed: send what was said (lost access drops it all)
                if pending and not sender.done():
                    forwarder.offer(bytes(pending))
                if not sender.done():
                    forwarder.offer(None)
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(sender, timeout=10)
            sender.cancel()
            log.info(
                "talk to camera %s ended: %d bytes sent, %d batches dropped",
                device.id,
                forwarder.sent_bytes,
                forwarder.dropped,
            )
