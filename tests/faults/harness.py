"""Real processes for fault injection (issue 10, G7): a private Mosquitto, a PostgreSQL database,
``vakt hub`` and ``vakt gateway``, each started, stopped (SIGTERM) and killed (SIGKILL) by the tests,
and a ledger of every event the gateway durably queued, compared with the hub's ``device_events``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
import asyncpg
import httpx
import pytest

from vakt.broker.accounts import BrokerAccounts
from vakt.broker.embedded import free_port
from vakt.broker.mosquitto import write_mosquitto_files
from vakt.protocol import Command, DeviceLabel, encode

PG_DSN = "postgresql://postgres@127.0.0.1:5432"
HUB_PASSWORD = "faults-hub-password"
VAKT = Path(sys.executable).with_name("vakt")
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
_QUEUED = re.compile(r"queued event ([0-9a-f]{8,64}) ")


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


class Broker:
    """A private Mosquitto on a fixed port; the hub rewrites its accounts and SIGHUPs the pid in pid_file."""

    def __init__(self, directory: Path) -> None:
        if not Path(MOSQUITTO).exists():
            pytest.skip("mosquitto is not installed")
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.port = free_port()
        self.accounts_file = directory / "accounts.json"
        self.pid_file = directory / "mosquitto.pid"
        self.log = directory / "mosquitto.log"
        BrokerAccounts.create(HUB_PASSWORD).save(self.accounts_file)
        self.conf = write_mosquitto_files(BrokerAccounts.load(self.accounts_file), directory, self.port)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=out, stderr=out)
        self.pid_file.write_text(str(self.proc.pid))
        wait_port(self.port)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(15)
        self.proc = None


class Database:
    """A fresh PostgreSQL database (or an SQLite file) and what the fault tests ask of it."""

    def __init__(self, kind: str, directory: Path) -> None:
        self.kind = kind
        self.name = f"vakt_faults_{uuid.uuid4().hex[:10]}"
        self.file = directory / "hub.db"
        if kind == "postgresql":
            try:
                asyncio.run(self._admin(f'CREATE DATABASE "{self.name}"'))
            except (OSError, asyncpg.PostgresError) as exc:
                pytest.skip(f"PostgreSQL not reachable: {exc}")

    @property
    def url(self) -> str:
        if self.kind == "postgresql":
            return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.name}"
        return f"sqlite+aiosqlite:///{self.file}"

    @staticmethod
    async def _admin(*statements: str) -> None:
        conn = await asyncpg.connect(f"{PG_DSN}/postgres")
        try:
            for sql in statements:
                await conn.execute(sql)
        finally:
            await conn.close()

    async def refuse_connections(self) -> None:
        """The database goes away: no new connections, and the hub's open ones are cut."""
        await self._admin(
            f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false',
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.name}'",
        )

    async def allow_connections(self) -> None:
        await self._admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')

    async def stored_ids(self) -> list[str]:
        """Every event id in ``device_events``, one entry per row (a duplicate would appear twice)."""
        if self.kind == "postgresql":
            conn = await asyncpg.connect(f"{PG_DSN}/{self.name}")
            try:
                return [r[0] for r in await conn.fetch("SELECT event_id FROM device_events")]
            finally:
                await conn.close()
        with contextlib.closing(sqlite3.connect(self.file, timeout=10)) as db:
            return [r[0] for r in db.execute("SELECT event_id FROM device_events")]

    def drop(self) -> None:
        if self.kind == "postgresql":
            asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


class HubProcess:
    """``vakt hub`` as a user runs it, against the private broker and the database."""

    def __init__(self, directory: Path, broker: Broker, database: Database) -> None:
        self.directory = directory
        self.broker = broker
        self.database = database
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / "hub.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "VAKT_MQTT_PASSWORD": HUB_PASSWORD,
            "VAKT_BROKER_ACCOUNTS_FILE": str(self.broker.accounts_file),
            "VAKT_MOSQUITTO_DIR": str(self.broker.directory),
            "VAKT_MOSQUITTO_PID_FILE": str(self.broker.pid_file),
            "VAKT_ARGON2_MEMORY_KIB": "1024",
            "VAKT_ARGON2_TIME_COST": "1",
            "VAKT_OPEN_REGISTRATION": "true",  # the scenarios register several accounts
        }
        command = [
            str(VAKT),
            "hub",
            "--port",
            str(self.port),
            "--data",
            str(self.directory / "data"),
            "--mqtt-port",
            str(self.broker.port),
            "--database-url",
            self.database.url,
        ]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(command, env=env, stdout=out, stderr=out)

    def wait_ready(self, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"vakt hub exited with {self.proc.returncode}; see {self.log}")
            with contextlib.suppress(httpx.HTTPError, ValueError):
                health = dict(httpx.get(f"{self.url}/api/health", timeout=2).json())
                if health.get("mqtt"):
                    return health
            time.sleep(0.1)
        raise TimeoutError(f"vakt hub not ready in {timeout} s; see {self.log}")

    def health(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/api/health", timeout=5).json())

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        """Send ``sig`` and wait for the process to end; returns its exit status."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return None if proc is None else proc.returncode
        proc.send_signal(sig)
        return proc.wait(timeout)

    def restart(self) -> None:
        self.start()
        self.wait_ready()

    def add_home(self) -> Home:
        """Register an owner and add a gateway and its lock by their QR labels (A2, G5)."""
        gateway, lock = _label("VG", "VG-1"), _label("VL", "VL-100")
        token = self.user("owner")
        with httpx.Client(base_url=self.url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as c:
            r = c.post("/api/devices", json={"qr": gateway.to_qr()})
            assert r.status_code == 201, r.text
            r = c.post("/api/devices", json={"qr": lock.to_qr(), "gateway_id": r.json()["id"]})
            assert r.status_code == 201, r.text
        time.sleep(0.5)  # Mosquitto reloads its accounts on SIGHUP in the background
        return Home(gateway, lock, token)

    def user(self, name: str) -> str:
        """Register ``name`` and sign in; returns the session token."""
        password = "correct horse battery"
        with httpx.Client(base_url=self.url, timeout=30) as c:
            user = {"email": f"{name}@example.org", "username": name, "password": password}
            assert c.post("/api/auth/register", json=user).status_code == 201
            return str(c.post("/api/auth/login", json={"login": name, "password": password}).json()["token"])


def _label(prefix: str, model: str) -> DeviceLabel:
    serial = f"{prefix}{secrets.token_hex(4).upper()}"
    return DeviceLabel(serial=serial, code=secrets.token_hex(6), model=model)


@dataclass
class Home:
    gateway: DeviceLabel
    lock: DeviceLabel
    token: str


class GatewayProcess:
    """``vakt gateway`` with its paired lock; its log is the ledger of events it durably queued."""

    def __init__(self, directory: Path, broker_port: int, home: Home) -> None:
        # in memory when it can: these tests kill processes, not the power, and an fsync per event on
        # a shared disk would make the bursts slow (the outbox's fsync is the same code either way)
        shm = Path("/dev/shm")
        self.data = Path(tempfile.mkdtemp(dir=shm if shm.is_dir() else directory)) / "gateway"
        self.log = directory / "gateway.log"
        self.broker_port = broker_port
        self.home = home
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "vakt.gateway",
            "--serial",
            self.home.gateway.serial,
            "--code",
            self.home.gateway.code,
            "--mqtt-port",
            str(self.broker_port),
            "--data",
            str(self.data),
            "--lock-serial",
            self.home.lock.serial,
            "--lock-code",
            self.home.lock.code,
            "--boot-seconds",
            "0.3",
        ]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=out)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(30)

    def remove_data(self) -> None:
        shutil.rmtree(self.data.parent, ignore_errors=True)

    def mark(self) -> int:
        """Where the ledger starts for the next scenario."""
        return self.log.stat().st_size if self.log.exists() else 0

    def log_since(self, since: int = 0) -> str:
        with open(self.log, "rb") as fh:
            fh.seek(since)
            return fh.read().decode(errors="replace")

    def ledger(self, since: int = 0) -> list[str]:
        """Ids of the events the gateway logged as safely queued in its outbox, in order."""
        return _QUEUED.findall(self.log_since(since))

    def pending(self) -> int:
        """Events still in the outbox (not yet confirmed by the hub)."""
        path = self.data / "outbox.sqlite"
        if not path.exists():
            return 0
        with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
            return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


class Doorbell:
    """Someone pressing the lock's doorbell many times (the lock's panel input through the gateway)."""

    def __init__(self, port: int, lock_serial: str) -> None:
        self.port = port
        self.lock = lock_serial

    async def press(self, times: int, per_second: float | None = None) -> None:
        """Publish ``times`` presses as QoS 1 commands (answers are not awaited: a burst); while the
        broker is away the presses wait for it (a press the gateway never hears queues no event)."""
        sent = 0
        while sent < times:
            try:
                async with aiomqtt.Client(
                    "127.0.0.1",
                    self.port,
                    username="hub",
                    password=HUB_PASSWORD,
                    identifier=f"faults-doorbell-{secrets.token_hex(3)}",
                ) as client:
                    while sent < times:
                        command = Command(target=self.lock, name="panel.input", args={"input": "doorbell"})
                        await client.publish(f"vakt/v1/{self.lock}/cmd", encode(command), qos=1, timeout=5)
                        sent += 1
                        if per_second:
                            await asyncio.sleep(1.0 / per_second)
            except aiomqtt.MqttError:
                await asyncio.sleep(0.3)


async def wait_until(predicate: Any, timeout: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(every)


async def wait_queued(gateway: GatewayProcess, since: int, count: int, timeout: float = 60.0) -> None:
    await wait_until(lambda: len(gateway.ledger(since)) >= count, timeout, f"{count} events queued")


@dataclass
class Tally:
    scenario: str
    produced: int
    stored: int
    lost: int
    duplicated: int

    def line(self) -> str:
        return (
            f"{self.scenario}: produced {self.produced}, stored {self.stored}, "
            f"lost {self.lost}, duplicated {self.duplicated}"
        )


async def settle_and_count(
    scenario: str, gateway: GatewayProcess, database: Database, since: int, timeout: float = 90.0
) -> Tally:
    """Wait until every queued event is in ``device_events`` and the outbox is empty; count them."""
    produced = gateway.ledger(since)
    assert len(set(produced)) == len(produced), "the gateway queued one event id twice"

    async def all_stored() -> bool:
        return set(produced) <= set(await database.stored_ids()) and gateway.pending() == 0

    with contextlib.suppress(AssertionError):
        await wait_until(all_stored, timeout, "every queued event stored", every=0.5)
    rows = await database.stored_ids()
    mine = [i for i in rows if i in set(produced)]
    tally = Tally(
        scenario,
        produced=len(produced),
        stored=len(set(mine)),
        lost=len(set(produced) - set(rows)),
        duplicated=len(mine) - len(set(mine)),
    )
    print(tally.line())
    report = os.environ.get("VAKT_FAULTS_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(tally.__dict__) + "\n")
    return tally


@contextlib.contextmanager
def running(*stoppers: Any) -> Iterator[None]:
    """Stop every process at the end, whatever happened (SIGTERM first, then SIGKILL)."""
    try:
        yield
    finally:
        for stop in stoppers:
            with contextlib.suppress(Exception):
                stop()
