"""A2/A3/G4/G5 devices: add by QR label, broker registration, one account per device, list with state."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import websockets
from pydantic import SecretStr

from tests.hub.conftest import HUB_PASSWORD, Hub, Mosquitto, label, running_hub
from vakt.broker.accounts import BrokerAccounts
from vakt.broker.embedded import EmbeddedBroker
from vakt.hub.device_proof import proof_limiter
from vakt.hub.settings import HubSettings
from vakt.protocol import DeviceCredentials, DeviceLabel, device_password
from vakt.protocol.client import DeviceClient, cancel_and_wait


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
    async with _device(hub.mosquitto.port, gateway):  # it comes online and proves alice's code

        async def proven() -> bool:
            return bool((await _devices(hub, alice))[0]["verified"])

        assert await _eventually(proven, timeout=20)
    async with hub.client(bob) as c:
        r = await c.post("/api/devices", json={"qr": gateway.to_qr()})
    assert r.status_code == 409 and "already in an account" in r.json()["detail"]


async def test_a2_an_unproven_claim_stays_while_the_device_is_silent(hub: Hub) -> None:
    _, alice = await hub.user("alice")
    _, bob = await hub.user("bob")
    gateway = label("gateway")
    await hub.add_device(alice, gateway)
    hub.app.state.device_proof_window_s = 1.0  # the device is off: no answer will come
    async with hub.client(bob) as c:
        r = await c.post("/api/devices", json={"qr": gateway.to_qr()})
    assert r.status_code == 409 and "has not proven its code" in r.json()["detail"]
    assert [d["serial"] for d in await _devices(hub, alice)] == [gateway.serial]
    assert await _eventually(lambda: _can_connect(hub, gateway))  # alice's account is back in the broker


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


# -- issue 11: the verification code is proven by the device before it is bound (A2, C3.2) ---------------


@contextlib.asynccontextmanager
async def _embedded_hub(tmp_path: Path) -> AsyncIterator[tuple[Hub, BrokerAccounts]]:
    """A hub on the embedded broker of ``vakt demo`` (the broker that sees refused logins)."""
    accounts = BrokerAccounts.create(HUB_PASSWORD)
    async with EmbeddedBroker(accounts) as broker:
        settings = HubSettings(
            data_dir=tmp_path / "data",
            mqtt_port=broker.port,
            mqtt_password=SecretStr(HUB_PASSWORD),
            argon2_time_cost=1,
            argon2_memory_kib=1024,
            open_registration=True,
        )
        unused = Mosquitto(broker.port, tmp_path, tmp_path / "none.pid", tmp_path / "none.json")
        async with running_hub(settings, unused, broker_accounts=accounts) as hub:
            yield hub, accounts


@contextlib.asynccontextmanager
async def _device(port: int, device: DeviceLabel) -> AsyncIterator[DeviceClient]:
    """The real device protocol client (as in the emulators), retrying its login every second or so."""
    client = DeviceClient(
        serial=device.serial, password=device_password(device.code), port=port, reconnect_max=1.0
    )
    task = asyncio.create_task(client.run())
    try:
        yield client
    finally:
        await cancel_and_wait(task)


def _wrong(device: DeviceLabel) -> DeviceLabel:
    return DeviceLabel(serial=device.serial, code="WRONGCODE123", model=device.model)


async def _devices(hub: Hub, token: str) -> list[dict[str, Any]]:
    async with hub.client(token) as c:
        return list((await c.get("/api/devices")).json())


async def test_a2_wrong_code_is_refused_and_the_real_owner_adds_the_device(tmp_path: Path) -> None:
    """Issue 11: ``C=WRONGCODE123`` got a camera bound (online, siren) and locked its owner out."""
    async with _embedded_hub(tmp_path) as (hub, accounts):
        _, mallory = await hub.user("mallory")
        _, alice = await hub.user("alice")
        camera = label("camera")
        async with _device(hub.mosquitto.port, camera) as device:
            started = time.monotonic()  # the camera is on, refused until someone adds it
            assert await _eventually(_async(lambda: accounts.refused_login_since(camera.serial, started)))
            async with hub.client(mallory) as c:
                r = await c.post("/api/devices", json={"qr": _wrong(camera).to_qr()})
            assert r.status_code == 422, r.text
            assert "verification code does not match this device" in r.json()["detail"]
            assert await _devices(hub, mallory) == []  # nothing bound
            added = await hub.add_device(alice, camera, name="Garden")
            assert added["verified"] is True
            await device.wait_connected(10)
            ack = await hub.app.state.mqtt.send_command(camera.serial, "device.prove", {"nonce": "n"})
            assert ack.ok  # the hub reaches it with the proven code
            async with hub.client(mallory) as c:
                r = await c.post("/api/devices", json={"qr": _wrong(camera).to_qr()})
            assert r.status_code == 409  # now it is someone's, proven
            # The path: deleted while connected, then claimed with a wrong code. The device is
            # dropped with its account (no longer online, no siren) and the wrong code is refused.
            async with hub.client(alice) as c:
                assert (await c.delete(f"/api/devices/{added['id']}")).status_code == 204
            async with hub.client(mallory) as c:
                r = await c.post("/api/devices", json={"qr": _wrong(camera).to_qr()})
            assert r.status_code == 422, r.text
            assert not device.connected.is_set()


async def test_a2_wrong_codes_per_serial_are_limited(tmp_path: Path) -> None:
    async with _embedded_hub(tmp_path) as (hub, accounts):
        _, mallory = await hub.user("mallory")
        gateway = label("gateway")
        proof_limiter(hub.app).per_account = 2
        proof_limiter(hub.app).per_serial = 3
        _, alice = await hub.user("alice")
        async with _device(hub.mosquitto.port, gateway):
            started = time.monotonic()
            assert await _eventually(_async(lambda: accounts.refused_login_since(gateway.serial, started)))
            codes = []
            for token in (mallory, mallory, mallory, alice, alice):
                async with hub.client(token) as c:
                    r = await c.post("/api/devices", json={"qr": _wrong(gateway).to_qr()})
                    codes.append(r.status_code)
        # two per account and serial, three per serial from all accounts
        assert codes == [422, 422, 429, 422, 429]


async def test_a2_an_unproven_claim_yields_to_the_proven_code(hub: Hub) -> None:
    """On Mosquitto the hub cannot see a refused login: a wrong code added while the device is silent is
    bound unproven, and whoever proves the code takes the device over."""
    _, mallory = await hub.user("mallory")
    _, alice = await hub.user("alice")
    gateway = label("gateway")
    claimed = await hub.add_device(mallory, _wrong(gateway))
    assert claimed["verified"] is False
    async with _device(hub.mosquitto.port, gateway) as device:
        added = await hub.add_device(alice, gateway)
        assert added["verified"] is True
        await device.wait_connected(10)
    assert await _devices(hub, mallory) == []
    assert [d["serial"] for d in await _devices(hub, alice)] == [gateway.serial]


async def test_a2_a_device_added_offline_is_proven_when_it_comes_online(hub: Hub) -> None:
    _, alice = await hub.user("alice")
    camera = label("camera")
    added = await hub.add_device(alice, camera)
    assert added["verified"] is False
    async with _device(hub.mosquitto.port, camera):

        async def verified() -> bool:
            return bool((await _devices(hub, alice))[0]["verified"])

        assert await _eventually(verified, timeout=20)


async def test_a2_model_and_kind_must_agree(hub: Hub) -> None:
    """A camera's serial cannot be added as a "lock" to put it under one's own gateway's account."""
    _, alice = await hub.user("alice")
    gateway = await hub.add_device(alice, label("gateway"))
    async with hub.client(alice) as c:
        body = {"qr": label("camera").to_qr(), "kind": "lock", "gateway_id": gateway["id"]}
        r = await c.post("/api/devices", json=body)
    assert r.status_code == 422 and "is a camera" in r.json()["detail"]


def _async(predicate):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return bool(predicate())

    return check
