"""Issue 11 H1/H2 on both brokers: a device cannot take over the hub's session, set a last will on another
device's topic, or stay connected once its account is removed or re-keyed.

The attacker is a real aiomqtt client holding a real device's credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest

from tests.broker.brokers import DEVICES, HUB_PASSWORD, RunningBroker, any_broker
from vakt.broker.embedded import EmbeddedBroker
from vakt.protocol import device_password

pytestmark = pytest.mark.timeout(60)
HUB_ID = "vakt-hub-0123456789abcdef0123456789abcdef"


@pytest.fixture(params=["mosquitto", "embedded"])
async def broker(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RunningBroker]:
    async with any_broker(request.param, tmp_path) as running:
        yield running


def _hub(broker: RunningBroker, identifier: str = HUB_ID) -> aiomqtt.Client:
    return aiomqtt.Client(
        broker.host,
        broker.port,
        username="hub",
        password=HUB_PASSWORD,
        identifier=identifier,
        clean_session=False,
        timeout=5,
    )


def _device(
    broker: RunningBroker, serial: str, identifier: str | None = None, **kwargs: object
) -> aiomqtt.Client:
    return aiomqtt.Client(
        broker.host,
        broker.port,
        username=serial,
        password=device_password(DEVICES[serial]),
        identifier=identifier or f"vakt-{serial}",
        timeout=5,
        **kwargs,  # type: ignore[arg-type]
    )


async def _next(client: aiomqtt.Client, timeout: float) -> aiomqtt.Message | None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            async for message in client.messages:
                return message
    return None


async def test_h1_embedded_device_cannot_take_the_hubs_client_id(tmp_path: Path) -> None:
    """The attack of issue 11 H1: device credentials + the hub's client id + clean_session=False."""
    async with any_broker("embedded", tmp_path) as broker, _hub(broker) as hub:
        await hub.subscribe("vakt/v1/+/event", qos=1)
        for clean in (False, True):  # neither resume nor wipe the hub's session
            with pytest.raises(aiomqtt.MqttError):
                async with _device(broker, "CAM0001", identifier=HUB_ID, clean_session=clean):
                    pass
        with pytest.raises(aiomqtt.MqttError):  # no login at all: not even a kick
            async with aiomqtt.Client(broker.host, broker.port, identifier=HUB_ID, timeout=5):
                pass
        async with _device(broker, "CAM0001") as camera:  # as itself it still may
            await camera.publish("vakt/v1/CAM0001/event", b'{"n":1}', qos=1)
        message = await _next(hub, 5)  # the hub's connection and subscription survived
        assert message is not None and message.topic.value == "vakt/v1/CAM0001/event"


async def test_h1_embedded_device_connects_only_as_itself(tmp_path: Path) -> None:
    async with any_broker("embedded", tmp_path) as broker:
        for identifier in ("vakt-GW0001", "someone-else", "vakt-hub-x"):
            with pytest.raises(aiomqtt.MqttError):
                async with _device(broker, "CAM0001", identifier=identifier):
                    pass
        for identifier in ("vakt-CAM0001", "CAM0001"):
            async with _device(broker, "CAM0001", identifier=identifier) as camera:
                await camera.publish("vakt/v1/CAM0001/state", b"{}", qos=1)


async def test_h1_mosquitto_gives_a_device_on_the_hubs_client_id_nothing(tmp_path: Path) -> None:
    """Mosquitto lets any account use any client id, but checks the ACL on every delivery: a device that
    guesses the hub's client id kicks the hub (hence the id is a secret) and reads none of its messages."""
    async with any_broker("mosquitto", tmp_path) as broker:
        async with _hub(broker) as hub:
            await hub.subscribe("vakt/v1/+/event", qos=1)
        async with _device(broker, "CAM0001", identifier=HUB_ID, clean_session=False) as thief:
            async with _device(broker, "GW0001") as gateway:
                await gateway.publish("vakt/v1/GW0001/event", b'{"secret":1}', qos=1)
            assert await _next(thief, 1.0) is None


async def _vanish_with_will(broker: RunningBroker, will: aiomqtt.Will) -> None:
    """Connect with ``will`` and drop the TCP connection without DISCONNECT: the broker sends the will."""
    with contextlib.suppress(aiomqtt.MqttError):
        async with _device(broker, "CAM0001", will=will) as camera:
            camera._client.socket().shutdown(socket.SHUT_RDWR)
            await asyncio.sleep(0.3)


async def test_h2_device_cannot_set_a_will_on_another_devices_topic(broker: RunningBroker) -> None:
    """The embedded broker refuses the CONNECT; Mosquitto accepts it but never publishes that will."""
    will = aiomqtt.Will("vakt/v1/GW0001/availability", b'{"status":"offline"}', qos=1, retain=True)
    if broker.kind == "embedded":
        with pytest.raises(aiomqtt.MqttError):
            async with _device(broker, "CAM0001", will=will):
                pass
    else:
        await _vanish_with_will(broker, will)
    # the same vanishing act with a will on its own topic does leave "offline" behind
    await _vanish_with_will(broker, aiomqtt.Will("vakt/v1/CAM0001/availability", b"gone", qos=1, retain=True))
    async with _hub(broker, "t-hub-reader") as hub:
        await hub.subscribe("vakt/v1/+/availability", qos=1)
        retained = []
        while (message := await _next(hub, 1.0)) is not None:
            retained.append((message.topic.value, message.payload))
        assert retained == [("vakt/v1/CAM0001/availability", b"gone")]


async def _disconnected(client: aiomqtt.Client, timeout: float = 5.0) -> bool:
    """True once the broker has closed ``client``'s connection."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            await client.publish("vakt/v1/CAM0001/state", b"{}", qos=1, timeout=1)
        except aiomqtt.MqttError:
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.mark.parametrize("change", ["removed", "re-keyed"])
async def test_connected_device_is_dropped_when_its_account_changes(
    broker: RunningBroker, change: str
) -> None:
    """Issue 11 (wrong code): a device must not keep a session its current account would refuse."""
    async with _device(broker, "CAM0001") as camera:
        if change == "removed":
            broker.accounts.remove_device("CAM0001")
        else:
            broker.accounts.set_device("CAM0001", device_password("WRONGCODE123"))
        broker.accounts.changed()
        if broker.kind == "mosquitto":
            broker.extra["proc"].reload()  # type: ignore[attr-defined]
        assert await _disconnected(camera)


async def test_embedded_broker_keeps_devices_whose_account_is_unchanged() -> None:
    from tests.broker.brokers import make_accounts

    accounts = make_accounts()
    async with EmbeddedBroker(accounts) as embedded:
        running = RunningBroker("embedded", embedded.port, accounts)
        async with _device(running, "GW0001") as gateway:
            accounts.set_device("CAM0001", device_password("OTHERCODE1"))  # someone else's change
            accounts.changed()
            await embedded.settled()
            await gateway.publish("vakt/v1/GW0001/state", b"{}", qos=1, timeout=2)
