"""Live view (C5.1) over a WebSocket for the web app's MSE player: fMP4, no transcoding.

Protocol: a JSON text message ``{"type": "init", "codec": "avc1.PPCCLL", "definition": ..., "stream": ...}``,
then binary messages: the init segment, then media fragments from the latest keyframe on. When the
camera's stream restarts a new ``init`` text message and init segment follow (rebuild the SourceBuffer).
Needs the ``live_view`` permission (``vakt.hub.authz``): refused at the handshake (401/403/404) and
closed (4401/4403/4404 with the reason) within 2 s of losing it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Annotated, Any, cast

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect, status
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vakt.hub.api_types import DeviceId
from vakt.hub.authz import Action, SocketGrant, for_socket
from vakt.hub.camera_supervisor import CameraSupervisor
from vakt.hub.models.cameras import Camera, Definition
from vakt.media.live import SlowSubscriber

log = logging.getLogger(__name__)
router = APIRouter(tags=["live"])
READY_TIMEOUT_S = 10.0
LiveGrant = Annotated[SocketGrant, for_socket(Action.WATCH_LIVE, kind="camera")]
VIEWERS_TIMEOUT_S = 5.0
_viewer_tasks: set[asyncio.Task[None]] = set()


def _viewers_changed(app: Any, device_id: int, serial: str | None, delta: int) -> None:
    """C1: an emulated camera lights solid blue while people watch in the app, and only then (the hub's
    recorder is no viewer); tell it on every change, in the background."""
    viewers: Counter[int] | None = getattr(app.state, "live_viewers", None)
    if viewers is None:
        viewers = app.state.live_viewers = Counter()
    viewers[device_id] += delta
    if serial is None:
        return

    async def tell() -> None:
        count = max(0, viewers[device_id])  # the latest count when sent, whatever order the tasks run in
        try:
            await app.state.mqtt.send_command(serial, "camera.viewers", {"count": count}, VIEWERS_TIMEOUT_S)
        except Exception as exc:  # the LED is cosmetic: the viewer still watches
            log.info("camera %s was not told of its %d live viewer(s): %s", serial, count, exc)

    task = asyncio.create_task(tell(), name=f"viewers-{serial}")
    _viewer_tasks.add(task)
    task.add_done_callback(_viewer_tasks.discard)


@router.websocket("/api/cameras/{device_id}/live")
async def live_view(
    websocket: WebSocket, device_id: DeviceId, grant: LiveGrant, definition: Definition | None = None
) -> None:
    sessionmaker: async_sessionmaker[AsyncSession] = websocket.app.state.sessionmaker
    async with sessionmaker() as session:  # not held for the socket's lifetime
        camera = await session.get(Camera, device_id)
    if camera is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"camera {device_id} has not reported its stream yet")
    chosen = definition or Definition(camera.definition)
    stream = chosen.stream if camera.sub_url else "main"
    serial = grant.access.device.serial if grant.access is not None and camera.emulated else None
    supervisor: CameraSupervisor = websocket.app.state.cameras
    await websocket.accept()
    _viewers_changed(websocket.app, device_id, serial, +1)
    try:
        async with grant.watched():
            await _stream(websocket, supervisor, device_id, chosen, stream)
    finally:
        _viewers_changed(websocket.app, device_id, serial, -1)


async def _stream(
    websocket: WebSocket, supervisor: CameraSupervisor, device_id: int, chosen: Definition, stream: str
) -> None:
    try:
        while True:
            live = supervisor.live_stream(device_id, stream)
            if live is None or not await live.wait_ready(READY_TIMEOUT_S):
                await websocket.send_json({"type": "error", "error": "the camera is not streaming"})
                await websocket.close(status.WS_1011_INTERNAL_ERROR, "camera not streaming")
                return
            await websocket.send_json(
                {"type": "init", "codec": live.codec, "definition": chosen.value, "stream": stream}
            )
            fragments_of = cast(AsyncGenerator[bytes, None], live.subscribe())
            async with aclosing(fragments_of) as fragments:  # unsubscribed at once when closed
                async for data in fragments:
                    await websocket.send_bytes(data)
    except SlowSubscriber:
        await websocket.close(status.WS_1013_TRY_AGAIN_LATER, "too slow for live view; reconnect")
    except (WebSocketDisconnect, RuntimeError):
        log.debug("live viewer of camera %s left", device_id)
