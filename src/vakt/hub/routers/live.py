"""Live view (C5.1) over a WebSocket for the web app's MSE player: fMP4, no transcoding.

Protocol: a JSON text message ``{"type": "init", "codec": "avc1.PPCCLL", "definition": ..., "stream": ...}``,
then binary messages: the init segment, then media fragments from the latest keyframe on. When the
camera's stream restarts a new ``init`` text message and init segment follow (rebuild the SourceBuffer).
Needs the ``live_view`` permission, checked on the socket (closed with 1008 otherwise).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect, WebSocketException, status

from vakt.hub.api_types import DeviceId
from vakt.hub.auth import websocket_user
from vakt.hub.camera_supervisor import CameraSupervisor
from vakt.hub.db import DbSession
from vakt.hub.models.cameras import Camera, Definition
from vakt.hub.permissions import Permission, check_device_access
from vakt.media.live import SlowSubscriber

log = logging.getLogger(__name__)
router = APIRouter(tags=["live"])
READY_TIMEOUT_S = 10.0


@router.websocket("/api/cameras/{device_id}/live")
async def live_view(
    websocket: WebSocket, device_id: DeviceId, session: DbSession, definition: Definition | None = None
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
    await session.close()  # do not hold a database connection for the socket's lifetime
    supervisor: CameraSupervisor = websocket.app.state.cameras
    await websocket.accept()
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
