"""G7 on the demo's path: the embedded amqtt broker, the hub restarted in the middle of a burst of lock
events from the in-process gateway; every event the gateway queued is stored once."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import select

from tests.hub.conftest import Hub, label, running_hub
from vakt.broker.accounts import BrokerAccounts
from vakt.broker.embedded import EmbeddedBroker
from vakt.gateway.config import GatewayConfig
from vakt.gateway.service import Gateway
from vakt.hub.models.devices import DeviceEvent
from vakt.hub.settings import HubSettings

HUB_PASSWORD = "faults-embedded-hub"
_QUEUED = re.compile(r"queued event ([0-9a-f]+) ")


class Ledger(logging.Handler):
    """The gateway's own record of every event it queued safely."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.ids: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if match := _QUEUED.match(record.getMessage()):
            self.ids.append(match.group(1))


async def _stored(hub: Hub) -> list[str]:
    async with hub.app.state.sessionmaker() as session:
        return list((await session.scalars(select(DeviceEvent.event_id))).all())


async def test_g7_embedded_broker_hub_restarted_mid_burst(tmp_path: Path) -> None:
    accounts = BrokerAccounts.create(HUB_PASSWORD)
    ledger = Ledger()
    gateway_log = logging.getLogger("vakt.gateway.service")
    level = gateway_log.level
    gateway_log.setLevel(logging.INFO)
    gateway_log.addHandler(ledger)
    try:
        async with EmbeddedBroker(accounts) as broker:
            settings = HubSettings(
                data_dir=tmp_path / "hub",
                mqtt_port=broker.port,
                mqtt_password=SecretStr(HUB_PASSWORD),
                argon2_time_cost=1,
                argon2_memory_kib=1024,
            )
            gateway_label, lock_label = label("gateway"), label("lock")
            async with running_hub(settings, None, broker_accounts=accounts) as hub:  # type: ignore[arg-type]
                _, token = await hub.user("owner")
                gateway_row = await hub.add_device(token, gateway_label)
                await hub.add_device(token, lock_label, gateway_id=gateway_row["id"])
            config = GatewayConfig(
                serial=gateway_label.serial,
                code=gateway_label.code,
                mqtt_port=broker.port,
                data_dir=tmp_path / "gateway",
                lock_serial=lock_label.serial,
                lock_code=lock_label.code,
                tick_interval=0.05,
                boot_seconds=0.3,
            )
            async with Gateway(config) as gateway:
                async with running_hub(settings, None, broker_accounts=accounts) as hub:  # type: ignore[arg-type]
                    await gateway.client.wait_connected(15)
                    for _ in range(100):
                        gateway.lock_input(lock_label.serial, "doorbell")
                        await asyncio.sleep(0.005)
                # the hub is down: the gateway keeps its events until the hub confirms them
                for _ in range(100):
                    gateway.lock_input(lock_label.serial, "doorbell")
                    await asyncio.sleep(0.005)
                async with running_hub(settings, None, broker_accounts=accounts) as hub:  # type: ignore[arg-type]
                    for _ in range(100):
                        gateway.lock_input(lock_label.serial, "doorbell")
                        await asyncio.sleep(0.005)
                    async with asyncio.timeout(60):
                        while not set(ledger.ids) <= set(await _stored(hub)) or len(gateway.outbox):
                            await asyncio.sleep(0.2)
                    stored = await _stored(hub)
    finally:
        gateway_log.removeHandler(ledger)
        gateway_log.setLevel(level)
    produced = set(ledger.ids)
    lost, duplicated = len(produced - set(stored)), len(stored) - len(set(stored))
    print(
        f"embedded broker, hub restarted mid-burst: produced {len(produced)}, lost {lost}, dup {duplicated}"
    )
    assert len(produced) == 300 and (lost, duplicated) == (0, 0)
