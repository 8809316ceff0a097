"""A device that connects to the embedded broker gets no other device's retained messages.

amqtt replays, to every client that connects, the retained messages matching every subscription filter in
the broker, not only the client's own; with the hub subscribed to ``vakt/v1/+/state`` that handed each
device the state of every other device. ``vakt.broker.embedded`` closes that hole.
"""

from __future__ import annotations

import asyncio

import aiomqtt

from tests.broker.brokers import DEVICES, HUB_PASSWORD, make_accounts
from vakt.broker.embedded import EmbeddedBroker
from vakt.protocol import device_password


def _device(port: int, serial: str) -> aiomqtt.Client:
    password = device_password(DEVICES[serial])
    return aiomqtt.Client("127.0.0.1", port, identifier=f"vakt-{serial}", username=serial, password=password)


def _hub(port: int, name: str, username: str) -> aiomqtt.Client:
    return aiomqtt.Client("127.0.0.1", port, identifier=name, username=username, password=HUB_PASSWORD)


async def _received(client: aiomqtt.Client, seconds: float) -> list[str]:
    topics: list[str] = []
    try:
        async with asyncio.timeout(seconds):
            async for message in client.messages:
                topics.append(message.topic.value)
    except TimeoutError:
        pass
    return topics


async def test_connecting_device_gets_no_other_devices_retained_state() -> None:
    accounts = make_accounts()
    async with (
        EmbeddedBroker(accounts) as broker,
        _hub(broker.port, "t-hub", accounts.hub_username) as hub,
    ):
        await hub.subscribe("vakt/v1/+/state", qos=1)
        async with _device(broker.port, "CAM0001") as camera:
            await camera.publish("vakt/v1/CAM0001/state", b'{"kind": "camera"}', qos=1, retain=True)
        async with _device(broker.port, "GW0001") as gateway:
            await gateway.subscribe("vakt/v1/GW0001/cmd", qos=1)
            assert await _received(gateway, 1.0) == []
        # the hub, which did subscribe, still gets the retained state when it comes back
        async with _hub(broker.port, "t-hub2", accounts.hub_username) as hub2:
            await hub2.subscribe("vakt/v1/+/state", qos=1)
            assert await _received(hub2, 1.0) == ["vakt/v1/CAM0001/state"]
