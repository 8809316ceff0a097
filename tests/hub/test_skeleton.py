"""Smoke: the hub starts (migrations applied), health is open, everything else needs a session (A1)."""

from __future__ import annotations

from tests.hub.conftest import Hub


async def test_health_is_open_and_reports_database_and_broker(hub: Hub) -> None:
    async with hub.client() as c:
        r = await c.get("/api/health")
    assert r.status_code == 200
    assert r.json()["database"] is True
    assert r.json()["mqtt"] is True


async def test_api_needs_sign_in(hub: Hub) -> None:
    async with hub.client() as c:
        assert (await c.get("/api/devices")).status_code == 401
        assert (await c.get("/api/auth/me")).status_code == 401
    async with hub.client("not-a-token") as c:
        assert (await c.get("/api/devices")).status_code == 401


async def test_register_sign_in_and_me(hub: Hub) -> None:
    uid, token = await hub.user("alice")
    async with hub.client(token) as c:
        r = await c.get("/api/auth/me")
    assert r.status_code == 200 and r.json()["id"] == uid and r.json()["username"] == "alice"
