"""Issue 11 H1 end to end: the real hub on the embedded broker of ``vakt demo`` keeps its MQTT session
against a device that tries to take it (device credentials + the hub's client id + clean_session=False),
and ``/api/health`` tells a broker connection that is up but refused from one that works.
"""

from __future__ import annotations

import asyncio
import contextlib
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from tests.broker.brokers import DEVICES, HUB_PASSWORD, make_accounts, mosquitto
from tests.hub.conftest import Hub, Mosquitto, running_hub
from vakt.broker.accounts import BrokerAccounts
from vakt.broker.embedded import EmbeddedBroker
from vakt.hub.models.devices import DeviceEvent
from vakt.hub.mqtt import CLIENT_ID_FILE, default_client_id
from vakt.hub.settings import HubSettings
from vakt.protocol import Command, DeviceLabel, Event, device_password
from vakt.protocol.client import DeviceClient, cancel_and_wait

pytestmark = pytest.mark.timeout(90)


def _settings(tmp_path: Path, port: int, **extra: Any) -> HubSettings:
    base: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "mqtt_port": port,
        "mqtt_password": SecretStr(HUB_PASSWORD),
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "open_registration": True,
    }
    return HubSettings(**(base | extra))


@contextlib.asynccontextmanager
async def _hub(
    tmp_path: Path, port: int, accounts: BrokerAccounts | None = None, **extra: Any
) -> AsyncIterator[Hub]:
    unused = Mosquitto(port, tmp_path, tmp_path / "none.pid", tmp_path / "none.json")
    async with running_hub(_settings(tmp_path, port, **extra), unused, broker_accounts=accounts) as hub:
        yield hub


async def _health(hub: Hub) -> dict[str, Any]:
    async with hub.client() as c:
        return dict((await c.get("/api/health")).json())


async def _until(predicate: Any, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.05)


async def test_h1_a_device_cannot_take_the_hubs_session_and_the_hub_keeps_working(tmp_path: Path) -> None:
    accounts = BrokerAccounts.create(HUB_PASSWORD)
    camera = DeviceLabel(serial="VC0000H1", code="CAMCODE123", model="VC-300")
    answered: list[str] = []

    async def siren(serial: str, command: Command) -> dict[str, Any]:
        answered.append(command.name)
        return {"siren": True}

    async with EmbeddedBroker(accounts) as broker, _hub(tmp_path, broker.port, accounts) as hub:
        _, token = await hub.user("alice")
        added = await hub.add_device(token, camera)
        device = DeviceClient(
            serial=camera.serial,
            password=device_password(camera.code),
            port=broker.port,
            handler=siren,
            reconnect_max=1.0,
        )
        task = asyncio.create_task(device.run())
        try:
            await device.wait_connected(10)
            hub_id = (hub.app.state.settings.data_dir / CLIENT_ID_FILE).read_text().strip()
            for clean in (False, True):
                with pytest.raises(aiomqtt.MqttError):
                    async with aiomqtt.Client(
                        "127.0.0.1",
                        broker.port,
                        username=camera.serial,
                        password=device_password(camera.code),
                        identifier=hub_id,
                        clean_session=clean,
                        timeout=5,
                    ):
                        pass
            health = await _health(hub)
            assert health["mqtt"] is True and health["broker"]["authorized"] is True, health
            ack = await hub.app.state.mqtt.send_command(camera.serial, "camera.siren", {"on": True})
            assert ack.ok and answered == ["camera.siren"]  # commands still reach the device
            await device.publish_event(Event(source=camera.serial, type="Doorbell"))

            async def stored() -> bool:
                async with hub.app.state.sessionmaker() as session:
                    query = select(func.count()).where(DeviceEvent.device_id == added["id"])
                    return bool(await session.scalar(query))

            await _until(stored)  # and its events are still stored
        finally:
            await cancel_and_wait(task)


async def test_hub_client_id_is_random_private_and_stable(tmp_path: Path) -> None:
    settings = _settings(tmp_path, 1883)
    first = default_client_id(settings)
    again = default_client_id(settings)
    other = default_client_id(_settings(tmp_path / "other", 1883))
    assert first == again and first != other and first.startswith("vakt-hub-") and len(first) == 41
    mode = (settings.data_dir / CLIENT_ID_FILE).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


@pytest.mark.parametrize("kind", ["embedded", "mosquitto"])
async def test_health_reports_a_connection_the_broker_refuses(kind: str, tmp_path: Path) -> None:
    """The hub logged in with a device's account (as after the H1 takeover): connected, but not let in."""
    accounts = make_accounts()
    serial = "CAM0001"
    extra = {
        "mqtt_username": serial,
        "mqtt_password": SecretStr(device_password(DEVICES[serial])),
        "mqtt_client_id": f"vakt-{serial}",
        "mqtt_persistent_session": False,
    }
    async with contextlib.AsyncExitStack() as stack:
        if kind == "embedded":
            port = (await stack.enter_async_context(EmbeddedBroker(accounts))).port
        else:
            port = stack.enter_context(mosquitto(accounts, tmp_path / "mosquitto")).port
        hub = await stack.enter_async_context(_hub(tmp_path, port, **extra))

        async def refused() -> bool:
            return (await _health(hub))["broker"]["authorized"] is False

        await _until(refused, timeout=15)
        health = await _health(hub)
        assert health["mqtt"] is False and health["broker"]["connected"] is True
        assert "CAM0001" in health["broker"]["detail"], health


async def test_health_says_mqtt_true_when_the_hub_is_let_in(tmp_path: Path) -> None:
    accounts = make_accounts()
    with mosquitto(accounts, tmp_path / "mosquitto") as proc:
        async with _hub(tmp_path, proc.port) as hub:
            await _until(lambda: _probe_done(hub))
            health = await _health(hub)
            assert health["mqtt"] is True and health["broker"] == {
                "connected": True,
                "authorized": True,
                "detail": "connected as the hub",
            }


async def _probe_done(hub: Hub) -> bool:
    return hub.app.state.mqtt._probe_echo.is_set()  # type: ignore[no-any-return]
