"""Broker authentication and per-device ACL on both brokers: Mosquitto (production) and amqtt (demo)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest

from tests.broker.brokers import DEVICES, HUB_PASSWORD, RunningBroker, any_broker
from vakt.broker import hash_password, verify_password
from vakt.broker.mosquitto import render_acl
from vakt.protocol import device_password

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=["mosquitto", "embedded"])
async def broker(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RunningBroker]:
    async with any_broker(request.param, tmp_path) as running:
        yield running


def _client(broker: RunningBroker, user: str, password: str) -> aiomqtt.Client:
    identifier = None if user == "hub" else f"vakt-{user}"  # a device connects only as itself (issue 11)
    return aiomqtt.Client(
        broker.host, broker.port, username=user, password=password, identifier=identifier, timeout=5
    )


def _device(broker: RunningBroker, serial: str) -> aiomqtt.Client:
    return _client(broker, serial, device_password(DEVICES[serial]))


async def _next_message(client: aiomqtt.Client, timeout: float) -> aiomqtt.Message | None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            async for message in client.messages:
                return message
    return None


def test_mosquitto_password_hash_format_round_trips() -> None:
    encoded = hash_password("secret")
    assert encoded.startswith("$7$101$") and verify_password("secret", encoded)
    assert not verify_password("Secret", encoded)
    assert not verify_password("secret", "$6$garbage") and not verify_password("secret", "nonsense")


def test_acl_file_limits_each_device_to_its_own_topics() -> None:
    from tests.broker.brokers import make_accounts

    acl = render_acl(make_accounts())
    assert "user GW0001\ntopic readwrite vakt/v1/GW0001/#\ntopic readwrite vakt/v1/LK0001/#\n" in acl
    assert "user CAM0001\ntopic readwrite vakt/v1/CAM0001/#\n" in acl


async def test_device_publishes_to_its_own_topics(broker: RunningBroker) -> None:
    async with _client(broker, "hub", HUB_PASSWORD) as hub, _device(broker, "CAM0001") as cam:
        await hub.subscribe("vakt/v1/#", qos=1)
        await cam.publish("vakt/v1/CAM0001/event", b'{"x":1}', qos=1)
        message = await _next_message(hub, 5)
        assert message is not None and message.topic.value == "vakt/v1/CAM0001/event"


async def test_gateway_publishes_for_its_paired_lock(broker: RunningBroker) -> None:
    async with _client(broker, "hub", HUB_PASSWORD) as hub, _device(broker, "GW0001") as gw:
        await hub.subscribe("vakt/v1/#", qos=1)
        await gw.publish("vakt/v1/LK0001/event", b'{"x":1}', qos=1)
        message = await _next_message(hub, 5)
        assert message is not None and message.topic.value == "vakt/v1/LK0001/event"


async def test_device_cannot_publish_to_another_devices_topics(broker: RunningBroker) -> None:
    async with _client(broker, "hub", HUB_PASSWORD) as hub, _device(broker, "CAM0001") as cam:
        await hub.subscribe("vakt/v1/#", qos=1)
        await cam.publish("vakt/v1/LK0001/event", b'{"forged":1}', qos=1)
        await cam.publish("vakt/v1/GW0001/state", b'{"forged":1}', qos=1, retain=True)
        await cam.publish("elsewhere/topic", b"x", qos=1)
        assert await _next_message(hub, 1.0) is None


async def test_device_cannot_subscribe_to_another_devices_topics(broker: RunningBroker) -> None:
    async with _client(broker, "hub", HUB_PASSWORD) as hub, _device(broker, "CAM0001") as cam:
        for pattern in ("vakt/v1/LK0001/cmd", "vakt/v1/+/cmd", "vakt/v1/#", "#"):
            granted = await cam.subscribe(pattern, qos=1)
            if broker.kind == "embedded":  # amqtt refuses the SUBACK; mosquitto grants it, delivers nothing
                assert [int(getattr(code, "value", code)) for code in granted] == [0x80], pattern
        ok = await cam.subscribe("vakt/v1/CAM0001/cmd", qos=1)
        assert [int(getattr(code, "value", code)) for code in ok] == [1]
        await hub.publish("vakt/v1/LK0001/cmd", b"{}", qos=1)
        await hub.publish("vakt/v1/GW0001/state", b"{}", qos=1, retain=True)
        await hub.publish("vakt/v1/CAM0001/cmd", b'{"mine":1}', qos=1)
        received = []
        while (message := await _next_message(cam, 1.0)) is not None:
            received.append(message.topic.value)
        assert set(received) == {"vakt/v1/CAM0001/cmd"}


@pytest.mark.parametrize(
    ("user", "password"), [("CAM0001", "wrong"), ("hub", "wrong"), ("NOBODY", "x"), ("CAM0001", "")]
)
async def test_wrong_password_is_refused(broker: RunningBroker, user: str, password: str) -> None:
    with pytest.raises(aiomqtt.MqttError):
        async with _client(broker, user, password):
            pass


async def test_device_added_later_can_connect(broker: RunningBroker) -> None:
    broker.accounts.set_device("CAM0002", device_password("CAMCODE2"))
    if broker.kind == "mosquitto":
        broker.extra["proc"].reload()  # type: ignore[attr-defined]
    async with _client(broker, "CAM0002", device_password("CAMCODE2")) as cam:
        await cam.publish("vakt/v1/CAM0002/availability", b'{"status":"online"}', qos=1)
