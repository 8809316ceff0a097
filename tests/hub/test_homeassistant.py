"""V3 (issue 13 item 6): Home Assistant MQTT discovery, end to end.

A real hub, a real private Mosquitto, the real gateway emulator running the lock firmware, and a real
aiomqtt client playing Home Assistant with the broker user the hub made for the account (``ha-<id>``):
it sees the discovery configs, the states follow the lock, its lock command locks the emulated lock,
a wrong PIN is refused and counted with the web app's PIN limits (A7), and another account's entities
never reach it. Payload shapes are checked against Home Assistant's own schemas in
``test_homeassistant_schemas.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import cv2
import numpy as np
import pytest

from tests.hub.conftest import Hub, label
from vakt.detect import PersonEvent
from vakt.gateway.config import GatewayConfig
from vakt.gateway.service import Gateway
from vakt.hub.models.users import AttemptCounter
from vakt.protocol import DeviceLabel

PIN = "4711"
PASSWORD = "correct horse battery"


async def eventually(check: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not met in {timeout} s")
        await asyncio.sleep(0.05)


@dataclass
class FakeHomeAssistant:
    """What a Home Assistant MQTT integration sees: retained topics (last payload) and every message."""

    client: aiomqtt.Client
    retained: dict[str, bytes] = field(default_factory=dict)
    seen: list[tuple[str, bytes]] = field(default_factory=list)

    def configs(self) -> dict[str, dict[str, Any]]:
        return {t: json.loads(p) for t, p in self.retained.items() if t.endswith("/config") and p}

    def value(self, topic: str) -> str | None:
        payload = self.retained.get(topic)
        return None if payload is None else payload.decode()

    def events(self, topic: str) -> list[dict[str, Any]]:
        return [json.loads(p) for t, p in self.seen if t == topic]

    async def run(self) -> None:
        async for message in self.client.messages:
            payload = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
            self.seen.append((message.topic.value, payload))
            self.retained[message.topic.value] = payload


@contextlib.asynccontextmanager
async def home_assistant(
    hub: Hub, username: str, password: str, root: str
) -> AsyncIterator[FakeHomeAssistant]:
    """Connects like HA's MQTT integration: discovery prefix ``homeassistant/#`` plus the state topics."""
    deadline = asyncio.get_running_loop().time() + 15
    while True:  # Mosquitto reloads its password file on SIGHUP, in the background
        try:
            client = aiomqtt.Client(
                "127.0.0.1",
                hub.mosquitto.port,
                username=username,
                password=password,
                identifier=f"{username}-ha",
            )
            await client.__aenter__()
            break
        except aiomqtt.MqttError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)
    fake = FakeHomeAssistant(client)
    await client.subscribe("homeassistant/#", qos=1)
    await client.subscribe(f"{root}/#", qos=1)
    task = asyncio.create_task(fake.run())
    try:
        yield fake
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
            await task
        with contextlib.suppress(aiomqtt.MqttError):
            await client.__aexit__(None, None, None)


async def _enable(hub: Hub, token: str) -> dict[str, Any]:
    async with hub.client(token) as c:
        r = await c.put("/api/integrations/homeassistant", json={"enabled": True})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _pin_failures(hub: Hub, user_id: int) -> int:
    async with hub.app.state.sessionmaker() as session:
        row = await session.get(AttemptCounter, f"pin:{user_id}")
        return 0 if row is None else row.failures


@dataclass
class Home:
    hub: Hub
    token: str
    user_id: int
    lock_id: int
    camera_id: int
    lock: DeviceLabel
    gateway: DeviceLabel
    camera: DeviceLabel


@pytest.fixture
async def home(hub: Hub, tmp_path: Path) -> AsyncIterator[Home]:
    user_id, token = await hub.user("alice")
    gateway_label, lock_label, camera_label = label("gateway"), label("lock"), label("camera")
    gateway = await hub.add_device(token, gateway_label)
    lock = await hub.add_device(token, lock_label, gateway_id=gateway["id"], name="Front door")
    camera = await hub.add_device(token, camera_label, name="Porch")
    async with hub.client(token) as c:
        r = await c.put("/api/auth/unlock-pin", json={"pin": PIN, "password": PASSWORD})
        assert r.status_code == 204, r.text
    config = GatewayConfig(
        serial=gateway_label.serial,
        code=gateway_label.code,
        mqtt_port=hub.mosquitto.port,
        data_dir=tmp_path / "gateway",
        lock_serial=lock_label.serial,
        lock_code=lock_label.code,
        tick_interval=0.05,
    )
    async with Gateway(config):

        async def online() -> bool:
            async with hub.client(token) as c:
                row = (await c.get(f"/api/locks/{lock['id']}")).json()
            return bool(row["online"] and row["lock_state"])

        await eventually(online, 20, "lock online")
        yield Home(hub, token, user_id, lock["id"], camera["id"], lock_label, gateway_label, camera_label)


def _person_event() -> PersonEvent:
    frame = np.full((120, 160, 3), 90, np.uint8)
    ok, jpeg = cv2.imencode(".jpg", frame)
    assert ok
    return PersonEvent(
        start=1.0, score=0.9, box=(60, 20, 100, 110), snapshot_pts=1.0, snapshot_jpeg=jpeg.tobytes()
    )


async def _lock_state(home: Home) -> str | None:
    async with home.hub.client(home.token) as c:
        state: str | None = (await c.get(f"/api/locks/{home.lock_id}")).json()["lock_state"]
        return state


async def test_v3_discovery_states_and_commands_through_pin_and_ownership(
    home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    hub, a = home.hub, home.user_id
    bob_id, bob_token = await hub.user("bob")
    await hub.add_device(bob_token, label("camera"), name="Bob's garden")
    await _enable(hub, bob_token)  # another account with HA on: its entities must not reach alice's HA

    async with hub.client(home.token) as c:
        assert (await c.get("/api/integrations/homeassistant")).json()["enabled"] is False  # off by default
    answer = await _enable(hub, home.token)
    broker = answer["broker"]
    assert broker["username"] == f"ha-{a}" and broker["password"] and answer["state_prefix"] == f"vakt/ha/{a}"
    async with hub.client(home.token) as c:  # the password is shown once
        assert (await c.get("/api/integrations/homeassistant")).json()["broker"]["password"] is None

    root = f"vakt/ha/{a}"
    lock, camera, gateway = home.lock.serial, home.camera.serial, home.gateway.serial
    async with home_assistant(hub, broker["username"], broker["password"], root) as ha:
        # -- discovery: every entity of V3, with device info and availability ------------------------------
        lock_config = f"homeassistant/lock/vakt_a{a}/{lock}_lock/config"
        await eventually(lambda: lock_config in ha.configs(), what="lock discovery")
        expected = {
            f"homeassistant/{component}/vakt_a{a}/{serial}_{entity}/config"
            for component, serial, entity in [
                ("lock", lock, "lock"),
                ("event", lock, "operation"),
                ("event", lock, "doorbell"),
                ("binary_sensor", lock, "tamper"),
                ("sensor", lock, "battery"),
                ("sensor", lock, "rssi"),
                ("camera", camera, "camera"),
                ("siren", camera, "siren"),
                ("binary_sensor", camera, "person"),
                ("binary_sensor", camera, "motion"),
                ("binary_sensor", gateway, "connectivity"),
                ("select", "home", "arming"),
            ]
        }
        await eventually(lambda: expected <= set(ha.configs()), what="all discovery configs")
        configs = ha.configs()
        assert set(configs) == expected, "alice's HA sees only alice's entities (bob's are not delivered)"
        lock_entity = configs[lock_config]
        assert lock_entity["code_format"] == r"^(\d{4,8})?$"
        assert lock_entity["device"]["manufacturer"] == "vakt"
        assert lock_entity["device"]["name"] == "Front door"
        assert lock_entity["device"]["via_device"] == f"vakt_{gateway}"
        assert lock_entity["unique_id"] == f"vakt_{lock}_lock"
        assert [x["topic"] for x in lock_entity["availability"]] == [
            f"{root}/home/availability",
            f"{root}/{lock}/availability",
        ]
        assert len({c["unique_id"] for c in configs.values()}) == len(configs)
        await eventually(lambda: ha.value(f"{root}/{lock}/availability") == "online", what="lock available")
        await eventually(lambda: ha.value(f"{root}/{lock}/battery/state") is not None, what="battery")
        assert ha.value(f"{root}/{camera}/availability") == "offline"  # no camera emulator runs here
        assert ha.value(f"{root}/home/arming/state") == "away"

        # -- a person at the porch camera (C8): the binary sensor and the camera image follow -------------
        alerts, seen_at = hub.app.state.alerts, time.time()
        await alerts.person_started(home.camera_id, _person_event(), seen_at)
        await eventually(lambda: ha.value(f"{root}/{camera}/person/state") == "ON", what="person on")
        image = await eventually(lambda: ha.retained.get(f"{root}/{camera}/camera/image"), what="snapshot")
        assert image.startswith(b"\xff\xd8"), "the camera entity's image is the event's JPEG snapshot"
        await alerts.person_ended(home.camera_id, dataclasses.replace(_person_event(), end=3.0), seen_at)
        await eventually(lambda: ha.value(f"{root}/{camera}/person/state") == "OFF", what="person off")

        # -- the lock: state follows the real lock; commands through the PIN and the authorization layer --
        initial = await _lock_state(home)
        await eventually(lambda: ha.value(f"{root}/{lock}/lock/state") == initial.upper(), what="lock state")
        command = f"{root}/{lock}/lock/set"
        await ha.client.publish(command, json.dumps({"action": "UNLOCK", "code": "0000"}), qos=1)
        assert await eventually(lambda: _pin_failures(hub, a), what="wrong PIN counted") == 1
        await eventually(
            lambda: "unlock of" in caplog.text and "wrong PIN" in caplog.text, what="refusal logged"
        )
        await ha.client.publish(command, json.dumps({"action": "UNLOCK", "code": "None"}), qos=1)  # no code
        await ha.client.publish(command, json.dumps({"action": "UNLOCK", "code": PIN}), qos=1)
        await eventually(lambda: ha.value(f"{root}/{lock}/lock/state") == "UNLOCKED", what="unlocked via HA")
        assert await _lock_state(home) == "unlocked"
        assert await _pin_failures(hub, a) == 0, "a right PIN clears the count, a missing one is not counted"
        await ha.client.publish(command, json.dumps({"action": "LOCK", "code": "None"}), qos=1)
        await eventually(lambda: ha.value(f"{root}/{lock}/lock/state") == "LOCKED", what="locked via HA")
        assert await _lock_state(home) == "locked", "the emulated lock itself is locked"
        operations = await eventually(
            lambda: ha.events(f"{root}/{lock}/operation/event"), what="operation events"
        )
        unlock = next(e for e in operations if e["event_type"] == "Unlock")
        assert unlock["operation_source"] == "Remote" and unlock["user"] == "alice"
        async with hub.client(home.token) as c:  # the same operation log as the web app (A7)
            log_rows = (await c.get(f"/api/locks/{home.lock_id}/log")).json()
        assert any(r["operation"] == "Unlock" and r["user_name"] == "alice" for r in log_rows)

        # -- doorbell (the lock's bell) and the arming mode (X4) -------------------------------------------
        ack = await hub.app.state.mqtt.send_command(lock, "panel.input", {"input": "doorbell"})
        assert ack.ok, ack.error
        bells = await eventually(lambda: ha.events(f"{root}/{lock}/doorbell/event"), what="doorbell event")
        assert bells[0]["event_type"] == "Doorbell"
        await ha.client.publish(f"{root}/home/arming/set", "home", qos=1)
        await eventually(lambda: ha.value(f"{root}/home/arming/state") == "home", what="arming mode")
        async with hub.client(home.token) as c:
            assert (await c.get("/api/arming")).json()["mode"] == "home"

        # -- a device removed: its entities go; a command for it is refused and logged --------------------
        async with hub.client(home.token) as c:
            assert (await c.delete(f"/api/devices/{home.camera_id}")).status_code == 204
        await hub.app.state.homeassistant.reconciled()
        camera_config = f"homeassistant/camera/vakt_a{a}/{camera}_camera/config"
        await eventually(lambda: ha.retained.get(camera_config) == b"", what="camera entity removed")
        await ha.client.publish(f"{root}/{camera}/siren/set", "ON", qos=1)
        await eventually(lambda: f"device {camera} is not one of account {a}" in caplog.text, what="refused")

        # -- HA turned off: every entity removed --------------------------------------------------------
        async with hub.client(home.token) as c:
            r = await c.put("/api/integrations/homeassistant", json={"enabled": False})
            assert r.status_code == 200 and r.json()["enabled"] is False
        await eventually(lambda: ha.retained.get(lock_config) == b"", what="lock entity removed")
        assert not ha.configs()
    assert bob_id != a
