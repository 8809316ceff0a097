"""A5 sharing: share, update, revoke, expiry, what a shared user sees (devices, pushes, history from the
share's start). The permission matrix over every route and WebSocket is in test_authz_matrix.py."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import websockets
from sqlalchemy import update

from tests.hub.conftest import Hub, Mosquitto, hub_settings, label, running_hub
from vakt.hub.models.devices import Share
from vakt.hub.permissions import Permission

PERMS = [p.value for p in Permission]


@dataclass
class World:
    hub: Hub
    lock_id: int
    gateway_id: int
    tokens: dict[str, str]


async def _world(hub: Hub) -> World:
    tokens = {}
    _, tokens["owner"] = await hub.user("alice")
    gateway = await hub.add_device(tokens["owner"], label("gateway"))
    lock = await hub.add_device(tokens["owner"], label("lock"), gateway_id=gateway["id"])
    async with hub.client(tokens["owner"]) as c:
        for who, perms in [
            ("full", PERMS),
            ("expired", PERMS),
            *[(f"no_{p}", [q for q in PERMS if q != p]) for p in PERMS],
        ]:
            _, tokens[who] = await hub.user(who)
            r = await c.post(f"/api/devices/{lock['id']}/shares", json={"user": who, "permissions": perms})
            assert r.status_code == 201, r.text
        _, tokens["stranger"] = await hub.user("stranger")
    async with hub.app.state.sessionmaker() as s:  # the API refuses a past expiry, so age it here
        expired_user = (await hub.client(tokens["expired"]).get("/api/auth/me")).json()["id"]
        await s.execute(
            update(Share)
            .where(Share.user_id == expired_user)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await s.commit()
    hub.app.state.bus.invalidate()
    return World(hub, lock["id"], gateway["id"], tokens)


@pytest.fixture
async def world(tmp_path: Path, mosquitto: Mosquitto) -> Any:
    settings = hub_settings(tmp_path, mosquitto, command_timeout_s=0.1)
    async with running_hub(settings, mosquitto) as hub:
        yield await _world(hub)


async def test_a5_shared_user_sees_device_with_its_permissions_and_share_start(world: World) -> None:
    async with world.hub.client(world.tokens["no_unlock"]) as c:
        devices = (await c.get("/api/devices")).json()
    assert [d["id"] for d in devices] == [world.lock_id]  # the gateway is not shared
    assert devices[0]["is_owner"] is False and "unlock" not in devices[0]["permissions"]
    assert devices[0]["shared_since"] is not None
    async with world.hub.client(world.tokens["expired"]) as c:
        assert (await c.get("/api/devices")).json() == []
        received = (await c.get("/api/shares/received")).json()
    assert len(received) == 1 and received[0]["active"] is False


async def test_a5_revoke_and_update_share(world: World) -> None:
    ws = await websockets.connect(
        world.hub.url.replace("http", "ws") + f"/api/ws?token={world.tokens['full']}"
    )
    assert json.loads(await ws.recv())["type"] == "hello"
    owner = world.hub.client(world.tokens["owner"])
    shares = (await owner.get(f"/api/devices/{world.lock_id}/shares")).json()
    full = next(s for s in shares if s["username"] == "full")
    r = await owner.patch(
        f"/api/devices/{world.lock_id}/shares/{full['id']}", json={"permissions": ["live_view"]}
    )
    assert r.status_code == 200 and r.json()["permissions"] == ["live_view"]
    async with world.hub.client(world.tokens["full"]) as c:
        assert (await c.get(f"/api/locks/{world.lock_id}/log")).status_code == 403
    assert (await owner.delete(f"/api/devices/{world.lock_id}/shares/{full['id']}")).status_code == 204
    async with world.hub.client(world.tokens["full"]) as c:
        assert (await c.get(f"/api/devices/{world.lock_id}")).status_code == 404
    await owner.aclose()
    # A8: the shared user's app learns of both changes at once
    kinds = [json.loads(await asyncio.wait_for(ws.recv(), 2))["type"] for _ in range(2)]
    assert kinds == ["share.updated", "share.revoked"]
    await ws.close()


async def test_a5_share_input_errors(world: World) -> None:
    async with world.hub.client(world.tokens["owner"]) as c:
        url = f"/api/devices/{world.lock_id}/shares"
        r = await c.post(url, json={"user": "nobody-here", "permissions": ["history"]})
        assert r.status_code == 404 and "no account" in r.json()["detail"]
        r = await c.post(url, json={"user": "stranger", "permissions": ["open_sesame"]})
        assert r.status_code == 422 and "permissions" in r.json()["message"]
        past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        r = await c.post(url, json={"user": "stranger", "permissions": [], "expires_at": past})
        assert r.status_code == 422 and "future" in r.json()["detail"]
        r = await c.post(
            url, json={"user": "stranger", "permissions": [], "expires_at": "2030-01-01T00:00:00"}
        )
        assert r.status_code == 422 and "timezone" in r.json()["message"]
        r = await c.post(url, json={"user": "full", "permissions": []})
        assert r.status_code == 409


async def test_a5_a8_websocket_filters_by_permission_and_share_expiry(world: World) -> None:
    """State goes to everyone with access; events (history) only with the history permission."""
    from tests.hub.test_ingest import _publish_as
    from vakt.protocol import DeviceCredentials, Event, encode

    hub = world.hub
    async with hub.app.state.sessionmaker() as s:
        from vakt.hub.models.devices import Device

        gateway = await s.get(Device, world.gateway_id)
        lock = await s.get(Device, world.lock_id)
        assert gateway is not None and lock is not None
        code = hub.app.state.broker_sync.box.decrypt(gateway.code_encrypted, gateway.serial)
    creds = DeviceCredentials.derive(gateway.serial, code)
    ws_url = hub.url.replace("http", "ws") + "/api/ws?token="
    sockets = {
        who: await websockets.connect(ws_url + world.tokens[who])
        for who in ("full", "no_history", "no_settings", "expired")
    }
    try:
        for ws in sockets.values():
            assert json.loads(await ws.recv())["type"] == "hello"
        credentials = [{"credential_type": "PIN", "index": 1, "name": "Alice"}]
        state = {"kind": "lock", "lock_state": "locked", "credentials": credentials}
        event = Event(source=lock.serial, type="Doorbell")
        base = f"vakt/v1/{lock.serial}"
        await _publish_as(
            hub,
            creds,
            [(f"{base}/state", json.dumps(state).encode(), True), (f"{base}/event", encode(event), False)],
        )

        async def collect(ws: Any) -> list[dict[str, Any]]:
            got = []
            while True:
                try:
                    got.append(json.loads(await asyncio.wait_for(ws.recv(), 0.8)))
                except TimeoutError:
                    return got

        messages = {who: await collect(ws) for who, ws in sockets.items()}
        seen = {who: [m["type"] for m in got] for who, got in messages.items()}
        states = {
            who: [m["state"] for m in got if m["type"] == "device.state"] for who, got in messages.items()
        }
        # the lock's credential list (names) only reaches users with the settings permission
        assert states["full"][0]["credentials"] == credentials
        assert states["no_settings"][0] == {"kind": "lock", "lock_state": "locked"}
        async with hub.client(world.tokens["no_settings"]) as c:
            assert "credentials" not in (await c.get(f"/api/devices/{world.lock_id}")).json()["state"]
        assert "device.state" in seen["full"] and "device.event" in seen["full"]
        assert "device.state" in seen["no_history"] and "device.event" not in seen["no_history"]
        assert seen["expired"] == []
    finally:
        for ws in sockets.values():
            await ws.close()


async def test_a1_a5_accounts_and_sharing_on_both_databases(
    tmp_path: Path, mosquitto: Mosquitto, any_db_url: str
) -> None:
    """The same API flow on SQLite and PostgreSQL: sessions, shares with expiry, access checks."""
    async with running_hub(
        hub_settings(tmp_path, mosquitto, any_db_url, command_timeout_s=0.1), mosquitto
    ) as hub:
        world = await _world(hub)
        async with hub.client(world.tokens["no_history"]) as c:
            assert (await c.get(f"/api/locks/{world.lock_id}/log")).status_code == 403
            assert (await c.get(f"/api/locks/{world.lock_id}")).status_code == 200
            assert len((await c.get("/api/devices")).json()) == 1
        async with hub.client(world.tokens["expired"]) as c:
            assert (await c.get(f"/api/devices/{world.lock_id}")).status_code == 404
        async with hub.client(world.tokens["owner"]) as c:
            sessions = (await c.get("/api/auth/sessions")).json()
            assert len(sessions) == 1 and sessions[0]["current"] is True


async def test_a5_shared_user_sees_lock_history_only_from_the_share_start(world: World) -> None:
    from vakt.hub.models.devices import DeviceEvent

    now = datetime.now(UTC)
    operation = {"lock_operation_type": "Unlock", "operation_source": "Keypad", "credential": None}
    async with world.hub.app.state.sessionmaker() as s:
        for event_id, ts in (
            ("before-share-1", now - timedelta(hours=2)),
            ("after-share-1", now + timedelta(seconds=1)),
        ):
            s.add(
                DeviceEvent(
                    event_id=event_id, device_id=world.lock_id, type="LockOperation", ts=ts, data=operation
                )
            )
        s.add(
            DeviceEvent(
                event_id="alarm-before-1",
                device_id=world.lock_id,
                type="DoorLockAlarm",
                ts=now - timedelta(hours=1),
                data={"alarm_code": "WrongCodeEntryLimit", "active": True},
            )
        )
        await s.commit()
    async with world.hub.client(world.tokens["owner"]) as c:
        owner_log = {e["event_id"] for e in (await c.get(f"/api/locks/{world.lock_id}/log")).json()}
        owner_alarms = (await c.get(f"/api/locks/{world.lock_id}/alarms")).json()
    async with world.hub.client(world.tokens["full"]) as c:
        shared_log = {e["event_id"] for e in (await c.get(f"/api/locks/{world.lock_id}/log")).json()}
        shared_alarms = (await c.get(f"/api/locks/{world.lock_id}/alarms")).json()
    assert {"before-share-1", "after-share-1", "alarm-before-1"} <= owner_log
    assert shared_log == {"after-share-1"}
    assert [a["event_id"] for a in owner_alarms] == ["alarm-before-1"] and shared_alarms == []
