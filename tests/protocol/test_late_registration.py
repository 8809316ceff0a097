"""G5 race: a gateway that speaks for a lock the hub has not registered yet takes it up once allowed.

The embedded broker refuses the lock's command topic until the hub registers the lock (ACL); the device
client retries the refused subscription and, once granted, announces the lock (online + retained state),
so commands reach it without restarting the gateway. Mosquitto grants the subscription and checks the
ACL per message instead: there commands flow as soon as the ACL is reloaded (the hub then asks the lock
for its state, see vakt.hub.mqtt).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from tests.broker.brokers import DEVICES, HUB_PASSWORD, any_broker
from vakt.protocol import Ack, Command, decode, device_password, encode
from vakt.protocol.client import DeviceClient

pytestmark = pytest.mark.timeout(60)
LATE = "LK0002"


@pytest.mark.parametrize("kind", ["embedded", "mosquitto"])
async def test_lock_registered_after_the_gateway_connected_is_taken_up(kind: str, tmp_path: Path) -> None:
    async with any_broker(kind, tmp_path) as broker:
        handled: list[tuple[str, str]] = []

        async def handler(serial: str, command: Command) -> dict[str, Any]:
            handled.append((serial, command.name))
            return {}

        gateway = DeviceClient(
            serial="GW0001",
            password=device_password(DEVICES["GW0001"]),
            host=broker.host,
            port=broker.port,
            handler=handler,
            relayed_serials=[LATE],
        )
        task = asyncio.create_task(gateway.run())
        try:
            await gateway.wait_connected(10)
            await gateway.publish_state(LATE, {"kind": "lock"})
            async with aiomqtt.Client(broker.host, broker.port, username="hub", password=HUB_PASSWORD) as hub:
                await hub.subscribe(f"vakt/v1/{LATE}/#", qos=1)
                broker.accounts.set_device(LATE, device_password("LATECODE1"))
                broker.accounts.allow_relay("GW0001", LATE)  # the hub registers the lock (A2/G5)
                if kind == "mosquitto":
                    broker.extra["proc"].reload()  # type: ignore[attr-defined]
                if kind == "embedded":
                    seen: set[str] = set()
                    async with asyncio.timeout(20):
                        async for message in hub.messages:
                            seen.add(message.topic.value.rsplit("/", 1)[1])
                            if {"availability", "state"} <= seen:
                                break
                command = Command(target=LATE, name="lock.state")
                await hub.publish(f"vakt/v1/{LATE}/cmd", encode(command), qos=1)
                async with asyncio.timeout(10):
                    async for message in hub.messages:
                        if message.topic.value.endswith("/ack"):
                            assert decode(Ack, bytes(message.payload)).id == command.id  # type: ignore[arg-type]
                            break
            assert handled == [(LATE, "lock.state")]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
