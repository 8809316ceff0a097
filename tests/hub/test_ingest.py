"""MQTT ingest (G7, A3, A8): valid messages stored once and pushed live; bad ones rejected and counted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import websockets
from sqlalchemy import func, select

from tests.hub.conftest import Hub, Mosquitto, hub_settings, label, running_hub
from vakt.hub.db import utcnow
from vakt.hub.models.devices import Device, DeviceEvent
from vakt.protocol import Availability, Command, DeviceCredentials, Event, decode, encode
from vakt.protocol.messages import MAX_PAYLOAD_BYTES


async def _home(hub: Hub, token: str) -> tuple[dict, dict, DeviceCredentials]:  # type: ignore[type-arg]
    gateway_label, lock_label = label("gateway"), label("lock")
    gateway = await hub.add_device(token, gateway_label)
    lock = await hub.add_device(token, lock_label, gateway_id=gateway["id"])
    creds = DeviceCredentials.from_label(gateway_label)
    await asyncio.sleep(0.3)  # Mosquitto reloads its accounts on SIGHUP
    return gateway, lock, creds


async def _publish_as(hub: Hub, creds: DeviceCredentials, messages: list[tuple[str, bytes, bool]]) -> None:
    async with aiomqtt.Client(
        "127.0.0.1", hub.mosquitto.port, username=creds.username, password=creds.password
    ) as c:
        for topic, payload, retain in messages:
            await c.publish(topic, payload, qos=1, retain=retain)


async def _stored(hub: Hub) -> list[DeviceEvent]:
    async with hub.app.state.sessionmaker() as s:
        return list((await s.scalars(select(DeviceEvent).order_by(DeviceEvent.id))).all())


async def test_g7_valid_events_stored_once_bad_ones_rejected_and_counted(
    tmp_path: Path, mosquitto: Mosquitto, any_db_url: str
) -> None:
    """Runs on SQLite and PostgreSQL: malformed, oversized, unknown-device and replayed messages are
    refused with a reason, and every valid message around them is still stored."""
    async with running_hub(hub_settings(tmp_path, mosquitto, any_db_url), mosquitto) as hub:
        _, token = await hub.user("alice")
        gateway, lock, creds = await _home(hub, token)
        serial = lock["serial"]
        good = [Event(source=serial, type="Doorbell", data={"n": i}) for i in range(5)]
        base = f"vakt/v1/{serial}"
        messages = [
            (f"{base}/event", encode(good[0]), False),
            (f"{base}/event", b"{not json", False),
            (f"{base}/event", encode(good[1]), False),
            (f"{base}/event", json.dumps({"id": "short", "source": serial, "type": "X"}).encode(), False),
            (f"{base}/event", encode(good[1]), False),  # replayed: same event id
            (f"{base}/event", b"x" * (MAX_PAYLOAD_BYTES + 1), False),
            (f"{base}/event", encode(Event(source="SOMEONE_ELSE", type="Doorbell")), False),
            (f"{base}/state", b"[1, 2]", False),
            (f"{base}/event", b'{"source": "%s", "type": "X", "data": {"x": NaN}}' % serial.encode(), False),
            (
                f"{base}/state",
                json.dumps({"kind": "lock", "battery_percent": 81, "lock_state": "locked"}).encode(),
                True,
            ),
            (f"vakt/v1/{gateway['serial']}/availability", encode(Availability(status="online")), True),
            (f"{base}/availability", encode(Availability(status="online")), True),
            (f"{base}/event", encode(good[2]), False),
            (f"{base}/event", encode(good[3]), False),
            (f"{base}/event", encode(good[4]), False),
        ]
        await _publish_as(hub, creds, messages)
        # an unknown device (not in any account) is refused too; the hub account may publish anything
        await hub.app.state.mqtt._receive(
            "vakt/v1/UNKNOWN1/event", encode(Event(source="UNKNOWN1", type="X"))
        )
        await asyncio.sleep(0.5)
        await hub.app.state.mqtt.idle()
        stored = await _stored(hub)
        assert [e.event_id for e in stored] == [e.id for e in good]
        assert all(e.device_id == lock["id"] for e in stored)
        assert stored[0].ts == good[0].ts and stored[0].data == {"n": 0}
        rejected = hub.app.state.mqtt.stats.rejected
        assert (
            rejected["malformed"] == 4
        )  # bad JSON, short id, state not an object, NaN (PostgreSQL refuses it)
        assert rejected["duplicate"] == 1 and rejected["oversized"] == 1
        assert rejected["source_mismatch"] == 1 and rejected["unknown_device"] >= 1
        async with hub.app.state.sessionmaker() as s:
            device = await s.get(Device, lock["id"])
        assert device is not None and device.online is True and device.state["battery_percent"] == 81
        async with hub.client(token) as c:
            row = (await c.get(f"/api/devices/{lock['id']}")).json()
        assert row["online"] is True and row["battery"] == 81 and row["locked"] is True


async def test_g7_replay_after_hub_restart_is_still_refused(tmp_path: Path, mosquitto: Mosquitto) -> None:
    settings = hub_settings(tmp_path, mosquitto)
    event_id = ""
    async with running_hub(settings, mosquitto) as hub:
        _, token = await hub.user("alice")
        _, lock, creds = await _home(hub, token)
        event = Event(source=lock["serial"], type="Doorbell")
        event_id = event.id
        await _publish_as(hub, creds, [(f"vakt/v1/{lock['serial']}/event", encode(event), False)])
        await asyncio.sleep(0.3)
        await hub.app.state.mqtt.idle()
    async with running_hub(settings, mosquitto) as hub:
        await _publish_as(hub, creds, [(f"vakt/v1/{lock['serial']}/event", encode(event), False)])
        await asyncio.sleep(0.3)
        await hub.app.state.mqtt.idle()
        async with hub.app.state.sessionmaker() as s:
            count = await s.scalar(
                select(func.count()).select_from(DeviceEvent).where(DeviceEvent.event_id == event_id)
            )
        assert count == 1 and hub.app.state.mqtt.stats.rejected["duplicate"] == 1


async def test_a8_state_and_events_pushed_over_websocket_to_allowed_users_only(hub: Hub) -> None:
    _, alice = await hub.user("alice")
    _, mallory = await hub.user("mallory")
    _, lock, creds = await _home(hub, alice)
    ws_url = hub.url.replace("http", "ws") + "/api/ws"
    async with (
        websockets.connect(f"{ws_url}?token={alice}") as alice_ws,
        websockets.connect(f"{ws_url}?token={mallory}") as mallory_ws,
    ):
        assert json.loads(await alice_ws.recv())["type"] == "hello"
        assert json.loads(await mallory_ws.recv())["type"] == "hello"
        loop = asyncio.get_running_loop()
        started = loop.time()
        state = {"kind": "lock", "lock_state": "unlocked"}
        await _publish_as(hub, creds, [(f"vakt/v1/{lock['serial']}/state", json.dumps(state).encode(), True)])
        message = json.loads(await asyncio.wait_for(alice_ws.recv(), 2))
        assert loop.time() - started < 1.0  # A8: within a second
        assert message == {"type": "device.state", "device_id": lock["id"], "state": state}
        event = Event(source=lock["serial"], type="Doorbell")
        await _publish_as(hub, creds, [(f"vakt/v1/{lock['serial']}/event", encode(event), False)])
        message = json.loads(await asyncio.wait_for(alice_ws.recv(), 2))
        assert message["type"] == "device.event" and message["event"]["id"] == event.id
        # mallory (no access) got nothing
        try:
            got = await asyncio.wait_for(mallory_ws.recv(), 0.5)
        except TimeoutError:
            got = None
        assert got is None


async def test_a8_websocket_refuses_anonymous_and_revoked(hub: Hub) -> None:
    _, token = await hub.user("alice")
    ws_url = hub.url.replace("http", "ws") + "/api/ws"
    for url in (ws_url, f"{ws_url}?token=bogus"):
        try:
            async with websockets.connect(url) as ws:
                await ws.recv()
            raise AssertionError("an anonymous WebSocket was accepted")
        except (websockets.exceptions.InvalidStatus, websockets.exceptions.ConnectionClosed):
            pass
    async with hub.client(token) as c:
        await c.post("/api/auth/logout")
    try:
        async with websockets.connect(f"{ws_url}?token={token}") as ws:
            await ws.recv()
        raise AssertionError("a revoked session opened a WebSocket")
    except (websockets.exceptions.InvalidStatus, websockets.exceptions.ConnectionClosed):
        pass


async def test_g7_events_published_while_the_hub_is_down_are_stored_when_it_returns(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """The hub's persistent MQTT session: the broker keeps QoS 1 events for it while it is stopped."""
    settings = hub_settings(tmp_path, mosquitto)
    async with running_hub(settings, mosquitto) as hub:
        _, token = await hub.user("alice")
        _, lock, creds = await _home(hub, token)
    missed = [Event(source=lock["serial"], type="Doorbell", data={"n": i}) for i in range(20)]
    await _publish_as(hub, creds, [(f"vakt/v1/{lock['serial']}/event", encode(e), False) for e in missed])
    async with running_hub(settings, mosquitto) as hub:
        for _ in range(50):
            if len(await _stored(hub)) == len(missed):
                break
            await asyncio.sleep(0.1)
        assert [e.event_id for e in await _stored(hub)] == [e.id for e in missed]


async def test_g7_hub_reconnects_after_the_broker_restarts(tmp_path: Path) -> None:
    """A broker of its own, killed and started again on the same port: the hub reconnects and ingests."""
    import shutil
    import subprocess

    from tests.hub.conftest import HUB_PASSWORD
    from tests.hub.conftest import Mosquitto as Private
    from vakt.broker.accounts import BrokerAccounts
    from vakt.broker.embedded import free_port
    from vakt.broker.mosquitto import write_mosquitto_files

    directory, port = tmp_path / "mq", free_port()
    accounts = BrokerAccounts.create(HUB_PASSWORD)
    accounts_file = directory / "accounts.json"
    directory.mkdir()
    accounts.save(accounts_file)
    conf = write_mosquitto_files(accounts, directory, port)
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen([binary, "-c", str(conf)], stderr=subprocess.DEVNULL)
        (directory / "mosquitto.pid").write_text(str(process.pid))
        return process

    process = start()
    await asyncio.sleep(0.5)
    private = Private(port, directory, directory / "mosquitto.pid", accounts_file)
    try:
        async with running_hub(hub_settings(tmp_path, private), private) as hub:
            _, token = await hub.user("alice")
            _, lock, creds = await _home(hub, token)
            process.kill()
            process.wait()
            for _ in range(50):
                if not hub.app.state.mqtt.connected:
                    break
                await asyncio.sleep(0.1)
            assert not hub.app.state.mqtt.connected
            process = start()  # a fresh broker: the hub re-registers nothing, its files are on disk
            await hub.app.state.mqtt.wait_connected(20)
            event = Event(source=lock["serial"], type="Doorbell")
            await _publish_as(hub, creds, [(f"vakt/v1/{lock['serial']}/event", encode(event), False)])
            for _ in range(50):
                if [e.event_id for e in await _stored(hub)] == [event.id]:
                    break
                await asyncio.sleep(0.1)
            assert [e.event_id for e in await _stored(hub)] == [event.id]
            async with hub.client(token) as c:
                assert (await c.get("/api/health")).json()["mqtt"] is True
    finally:
        process.kill()
        process.wait()


async def test_a3_locks_go_offline_with_their_gateway(hub: Hub) -> None:
    """The broker publishes the gateway's last will ("offline") for its serial only; its lock follows."""
    _, token = await hub.user("alice")
    gateway, lock, creds = await _home(hub, token)
    online, offline = encode(Availability(status="online")), encode(Availability(status="offline"))
    await _publish_as(
        hub,
        creds,
        [
            (f"vakt/v1/{gateway['serial']}/availability", online, True),
            (f"vakt/v1/{lock['serial']}/availability", online, True),
        ],
    )
    await asyncio.sleep(0.3)
    await hub.app.state.mqtt.idle()
    async with hub.client(token) as c:
        assert all(d["online"] for d in (await c.get("/api/devices")).json())
        await _publish_as(hub, creds, [(f"vakt/v1/{gateway['serial']}/availability", offline, True)])
        await asyncio.sleep(0.3)
        await hub.app.state.mqtt.idle()
        assert not any(d["online"] for d in (await c.get("/api/devices")).json())
        # the gateway back: it announces itself and its lock again
        await _publish_as(
            hub,
            creds,
            [
                (f"vakt/v1/{gateway['serial']}/availability", online, True),
                (f"vakt/v1/{lock['serial']}/availability", online, True),
            ],
        )
        await asyncio.sleep(0.3)
        await hub.app.state.mqtt.idle()
        assert all(d["online"] for d in (await c.get("/api/devices")).json())


async def test_a8_a_slow_hook_delays_neither_storage_nor_other_hooks(hub: Hub) -> None:
    """Another area's hook may wait seconds (a snapshot, a camera command); ingest goes on meanwhile."""
    _, token = await hub.user("alice")
    _, lock, creds = await _home(hub, token)
    release = asyncio.Event()
    quick: list[str] = []

    async def slow(_device: object, _event: Event) -> None:
        await release.wait()

    async def fast(_device: object, event: Event) -> None:
        quick.append(event.id)

    hub.app.state.mqtt.on_event(slow)
    hub.app.state.mqtt.on_event(fast)
    events = [Event(source=lock["serial"], type="Doorbell") for _ in range(3)]
    await _publish_as(hub, creds, [(f"vakt/v1/{lock['serial']}/event", encode(e), False) for e in events])
    for _ in range(50):
        if len(quick) == 3:
            break
        await asyncio.sleep(0.1)
    assert quick == [e.id for e in events]  # in order, while the slow hook is still stuck on the first
    assert [e.event_id for e in await _stored(hub)] == [e.id for e in events]
    release.set()
    await hub.app.state.mqtt.idle()


async def test_a_command_to_an_offline_lock_expires_with_a_clear_504(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """Nothing answers: the API says so in words, and the command carries its expiry so a lock that
    hears it later refuses it instead of acting on something the user was told had failed."""
    async with running_hub(hub_settings(tmp_path, mosquitto, command_timeout_s=1.0), mosquitto) as hub:
        _, token = await hub.user("alice")
        _, lock, creds = await _home(hub, token)
        async with aiomqtt.Client(
            "127.0.0.1", mosquitto.port, username=creds.username, password=creds.password
        ) as device:
            await device.subscribe(f"vakt/v1/{lock['serial']}/cmd", qos=1)
            async with hub.client(token) as c:
                r = await c.post(f"/api/locks/{lock['id']}/lock")
            heard = [decode(Command, bytes(m.payload)) async for m in _first(device.messages)]  # type: ignore[arg-type]
    assert r.status_code == 504
    detail = r.json()["detail"]
    assert "the lock did not answer" in detail and "may be offline" in detail and "expired" in detail
    assert heard and heard[0].expires_at is not None and heard[0].expires_at <= utcnow()


async def _first(messages: AsyncIterator[aiomqtt.Message]) -> AsyncIterator[aiomqtt.Message]:
    async with asyncio.timeout(5):
        async for message in messages:
            yield message
            return


async def test_g7_dead_letters_are_listed_to_the_owner_only(hub: Hub) -> None:
    _, alice = await hub.user("alice")
    _, bob = await hub.user("bob")
    _, lock, creds = await _home(hub, alice)
    bad = json.dumps(
        {"id": "poison0001", "source": lock["serial"], "type": "X", "ts": "0001-01-01T00:00:00Z"}
    )
    good = Event(source=lock["serial"], type="Doorbell")
    topic = f"vakt/v1/{lock['serial']}/event"
    await _publish_as(hub, creds, [(topic, bad.encode(), False), (topic, encode(good), False)])
    await asyncio.sleep(0.3)
    await hub.app.state.mqtt.idle()
    assert [e.event_id for e in await _stored(hub)] == [good.id]
    async with hub.client(alice) as c:
        letters = (await c.get("/api/dead-letters")).json()
    assert [(d["event_id"], d["device_serial"]) for d in letters] == [("poison0001", lock["serial"])]
    assert "before 2000" in letters[0]["reason"] and letters[0]["topic"] == topic
    async with hub.client(bob) as c:
        assert (await c.get("/api/dead-letters")).json() == []
