"""A whole home for fault injection: Mosquitto, a database, ``vakt hub`` and ``vakt gateway`` processes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.faults.harness import Broker, Database, Doorbell, GatewayProcess, Home, HubProcess, running


@dataclass
class System:
    broker: Broker
    database: Database
    hub: HubProcess
    gateway: GatewayProcess
    home: Home
    doorbell: Doorbell

    def lock_online(self) -> bool:
        headers = {"Authorization": f"Bearer {self.home.token}"}
        devices = httpx.get(f"{self.hub.url}/api/devices", headers=headers, timeout=5).json()
        return any(d["serial"] == self.home.lock.serial and d["online"] for d in devices)


def start_system(directory: Path, database_kind: str) -> Iterator[System]:
    broker = Broker(directory / "mosquitto")
    database = Database(database_kind, directory)
    hub = HubProcess(directory, broker, database)
    gateway: GatewayProcess | None = None
    try:
        with running(hub.stop, broker.stop):
            broker.start()
            hub.start()
            hub.wait_ready()
            home = hub.add_home()
            gateway = GatewayProcess(directory, broker.port, home)
            with running(gateway.stop, gateway.remove_data):
                gateway.start()
                yield System(broker, database, hub, gateway, home, Doorbell(broker.port, home.lock.serial))
    finally:
        database.drop()


@pytest.fixture(scope="module")
def postgres_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    yield from start_system(tmp_path_factory.mktemp("faults-pg"), "postgresql")


@pytest.fixture(scope="module")
def sqlite_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    yield from start_system(tmp_path_factory.mktemp("faults-sqlite"), "sqlite")
