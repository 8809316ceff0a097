"""Issue 11, accounts (A1): registration closes after the first account (then single-use invites with an
expiry), change password, sign out everywhere else, delete the account with its devices, camera quota."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tests.hub.conftest import Hub, Mosquitto, hub_settings, label, running_hub
from vakt.hub.db import utcnow
from vakt.hub.models.devices import Device
from vakt.hub.models.users import Invite, User
from vakt.hub.routers import cameras

PASSWORD = "correct horse battery"


@pytest.fixture
async def closed_hub(tmp_path: Path, mosquitto: Mosquitto) -> AsyncIterator[Hub]:
    settings = hub_settings(tmp_path, mosquitto, mqtt_enabled=False, open_registration=False)
    async with running_hub(settings, mosquitto, services=[]) as hub:
        yield hub


def _account(name: str, invite: str | None = None) -> dict[str, str]:
    body = {"email": f"{name}@example.org", "username": name, "password": PASSWORD}
    return body | ({"invite": invite} if invite else {})


async def test_a1_registration_closes_after_the_first_account_then_invites(closed_hub: Hub) -> None:
    hub = closed_hub
    _, owner = await hub.user("alice")  # the first account is free: it is the hub's owner
    async with hub.client() as c:
        r = await c.post("/api/auth/register", json=_account("bob"))
        assert r.status_code == 403 and "ask the hub's owner for an invite" in r.json()["detail"]
        r = await c.post("/api/auth/register", json=_account("bob", "made-up-invite"))
        assert r.status_code == 403 and "unknown, already used or expired" in r.json()["detail"]
    async with hub.client(owner) as c:
        invite = (await c.post("/api/auth/invites")).json()
    assert invite["url"] == f"/register?invite={invite['token']}"
    async with hub.client() as c:
        assert (await c.post("/api/auth/register", json=_account("bob", invite["token"]))).status_code == 201
        r = await c.post("/api/auth/register", json=_account("carol", invite["token"]))
        assert r.status_code == 403  # single use
        bob = (await c.post("/api/auth/login", json={"login": "bob", "password": PASSWORD})).json()["token"]
    async with hub.client(bob) as c:
        r = await c.post("/api/auth/invites")
        assert r.status_code == 403 and "only the hub's owner" in r.json()["detail"]
    async with hub.client(owner) as c:
        late = (await c.post("/api/auth/invites")).json()
    async with hub.app.state.sessionmaker() as s:
        await s.execute(update(Invite).values(expires_at=utcnow() - timedelta(seconds=1)))
        await s.commit()
        stored = (await s.scalars(select(Invite.token_hash))).all()
    assert late["token"] not in stored and invite["token"] not in stored  # only hashes are kept
    async with hub.client() as c:
        assert (await c.post("/api/auth/register", json=_account("carol", late["token"]))).status_code == 403


async def test_a1_change_password_needs_the_current_one_and_signs_out_elsewhere(closed_hub: Hub) -> None:
    hub = closed_hub
    _, here = await hub.user("alice")
    async with hub.client() as c:
        elsewhere = (await c.post("/api/auth/login", json={"login": "alice", "password": PASSWORD})).json()
    async with hub.client(here) as c:
        change = {"current_password": "not it at all", "new_password": "a brand new passphrase"}
        assert (await c.put("/api/auth/password", json=change)).status_code == 403
        change["current_password"] = PASSWORD
        r = await c.put("/api/auth/password", json=change)
        assert r.status_code == 200 and r.json() == {"signed_out": 1}
        assert (await c.get("/api/auth/me")).status_code == 200  # this session stays
        r = await c.post("/api/auth/login", json={"login": "alice", "password": PASSWORD})
        assert r.status_code == 401
        r = await c.post("/api/auth/login", json={"login": "alice", "password": "a brand new passphrase"})
        assert r.status_code == 200
    async with hub.client(elsewhere["token"]) as c:
        assert (await c.get("/api/auth/me")).status_code == 401


async def test_a1_sign_out_all_other_sessions(closed_hub: Hub) -> None:
    hub = closed_hub
    _, here = await hub.user("alice")
    async with hub.client() as c:
        others = [
            (await c.post("/api/auth/login", json={"login": "alice", "password": PASSWORD})).json()["token"]
            for _ in range(2)
        ]
    async with hub.client(here) as c:
        r = await c.post("/api/auth/sessions/sign-out-others")
        assert r.status_code == 200 and r.json() == {"signed_out": 2}
        assert [s["current"] for s in (await c.get("/api/auth/sessions")).json()] == [True]
    for token in others:
        async with hub.client(token) as c:
            assert (await c.get("/api/auth/me")).status_code == 401


async def test_a1_delete_account_needs_the_password_and_frees_its_devices(closed_hub: Hub) -> None:
    hub = closed_hub
    _, alice = await hub.user("alice")
    camera_label = label("camera")
    camera = await hub.add_device(alice, camera_label, name="Garden")
    async with hub.client(alice) as c:
        invite = (await c.post("/api/auth/invites")).json()["token"]
        r = await c.request("DELETE", "/api/auth/me", json={"password": "not the password"})
        assert r.status_code == 403
        r = await c.request("DELETE", "/api/auth/me", json={"password": PASSWORD})
        assert r.status_code == 200 and r.json() == {"devices_deleted": 1}
        assert (await c.get("/api/auth/me")).status_code == 401
    async with hub.app.state.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 0
        assert await s.get(Device, camera["id"]) is None
    # the hub is back to "no account": the next one is its owner; the camera can be added again
    async with hub.client() as c:
        assert (await c.post("/api/auth/register", json=_account("bob", invite))).status_code == 201
        bob = (await c.post("/api/auth/login", json={"login": "bob", "password": PASSWORD})).json()["token"]
    assert (await hub.add_device(bob, camera_label))["serial"] == camera_label.serial


async def test_a1_cameras_per_account_are_limited(tmp_path: Path, mosquitto: Mosquitto) -> None:
    settings = hub_settings(tmp_path, mosquitto, mqtt_enabled=False, max_cameras_per_account=1)
    async with running_hub(settings, mosquitto, services=[cameras.service]) as hub:
        _, token = await hub.user("alice")
        await hub.add_device(token, label("camera"))
        async with hub.client(token) as c:
            r = await c.post("/api/devices", json={"qr": label("camera").to_qr()})
            assert r.status_code == 409 and "the most this hub allows" in r.json()["detail"]
            r = await c.post("/api/cameras", json={"url": "rtsp://192.0.2.1:554/stream", "name": "Porch"})
            assert r.status_code == 409
            gateway = await c.post("/api/devices", json={"qr": label("gateway").to_qr()})
            assert gateway.status_code == 201  # other kinds are not counted
