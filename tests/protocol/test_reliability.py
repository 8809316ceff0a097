"""Issue 10 (G7) in the protocol: poison payloads refused at validation, receipts, commands that
expire and are never run twice, not even across a device restart."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from tests.broker.brokers import DEVICES, HUB_PASSWORD, RunningBroker, any_broker
from vakt.protocol import Ack, Command, Event, ProtocolError, Receipt, decode, device_password, encode
from vakt.protocol.client import DeviceClient
from vakt.protocol.messages import MAX_JSON_DEPTH, json_depth, read_id

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize(
    ("ts", "why"),
    [
        ("0001-01-01T00:00:00Z", "before 2000"),
        ("9999-12-31T23:59:59Z", "ahead"),
        ("1999-12-31T23:59:59Z", "2000"),
    ],
)
def test_g7_event_times_outside_the_sane_window_are_refused(ts: str, why: str) -> None:
    payload = json.dumps({"source": "LK0001", "type": "Doorbell", "ts": ts}).encode()
    with pytest.raises(ProtocolError, match=why):
        decode(Event, payload)
    assert decode(Event, payload.replace(ts.encode(), b"2026-03-01T10:00:00Z")).type == "Doorbell"


def test_g7_json_nested_3000_deep_is_refused_without_recursion() -> None:
    deep = b'{"source": "LK0001", "type": "X", "data": {"x": ' + b"[" * 3000 + b"]" * 3000 + b"}}"
    with pytest.raises(ProtocolError, match="nested deeper"):
        decode(Event, deep)
    assert read_id(deep) is None
    assert json_depth(b'{"a": "[[[[[[[[", "b": [{"c": 1}]}') == 3  # brackets in strings do not count
    shallow = json.dumps(
        {"source": "LK0001", "type": "X", "data": {"x": _nested(MAX_JSON_DEPTH - 2)}}
    ).encode()
    assert decode(Event, shallow).type == "X"


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def test_g7_receipt_round_trip_and_the_id_of_a_refused_event_is_readable() -> None:
    receipt = Receipt(stored=["a" * 32], refused=[{"id": "b" * 32, "reason": "JSON nested deeper"}])  # type: ignore[list-item]
    assert decode(Receipt, encode(receipt)) == receipt
    assert read_id(b'{"id": "abcdef0123", "ts": "0001-01-01T00:00:00Z"}') == "abcdef0123"
    assert read_id(b"not json") is None


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[RunningBroker]:
    async with any_broker("mosquitto", tmp_path) as running:
        yield running


async def _answer(broker: RunningBroker, command: Command) -> Ack:
    async with aiomqtt.Client(broker.host, broker.port, username="hub", password=HUB_PASSWORD) as hub:
        await hub.subscribe("vakt/v1/CAM0001/ack", qos=1)
        await hub.publish("vakt/v1/CAM0001/cmd", encode(command), qos=1)
        async with asyncio.timeout(20):
            async for message in hub.messages:
                return decode(Ack, bytes(message.payload))  # type: ignore[arg-type]
    raise AssertionError("no ack")


async def test_a_command_is_not_run_twice_even_after_the_device_restarts_nor_after_it_expired(
    broker: RunningBroker, tmp_path: Path
) -> None:
    runs: list[str] = []

    async def handler(serial: str, command: Command) -> dict[str, Any]:
        runs.append(command.id)
        return {"siren": "on"}

    def device() -> DeviceClient:
        return DeviceClient(
            serial="CAM0001",
            password=device_password(DEVICES["CAM0001"]),
            host=broker.host,
            port=broker.port,
            handler=handler,
            replay_file=tmp_path / "commands.json",
        )

    command = Command(target="CAM0001", name="camera.siren")
    expired = Command(
        target="CAM0001", name="camera.siren", expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    for _ in range(2):  # the second time: a new process, the same data folder
        client = device()
        task = asyncio.create_task(client.run())
        await client.wait_connected(10)
        first = await _answer(broker, command)
        late = await _answer(broker, expired)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert first.ok and first.result == {"siren": "on"}
        assert not late.ok and "expired" in (late.error or "")
    assert runs == [command.id]
