"""A minimal hub for gateway tests: a real MQTT client as user ``hub`` that sends commands and records."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiomqtt

from tests.broker.brokers import HUB_PASSWORD
from vakt.protocol import Ack, Command, Event, Receipt, decode, encode, parse_topic
from vakt.protocol.correlation import PendingCommands


class TestHub:
    __test__ = False

    def __init__(self, host: str, port: int, confirm: bool = True) -> None:
        self.confirm = confirm  # send receipts like the real hub (G7), else the gateway keeps re-sending
        self.host, self.port = host, port
        self.events: list[Event] = []
        self.states: dict[str, dict[str, Any]] = {}
        self.availability: dict[str, str] = {}
        self.pending = PendingCommands()
        self.changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def _run(self) -> None:
        while True:
            try:
                async with aiomqtt.Client(
                    self.host,
                    self.port,
                    username="hub",
                    password=HUB_PASSWORD,
                    identifier="test-hub",
                    clean_session=False,
                ) as client:
                    self.client = client
                    await client.subscribe("vakt/v1/#", qos=1)
                    self.connected.set()
                    async for message in client.messages:
                        await self._on_message(message.topic.value, bytes(message.payload))  # type: ignore[arg-type]
            except aiomqtt.MqttError:
                self.connected.clear()
                await asyncio.sleep(0.1)

    async def _on_message(self, name: str, payload: bytes) -> None:
        parsed = parse_topic(name)
        if parsed is None:
            return
        channel = parsed.channel.value
        if channel == "event":
            event = decode(Event, payload)
            self.events.append(event)
            if self.confirm:
                receipt = encode(Receipt(stored=[event.id]))
                await self.client.publish(f"vakt/v1/{parsed.serial}/receipt", receipt, qos=0)
        elif channel == "ack":
            self.pending.resolve(decode(Ack, payload))
        elif channel == "state" and payload:
            self.states[parsed.serial] = json.loads(payload)
        elif channel == "availability" and payload:
            self.availability[parsed.serial] = json.loads(payload)["status"]
        async with self.changed:
            self.changed.notify_all()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds (checked on every message and every 50 ms)."""
        async with asyncio.timeout(timeout):
            while not predicate():
                async with self.changed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.changed.wait(), 0.05)

    async def command(
        self, serial: str, name: str, args: dict[str, Any] | None = None, timeout: float = 20.0
    ) -> Ack:
        command = Command(target=serial, name=name, args=args or {})
        return await self.send_raw(serial, encode(command), command.id, timeout)

    async def send_raw(self, serial: str, payload: bytes, ident: str, timeout: float = 20.0) -> Ack:
        self.pending.expect(ident)
        await self.client.publish(f"vakt/v1/{serial}/cmd", payload, qos=1)
        return await self.pending.wait(ident, timeout)

    def events_of(self, source: str, type_: str) -> list[Event]:
        return [e for e in self.events if e.source == source and e.type == type_]


@contextlib.asynccontextmanager
async def running_hub(host: str, port: int, confirm: bool = True) -> AsyncIterator[TestHub]:
    hub = TestHub(host, port, confirm)
    task = asyncio.create_task(hub._run())
    try:
        await asyncio.wait_for(hub.connected.wait(), 10)
        yield hub
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
