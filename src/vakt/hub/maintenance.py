"""Housekeeping: old device events and dead sign-in sessions are deleted, so the database stays bounded."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.db import utcnow
from vakt.hub.models.devices import DeviceEvent
from vakt.hub.models.users import AuthSession

log = logging.getLogger(__name__)
# Expired or revoked sessions are kept this long, so "signed out elsewhere" can still be explained.
SESSION_GRACE = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Pruned:
    events: int
    sessions: int


async def prune(session: AsyncSession, event_retention: timedelta) -> Pruned:
    now = utcnow()
    events = await session.execute(delete(DeviceEvent).where(DeviceEvent.ts < now - event_retention))
    cutoff = now - SESSION_GRACE
    sessions = await session.execute(
        delete(AuthSession).where(or_(AuthSession.expires_at < cutoff, AuthSession.revoked_at < cutoff))
    )
    await session.commit()
    return Pruned(int(events.rowcount or 0), int(sessions.rowcount or 0))  # type: ignore[attr-defined]


@contextlib.asynccontextmanager
async def service(app: FastAPI) -> AsyncIterator[None]:
    """Prune at start-up and then every hour while the hub runs."""
    retention = timedelta(days=app.state.settings.event_retention_days)

    async def loop() -> None:
        while True:
            try:
                async with app.state.sessionmaker() as session:
                    pruned = await prune(session, retention)
                if pruned.events or pruned.sessions:
                    log.info(
                        "pruned %d old device events and %d dead sessions", pruned.events, pruned.sessions
                    )
            except Exception:
                log.exception("pruning old rows failed; will try again")
            await asyncio.sleep(3600)

    task = asyncio.create_task(loop(), name="hub-maintenance")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
