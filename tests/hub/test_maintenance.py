"""Housekeeping keeps the database bounded: old device events and long-dead sessions are deleted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.hub.conftest import Hub, label
from vakt.hub.db import utcnow
from vakt.hub.maintenance import SESSION_GRACE, prune
from vakt.hub.models.devices import DeviceEvent
from vakt.hub.models.users import AuthSession


async def test_prune_deletes_old_events_and_dead_sessions_only(hub: Hub) -> None:
    uid, token = await hub.user("alice")
    device = await hub.add_device(token, label("gateway"))
    now = utcnow()
    async with hub.app.state.sessionmaker() as s:
        for event_id, age in (("old-event-1", timedelta(days=400)), ("new-event-1", timedelta(days=1))):
            s.add(
                DeviceEvent(event_id=event_id, device_id=device["id"], type="Doorbell", ts=now - age, data={})
            )
        dead = now - SESSION_GRACE - timedelta(days=1)
        s.add(
            AuthSession(user_id=uid, token_hash="0" * 64, created_at=dead, expires_at=dead, last_seen_at=dead)
        )
        await s.commit()
        pruned = await prune(s, timedelta(days=365))
        assert (pruned.events, pruned.sessions) == (1, 1)
        assert [e.event_id for e in await s.scalars(select(DeviceEvent))] == ["new-event-1"]
        assert len((await s.scalars(select(AuthSession))).all()) == 1  # the live session stays
    async with hub.client(token) as c:
        assert (await c.get("/api/auth/me")).status_code == 200
