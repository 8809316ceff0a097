"""``/api/ws``: device state and events pushed to signed-in clients (A4/A8), filtered by permission (A5)."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from vakt.hub.auth import websocket_user
from vakt.hub.bus import EventBus
from vakt.hub.db import DbSession

router = APIRouter(prefix="/api", tags=["live"])


@router.websocket("/ws")
async def live(websocket: WebSocket, session: DbSession) -> None:
    """Sends ``{"type": ..., "device_id": ..., ...}`` messages; the client only needs to read."""
    user = await websocket_user(websocket, session)
    user_id = user.id
    await session.close()  # do not hold a database connection for the socket's lifetime
    bus: EventBus = websocket.app.state.bus
    await websocket.accept()
    async with bus.subscribe(user_id) as subscription:
        await websocket.send_json({"type": "hello", "user_id": user_id})
        reader = asyncio.create_task(_drain_client(websocket))
        try:
            while not reader.done():
                getter = asyncio.ensure_future(subscription.queue.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    await websocket.send_json(getter.result())
                else:
                    getter.cancel()
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader


async def _drain_client(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, so a close is noticed at once."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await websocket.receive_text()
