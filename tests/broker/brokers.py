"""Real brokers for tests: a Mosquitto started on a free port from generated files, or the embedded amqtt."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from vakt.broker import BrokerAccounts
from vakt.broker.embedded import EmbeddedBroker, free_port
from vakt.broker.mosquitto import reload_mosquitto, write_mosquitto_files
from vakt.protocol import device_password

MOSQUITTO = "/usr/sbin/mosquitto"
HUB_PASSWORD = "hub-test-password"

DEVICES = {"GW0001": "GWCODE01", "LK0001": "LKCODE01", "CAM0001": "CAMCODE1"}


def make_accounts() -> BrokerAccounts:
    accounts = BrokerAccounts.create(HUB_PASSWORD)
    for serial, code in DEVICES.items():
        accounts.set_device(serial, device_password(code))
    accounts.allow_relay("GW0001", "LK0001")
    return accounts


@dataclass
class RunningBroker:
    kind: str
    port: int
    accounts: BrokerAccounts
    host: str = "127.0.0.1"
    extra: dict[str, object] = field(default_factory=dict)


def _wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"broker did not open port {port}")


class Mosquitto:
    """A Mosquitto process on a fixed port that a test can kill and start again (G7)."""

    def __init__(self, accounts: BrokerAccounts, directory: Path, port: int | None = None) -> None:
        self.accounts = accounts
        self.port = port or free_port()
        self.conf = write_mosquitto_files(accounts, directory, self.port)
        self.log = directory / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=log, stderr=log)
        _wait_port(self.port)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def reload_files(self) -> None:
        write_mosquitto_files(self.accounts, self.conf.parent, self.port)

    def reload(self) -> None:
        self.reload_files()
        assert self.proc is not None
        reload_mosquitto(self.proc.pid)
        time.sleep(0.3)


@contextlib.contextmanager
def mosquitto(accounts: BrokerAccounts, directory: Path) -> Iterator[Mosquitto]:
    if not shutil.which(MOSQUITTO) and not Path(MOSQUITTO).exists():
        pytest.skip("mosquitto is not installed")
    broker = Mosquitto(accounts, directory)
    broker.start()
    try:
        yield broker
    finally:
        broker.kill()


@contextlib.asynccontextmanager
async def any_broker(kind: str, tmp_path: Path) -> AsyncIterator[RunningBroker]:
    accounts = make_accounts()
    if kind == "mosquitto":
        with mosquitto(accounts, tmp_path / "mosquitto") as proc:
            yield RunningBroker(kind, proc.port, accounts, extra={"proc": proc})
    else:
        async with EmbeddedBroker(accounts) as embedded:
            await asyncio.sleep(0)
            yield RunningBroker(kind, embedded.port, accounts)
