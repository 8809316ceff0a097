"""``/api/ws``: device state and events pushed to signed-in clients (A4/A8), filtered by permission (A5).

Closed with 4401 within 2 s of the session ending (sign-out, revocation, expiry): ``vakt.hub.authz.watch``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from vakt.hub.authz import AccountSocket
from vakt.hub.bus import EventBus

router = APIRouter(prefix="/api", tags=["live"])


@router.websocket("/ws")
async def live(websocket: WebSocket, grant: AccountSocket) -> None:
    """Sends ``{"type": ..., "device_id": ..., ...}`` messages; the client only needs to read."""
    user_id = grant.user.id
    bus: EventBus = websocket.app.state.bus
    await websocket.accept()
    async with grant.watched(), bus.subscribe(user_id) as subscription:
        await websocket.send_json({"type": "hello", "user_id": user_id})
        reader = asyncio.create_task(_drain_client(websocket))
        getter: asyncio.Task[dict[str, Any]] | None = None
        try:
            while not reader.done():
                getter = get = asyncio.create_task(subscription.queue.get())
                done, _ = await asyncio.wait({get, reader}, return_when=asyncio.FIRST_COMPLETED)
                if get in done:
                    await websocket.send_json(get.result())
                get.cancel()
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            for task in (reader, getter):
                if task is not None:
                    task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader


async def _drain_client(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, so a close is noticed at once."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await websocket.receive_text()
