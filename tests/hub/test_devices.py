"""A2/A3/G4/G5 devices: add by QR label, broker registration, one account per device, list with state."""

from __future__ import annotations

import asyncio
import contextlib
import json

import aiomqtt
import pytest
import websockets

from tests.hub.conftest import Hub, label
from vakt.protocol import DeviceCredentials, DeviceLabel


async def _can_connect(hub: Hub, device: DeviceLabel) -> bool:
    creds = DeviceCredentials.from_label(device)
    try:
        async with aiomqtt.Client(
            "127.0.0.1", hub.mosquitto.port, username=creds.username, password=creds.password
        ):
            return True
    except aiomqtt.MqttError:
        return False


async def _eventually(predicate, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a2_add_gateway_registers_it_with_the_broker_and_delete_removes_it(hub: Hub) -> None:
    _, token = await hub.user("alice")
    gateway = label("gateway")
    assert not await _can_connect(hub, gateway)
    added = await hub.add_device(token, gateway, name="Hall gateway")
    assert (
        added["kind"] == "gateway" and added["serial"] == gateway.serial and added["name"] == "Hall gateway"
    )
    assert await _eventually(lambda: _can_connect(hub, gateway))  # Mosquitto reloaded its passwd file
    async with (
        hub.client(token) as c,
        websockets.connect(hub.url.replace("http", "ws") + f"/api/ws?token={token}") as ws,
    ):
        assert "hello" in await ws.recv()
        assert (await c.delete(f"/api/devices/{added['id']}")).status_code == 204
        assert (await c.get(f"/api/devices/{added['id']}")).status_code == 404
        pushed = json.loads(await asyncio.wait_for(ws.recv(), 2))
        assert pushed == {"type": "device.deleted", "device_id": added["id"]}  # A8
    assert await _eventually(lambda: _not(_can_connect(hub, gateway)))


async def _not(awaitable) -> bool:  # type: ignore[no-untyped-def]
    return not await awaitable


async def test_a2_verification_code_is_not_stored_in_clear(hub: Hub) -> None:
    _, token = await hub.user("alice")
    gateway = label("gateway")
    await hub.add_device(token, gateway)
    db_file = hub.app.state.settings.data_dir / "vakt.db"
    with contextlib.suppress(FileNotFoundError):
        assert gateway.code.encode() not in db_file.read_bytes()
    assert gateway.code not in hub.mosquitto.accounts_file.read_text()


async def test_g5_lock_is_added_with_its_gateway_and_gateway_may_relay_for_it(hub: Hub) -> None:
    _, token = await hub.user("alice")
    gateway = await hub.add_device(token, g := label("gateway"))
    async with hub.client(token) as c:
        r = await c.post("/api/devices", json={"qr": label("lock").to_qr()})
        assert r.status_code == 422 and "gateway_id" in r.json()["detail"]
    lock = await hub.add_device(token, lk := label("lock"), gateway_id=gateway["id"])
    assert lock["parent_id"] == gateway["id"] and lock["kind"] == "lock"
    acl = (hub.mosquitto.directory / "acl").read_text()
    section = acl.split(f"user {g.serial}\n", 1)[1].split("\n\n", 1)[0]
    assert f"vakt/v1/{lk.serial}/#" in section


async def test_a2_a_device_belongs_to_one_account_only(hub: Hub) -> None:
    _, alice = await hub.user("alice")
    _, bob = await hub.user("bob")
    gateway = label("gateway")
    await hub.add_device(alice, gateway)
    async with hub.client(bob) as c:
        r = await c.post("/api/devices", json={"qr": gateway.to_qr()})
    assert r.status_code == 409 and "already in an account" in r.json()["detail"]


@pytest.mark.parametrize(
    ("qr", "needle"),
    [
        ("hello", "not a vakt device QR code"),
        ("VAKT:1;S=ABC;M=VG-1", "lacks field"),
        ("VAKT:1;S=A B;C=abcdef12;M=VG-1", "serial"),
        ("VAKT:1;S=ABC;C=abcdef12;M=ZZ-9", "give the kind"),
    ],
)
async def test_a2_bad_qr_payload_is_a_clear_422(hub: Hub, qr: str, needle: str) -> None:
    _, token = await hub.user("alice")
    async with hub.client(token) as c:
        r = await c.post("/api/devices", json={"qr": qr})
        assert r.status_code == 422 and needle in r.json()["detail"], r.text
        r = await c.post("/api/devices", json={"qr": label("gateway").to_qr(), "gateway_id": "x"})
        assert r.status_code == 422 and "gateway_id" in r.json()["message"]
        assert (await c.get("/api/devices")).json() == []  # nothing half-added


async def test_a3_list_shows_live_state_fields(hub: Hub) -> None:
    _, token = await hub.user("alice")
    gateway = await hub.add_device(token, label("gateway"))
    async with hub.client(token) as c:
        [row] = (await c.get("/api/devices")).json()
    assert row["id"] == gateway["id"] and row["online"] is False
    assert {"battery", "locked", "alarms", "rssi", "state", "permissions", "is_owner"} <= row.keys()
    assert row["is_owner"] is True and set(row["permissions"]) == {
        "live_view",
        "history",
        "talk",
        "unlock",
        "settings",
    }
