"""The shared DeviceClient against a real Mosquitto: availability, commands, acks, bad input, replays."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from tests.broker.brokers import DEVICES, HUB_PASSWORD, RunningBroker, any_broker
from vakt.protocol import Ack, Command, Event, decode, device_password, encode
from vakt.protocol.client import CommandError, DeviceClient
from vakt.protocol.correlation import PendingCommands

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[RunningBroker]:
    async with any_broker("mosquitto", tmp_path) as running:
        yield running


class Recorder:
    def __init__(self) -> None:
        self.calls: list[Command] = []

    async def __call__(self, serial: str, command: Command) -> dict[str, Any] | None:
        self.calls.append(command)
        if command.name == "camera.refuse":
            raise CommandError("refused on purpose")
        if command.name == "camera.crash":
            raise RuntimeError("bug")
        return {"echo": command.args}


@pytest.fixture
async def device(broker: RunningBroker) -> AsyncIterator[tuple[DeviceClient, Recorder]]:
    recorder = Recorder()
    client = DeviceClient(
        serial="CAM0001",
        password=device_password(DEVICES["CAM0001"]),
        host=broker.host,
        port=broker.port,
        handler=recorder,
    )
    task = asyncio.create_task(client.run())
    await client.wait_connected(10)
    yield client, recorder
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
async def hub(broker: RunningBroker) -> AsyncIterator[aiomqtt.Client]:
    async with aiomqtt.Client(broker.host, broker.port, username="hub", password=HUB_PASSWORD) as client:
        await client.subscribe("vakt/v1/+/ack", qos=1)
        yield client


async def _ack(hub: aiomqtt.Client, timeout: float = 20) -> Ack:
    async with asyncio.timeout(timeout):
        async for message in hub.messages:
            return decode(Ack, bytes(message.payload))  # type: ignore[arg-type]
    raise AssertionError("no ack")


async def test_command_is_executed_and_acknowledged(
    device: tuple[DeviceClient, Recorder], hub: aiomqtt.Client
) -> None:
    command = Command(target="CAM0001", name="camera.siren", args={"on": True})
    pending = PendingCommands()
    pending.expect(command.id)
    await hub.publish("vakt/v1/CAM0001/cmd", encode(command), qos=1)
    ack = await _ack(hub)
    assert pending.resolve(ack) and not pending.resolve(ack)
    assert ack.id == command.id and ack.ok and ack.result == {"echo": {"on": True}}


async def test_replayed_command_id_is_not_executed_twice(
    device: tuple[DeviceClient, Recorder], hub: aiomqtt.Client
) -> None:
    command = Command(target="CAM0001", name="camera.siren", args={"on": True})
    await hub.publish("vakt/v1/CAM0001/cmd", encode(command), qos=1)
    first = await _ack(hub)
    await hub.publish("vakt/v1/CAM0001/cmd", encode(command), qos=1)
    again = await _ack(hub)
    assert first == again and len(device[1].calls) == 1


@pytest.mark.parametrize(
    ("make_payload", "error"),
    [
        (lambda: b'{"id": "abcdef0123", "name": "camera.siren"}', "invalid Command"),
        (lambda: b'{"id": "abcdef0123", "target": "CAM0001", "name": 5}', "invalid Command: name"),
        (lambda: encode(Command(id="abcdef0123", target="LK0001", name="x")), "command target LK0001"),
        (
            lambda: encode(Command(id="abcdef0123", target="CAM0001", name="camera.refuse")),
            "refused on purpose",
        ),
        (lambda: encode(Command(id="abcdef0123", target="CAM0001", name="camera.crash")), "failed inside"),
        (
            lambda: encode(
                Command(
                    id="abcdef0123", target="CAM0001", name="x", ts=datetime.now(UTC) - timedelta(hours=1)
                )
            ),
            "expired",
        ),
        (
            lambda: json.dumps(
                {"id": "abcdef0123", "target": "CAM0001", "name": "x", "args": {"pad": "x" * 70_000}}
            ).encode(),
            "exceeds",
        ),
    ],
)
async def test_bad_command_gets_an_error_ack_and_the_device_keeps_working(
    device: tuple[DeviceClient, Recorder], hub: aiomqtt.Client, make_payload: Callable[[], bytes], error: str
) -> None:
    await hub.publish("vakt/v1/CAM0001/cmd", b"not json at all", qos=1)  # no id: logged, unanswered
    # built now, not at collection, so the command is fresh however long the suite runs
    await hub.publish("vakt/v1/CAM0001/cmd", make_payload(), qos=1)
    ack = await _ack(hub)
    assert ack.id == "abcdef0123" and not ack.ok and error in (ack.error or "")
    good = Command(target="CAM0001", name="camera.siren")
    await hub.publish("vakt/v1/CAM0001/cmd", encode(good), qos=1)
    assert (await _ack(hub)).ok


async def test_availability_state_and_events(broker: RunningBroker, hub: aiomqtt.Client) -> None:
    await hub.subscribe("vakt/v1/CAM0001/#", qos=1)
    client = DeviceClient(
        serial="CAM0001", password=device_password(DEVICES["CAM0001"]), host=broker.host, port=broker.port
    )
    await client.publish_state("CAM0001", {"kind": "camera", "emulated": True})  # before connecting
    task = asyncio.create_task(client.run())
    await client.wait_connected(10)
    event = Event(source="CAM0001", type="Motion")
    await client.publish_event(event)
    seen: dict[str, bytes] = {}
    async with asyncio.timeout(5):
        async for message in hub.messages:
            seen[message.topic.value.rsplit("/", 1)[1]] = bytes(message.payload)  # type: ignore[arg-type]
            if {"availability", "state", "event"} <= seen.keys():
                break
    assert json.loads(seen["availability"]) == {"status": "online"}
    assert json.loads(seen["state"]) == {"kind": "camera", "emulated": True}
    assert decode(Event, seen["event"]) == event
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    async with asyncio.timeout(5):
        async for message in hub.messages:
            if message.topic.value.endswith("availability"):
                assert json.loads(bytes(message.payload)) == {"status": "offline"}  # type: ignore[arg-type]
                break
