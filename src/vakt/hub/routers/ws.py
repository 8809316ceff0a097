"""``/api/ws``: device state and events pushed to signed-in clients (A4/A8), filtered by permission (A5)."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vakt.hub.auth import authenticate_token, request_token, websocket_user
from vakt.hub.bus import EventBus
from vakt.hub.db import DbSession

router = APIRouter(prefix="/api", tags=["live"])
# A revoked or expired session loses its socket within this many seconds.
SESSION_RECHECK_S = 15.0


@router.websocket("/ws")
async def live(websocket: WebSocket, session: DbSession) -> None:
    """Sends ``{"type": ..., "device_id": ..., ...}`` messages; the client only needs to read."""
    user = await websocket_user(websocket, session)
    user_id = user.id
    token = websocket.query_params.get("token") or request_token(websocket)
    await session.close()  # do not hold a database connection for the socket's lifetime
    bus: EventBus = websocket.app.state.bus
    sessionmaker: async_sessionmaker[AsyncSession] = websocket.app.state.sessionmaker
    await websocket.accept()
    async with bus.subscribe(user_id) as subscription:
        await websocket.send_json({"type": "hello", "user_id": user_id})
        reader = asyncio.create_task(_drain_client(websocket))
        loop = asyncio.get_running_loop()
        next_check = loop.time() + SESSION_RECHECK_S
        try:
            while not reader.done():
                getter = asyncio.ensure_future(subscription.queue.get())
                wait = max(0.0, next_check - loop.time())
                done, _ = await asyncio.wait({getter, reader}, timeout=wait, return_when="FIRST_COMPLETED")
                if getter in done:
                    await websocket.send_json(getter.result())
                else:
                    getter.cancel()
                if loop.time() >= next_check:  # is the session still valid (not revoked, not expired)?
                    next_check = loop.time() + SESSION_RECHECK_S
                    async with sessionmaker() as check:
                        if await authenticate_token(check, token) is None:
                            await websocket.close(
                                status.WS_1008_POLICY_VIOLATION, "session expired or revoked"
                            )
                            return
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
