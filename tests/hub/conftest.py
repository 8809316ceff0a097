"""Hub test fixtures: a private Mosquitto with generated accounts, real databases, a real uvicorn hub."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from vakt.broker import mosquitto as mosquitto_config
from vakt.broker.accounts import BrokerAccounts
from vakt.broker.embedded import free_port
from vakt.broker.mosquitto import write_mosquitto_files
from vakt.hub import broker_sync
from vakt.hub.app import create_app
from vakt.hub.settings import HubSettings
from vakt.protocol import DeviceLabel

PG_DSN = "postgresql://postgres@127.0.0.1:5432"
HUB_PASSWORD = "hub-test-password"


@dataclass
class Mosquitto:
    port: int
    directory: Path
    pid_file: Path
    accounts_file: Path


def _shared_broker_files(
    accounts: BrokerAccounts, directory: Path, port: int, *args: Any, **kwargs: Any
) -> Path:
    conf = write_mosquitto_files(accounts, directory, port, *args, **kwargs)
    text = conf.read_text().replace("persistence true", "persistence false")
    conf.write_text(
        text.replace(
            f"max_queued_messages {mosquitto_config.MAX_QUEUED_MESSAGES}", "max_queued_messages 1000"
        )
    )
    return conf


@pytest.fixture(scope="module")  # a fresh broker per module: sessions left behind do not pile up
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A private Mosquitto on a free port; the hub regenerates its passwd/ACL and SIGHUPs it (A2)."""
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed")
    directory = tmp_path_factory.mktemp("mosquitto")
    port = free_port()
    # Shared by hundreds of tests, each leaving a hub session behind: unbounded persistent queues for all
    # of them slow this broker to a crawl. The production config (persistence, no queue limit) is used
    # by tests/faults, each with a broker of its own.
    patch = pytest.MonkeyPatch()
    patch.setattr(broker_sync, "write_mosquitto_files", _shared_broker_files)
    accounts = BrokerAccounts.create(HUB_PASSWORD)
    accounts_file = directory / "accounts.json"
    accounts.save(accounts_file)
    conf = _shared_broker_files(accounts, directory, port)
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    process = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    pid_file = directory / "mosquitto.pid"
    pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + 10
    import socket

    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            break
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"mosquitto did not start: {process.stderr.read() if process.stderr else ''}")
        time.sleep(0.05)
    yield Mosquitto(port, directory, pid_file, accounts_file)
    process.terminate()
    process.wait(10)
    patch.undo()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    name = f"vakt_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(f"{PG_DSN}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Storage tests run on both databases (same code)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
        return
    base = request.getfixturevalue("postgres_url")
    # A schema per test would need search_path plumbing; a database per test is simple and quick enough.
    name = f"{base.rsplit('/', 1)[1]}_{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(f"{PG_DSN}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def hub_settings(
    tmp_path: Path, mosquitto: Mosquitto, database_url: str | None = None, **extra: Any
) -> HubSettings:
    return HubSettings(
        data_dir=tmp_path / "data",
        database_url=database_url or "",
        mqtt_host="127.0.0.1",
        mqtt_port=mosquitto.port,
        mqtt_username="hub",
        mqtt_password=SecretStr(HUB_PASSWORD),
        broker_accounts_file=mosquitto.accounts_file,
        mosquitto_dir=mosquitto.directory,
        mosquitto_pid_file=mosquitto.pid_file,
        # quick hashes (same algorithm); many tests register several accounts without invites
        **({"argon2_time_cost": 1, "argon2_memory_kib": 1024, "open_registration": True} | extra),
    )


class Hub:
    """A running hub (uvicorn on a free port) and helpers to talk to it as different users."""

    def __init__(self, app: Any, port: int, mosquitto: Mosquitto) -> None:
        self.app = app
        self.port = port
        self.mosquitto = mosquitto
        self.url = f"http://127.0.0.1:{port}"

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=15)

    async def user(self, name: str, password: str = "correct horse battery") -> tuple[int, str]:
        """Register and sign in ``name``; returns (user id, token)."""
        async with self.client() as c:
            r = await c.post(
                "/api/auth/register",
                json={"email": f"{name}@example.org", "username": name, "password": password},
            )
            assert r.status_code == 201, r.text
            r = await c.post("/api/auth/login", json={"login": name, "password": password})
            assert r.status_code == 200, r.text
            return r.json()["user"]["id"], r.json()["token"]

    async def add_device(self, token: str, label: DeviceLabel, **body: Any) -> dict[str, Any]:
        async with self.client(token) as c:
            r = await c.post("/api/devices", json={"qr": label.to_qr(), **body})
            assert r.status_code == 201, r.text
            return dict(r.json())


@contextlib.asynccontextmanager
async def running_hub(settings: HubSettings, mosquitto: Mosquitto, **kwargs: Any) -> AsyncIterator[Hub]:
    app = create_app(settings, **kwargs)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        hub = Hub(app, port, mosquitto)
        if settings.mqtt_enabled:
            await app.state.mqtt.wait_connected(10)
        yield hub
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


@pytest.fixture
async def hub(tmp_path: Path, mosquitto: Mosquitto) -> AsyncIterator[Hub]:
    async with running_hub(hub_settings(tmp_path, mosquitto), mosquitto) as running:
        yield running


def label(kind: str = "lock") -> DeviceLabel:
    model = {"lock": "VL-100", "gateway": "VG-1", "camera": "VC-1"}[kind]
    return DeviceLabel(
        serial=f"{model[:2]}{secrets.token_hex(5).upper()}", code=secrets.token_hex(8), model=model
    )
