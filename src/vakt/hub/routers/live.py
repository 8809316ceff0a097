"""Live view (C5.1) over a WebSocket for the web app's MSE player: fMP4, no transcoding.

Protocol: a JSON text message ``{"type": "init", "codec": "avc1.PPCCLL", "definition": ..., "stream": ...}``,
then binary messages: the init segment, then media fragments from the latest keyframe on. When the
camera's stream restarts a new ``init`` text message and init segment follow (rebuild the SourceBuffer).
Needs the ``live_view`` permission (``vakt.hub.authz``): refused at the handshake (401/403/404) and
closed (4401/4403/4404 with the reason) within 2 s of losing it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Annotated, cast

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
    supervisor: CameraSupervisor = websocket.app.state.cameras
    await websocket.accept()
    async with grant.watched():
        await _stream(websocket, supervisor, device_id, chosen, stream)


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
