"""Live view (C5.1) over a WebSocket for the web app's MSE player: fMP4, no transcoding.

Protocol: a JSON text message ``{"type": "init", "codec": "avc1.PPCCLL", "definition": ..., "stream": ...}``,
then binary messages: the init segment, then media fragments from the latest keyframe on. When the
camera's stream restarts a new ``init`` text message and init segment follow (rebuild the SourceBuffer).
Needs the ``live_view`` permission, checked on the socket (closed with 1008 otherwise).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect, WebSocketException, status

from vakt.hub.auth import websocket_user
from vakt.hub.camera_supervisor import CameraSupervisor
from vakt.hub.db import DbSession
from vakt.hub.models.cameras import Camera, Definition
from vakt.hub.permissions import Permission, check_device_access
from vakt.media.live import SlowSubscriber

log = logging.getLogger(__name__)
router = APIRouter(tags=["live"])
READY_TIMEOUT_S = 10.0
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
    websocket: WebSocket, device_id: int, session: DbSession, definition: Definition | None = None
) -> None:
    user = await websocket_user(websocket, session)
    try:
        access = await check_device_access(session, user, device_id, Permission.LIVE_VIEW)
    except HTTPException as exc:
        raise WebSocketException(status.WS_1008_POLICY_VIOLATION, str(exc.detail)) from None
    camera = await session.get(Camera, device_id)
    if access.device.kind != "camera" or camera is None:
        raise WebSocketException(status.WS_1008_POLICY_VIOLATION, f"device {device_id} has no camera stream")
    chosen = definition or Definition(camera.definition)
    stream = chosen.stream if camera.sub_url else "main"
    serial = access.device.serial if camera.emulated else None
    await session.close()  # do not hold a database connection for the socket's lifetime
    supervisor: CameraSupervisor = websocket.app.state.cameras
    await websocket.accept()
    _viewers_changed(websocket.app, device_id, serial, +1)
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
            async for data in live.subscribe():
                await websocket.send_bytes(data)
    except SlowSubscriber:
        await websocket.close(status.WS_1013_TRY_AGAIN_LATER, "too slow for live view; reconnect")
    except (WebSocketDisconnect, RuntimeError):
        log.debug("live viewer of camera %s left", device_id)
    finally:
        _viewers_changed(websocket.app, device_id, serial, -1)
