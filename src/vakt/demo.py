"""``vakt demo``: the whole home on embedded defaults, in one process.

Components start in order (COMPONENTS) and stop in reverse: the embedded MQTT broker, the hub (API and
web app) on uvicorn, the demo account (created on first start, its password kept in the data folder),
one gateway emulator with its paired lock, one camera emulator streaming ``--video`` (or a generated
scene). Another area adds its part with one entry in COMPONENTS
(e.g. a camera emulator after the gateway); ``ctx.add_device`` puts a device in the demo account.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import string
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import typer
from pydantic import BaseModel, Field, SecretStr
from rich.console import Console
from rich.table import Table

from vakt.broker.accounts import BrokerAccounts
from vakt.broker.embedded import EmbeddedBroker, free_port
from vakt.files import private_files
from vakt.hub.app import create_app
from vakt.hub.server import serve
from vakt.hub.settings import HubSettings
from vakt.protocol import DeviceLabel

log = logging.getLogger(__name__)
DEMO_USER = "demo"


def _secret(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _serial(prefix: str) -> str:
    return prefix + secrets.token_hex(4).upper()


class DemoIdentity(BaseModel):
    """What the demo remembers in ``<data>/demo.json`` (0600): so a restart keeps the same home."""

    password: str
    unlock_pin: str
    hub_mqtt_password: str
    gateway: DeviceLabel
    lock: DeviceLabel
    # Older demo folders have no camera yet: one is made up for them on the next start.
    camera: DeviceLabel = Field(
        default_factory=lambda: DeviceLabel(serial=_serial("VC"), code=_secret(12), model="VC-300")
    )

    @classmethod
    def load_or_create(cls, path: Path) -> DemoIdentity:
        if path.exists():
            return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        identity = cls(
            password=_secret(16),
            unlock_pin=_secret(6, string.digits),
            hub_mqtt_password=_secret(32),
            gateway=DeviceLabel(serial=_serial("VG"), code=_secret(12), model="VG-1"),
            lock=DeviceLabel(serial=_serial("VL"), code=_secret(12), model="VL-100"),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(identity.model_dump_json(indent=2))
        os.replace(tmp, path)
        return identity


@dataclass
class DemoContext:
    data_dir: Path
    host: str
    port: int
    identity: DemoIdentity
    accounts: BrokerAccounts
    console: Console
    video: Path | None = None
    broker_port: int = 0
    token: str = ""
    rows: list[tuple[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def api(self) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)

    async def add_device(self, label: DeviceLabel, **body: Any) -> dict[str, Any]:
        """Put a device in the demo account unless it is there already; returns its API view."""
        async with self.api() as api:
            devices = (await api.get("/api/devices")).raise_for_status().json()
            for device in devices:
                if device["serial"] == label.serial:
                    return dict(device)
            response = await api.post("/api/devices", json={"qr": label.to_qr(), **body})
            if response.status_code != 201:
                raise RuntimeError(f"could not add {label.serial}: {response.text}")
            return dict(response.json())


Component = Callable[[DemoContext], AbstractAsyncContextManager[None]]


@contextlib.asynccontextmanager
async def broker_component(ctx: DemoContext) -> AsyncIterator[None]:
    async with EmbeddedBroker(ctx.accounts, port=free_port(), host="127.0.0.1") as broker:
        ctx.broker_port = broker.port
        ctx.rows.append(("MQTT broker (embedded amqtt)", f"mqtt://127.0.0.1:{broker.port}"))
        yield


@contextlib.asynccontextmanager
async def hub_component(ctx: DemoContext) -> AsyncIterator[None]:
    settings = HubSettings(
        data_dir=ctx.data_dir / "hub",
        mqtt_host="127.0.0.1",
        mqtt_port=ctx.broker_port,
        mqtt_username=ctx.accounts.hub_username,
        mqtt_password=SecretStr(ctx.identity.hub_mqtt_password),
    )
    app = create_app(settings, broker_accounts=ctx.accounts)
    async with serve(app, ctx.host, ctx.port):
        await app.state.mqtt.wait_connected(15)
        ctx.rows.append(("hub: API, web app", f"{ctx.url}  (OpenAPI {ctx.url}/docs)"))
        ctx.rows.append(("database (SQLite)", settings.database_url))
        yield


@contextlib.asynccontextmanager
async def account_component(ctx: DemoContext) -> AsyncIterator[None]:
    identity = ctx.identity
    async with ctx.api() as api:
        body = {"email": "demo@vakt.local", "username": DEMO_USER, "password": identity.password}
        created = await api.post("/api/auth/register", json=body)
        if created.status_code not in (201, 403, 409):  # 403: registration closed, the account exists
            raise RuntimeError(f"could not create the demo account: {created.text}")
        login = await api.post("/api/auth/login", json={"login": DEMO_USER, "password": identity.password})
        if login.status_code != 200:
            raise RuntimeError(f"could not sign in as {DEMO_USER}: {login.text}")
        ctx.token = login.json()["token"]
        if not login.json()["user"]["has_unlock_pin"]:
            pin = {"password": identity.password, "pin": identity.unlock_pin}
            (
                await api.put(
                    "/api/auth/unlock-pin", json=pin, headers={"Authorization": f"Bearer {ctx.token}"}
                )
            )
    gateway = await ctx.add_device(identity.gateway, name="Home gateway")
    await ctx.add_device(identity.lock, name="Front door", gateway_id=gateway["id"])
    yield


@contextlib.asynccontextmanager
async def gateway_component(ctx: DemoContext) -> AsyncIterator[None]:
    from vakt.gateway.config import GatewayConfig
    from vakt.gateway.service import Gateway

    identity = ctx.identity
    config = GatewayConfig(
        serial=identity.gateway.serial,
        code=identity.gateway.code,
        model=identity.gateway.model,
        mqtt_host="127.0.0.1",
        mqtt_port=ctx.broker_port,
        data_dir=ctx.data_dir / "gateway",
        lock_serial=identity.lock.serial,
        lock_code=identity.lock.code,
        lock_model=identity.lock.model,
    )
    async with Gateway(config):
        ctx.rows.append(("gateway emulator", f"{identity.gateway.serial} (QR {identity.gateway.to_qr()})"))
        ctx.rows.append(("lock emulator (paired)", f"{identity.lock.serial} (QR {identity.lock.to_qr()})"))
        yield


@contextlib.asynccontextmanager
async def camera_component(ctx: DemoContext) -> AsyncIterator[None]:
    from vakt.camera.config import CameraConfig
    from vakt.camera.emulator import CameraEmulator

    label = ctx.identity.camera
    await ctx.add_device(label, name="Garden camera")
    config = CameraConfig(
        serial=label.serial,
        code=label.code,
        model=label.model,
        video=ctx.video,
        rtsp_port=0,
        http_port=0,
        mqtt_host="127.0.0.1",
        mqtt_port=ctx.broker_port,
        data_dir=ctx.data_dir / "camera",
    )
    camera = CameraEmulator(config)
    await camera.start()
    try:
        source = str(ctx.video) if ctx.video else "generated scene"
        ctx.rows.append(("camera emulator", f"{label.serial}: {camera.rtsp_url('live')} ({source})"))
        yield
    finally:
        await camera.stop()


# The demo's parts, started in this order and stopped in reverse. One line per area.
COMPONENTS: list[tuple[str, Component]] = [
    ("MQTT broker", broker_component),
    ("hub", hub_component),
    ("demo account", account_component),
    ("gateway and lock", gateway_component),
    ("camera", camera_component),
]


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def default_data_dir() -> Path:
    local = Path("data")
    return local if local.is_dir() or os.access(Path.cwd(), os.W_OK) else Path.home() / ".local/share/vakt"


async def run_demo(
    data_dir: Path,
    port: int,
    host: str = "127.0.0.1",
    console: Console | None = None,
    video: Path | None = None,
) -> None:
    console = console or Console()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    identity = DemoIdentity.load_or_create(data_dir / "demo.json")
    ctx = DemoContext(
        data_dir=data_dir,
        host=host,
        port=port,
        identity=identity,
        accounts=BrokerAccounts.create(identity.hub_mqtt_password),
        console=console,
        video=video,
    )
    async with AsyncExitStack() as stack:
        for name, component in COMPONENTS:
            with console.status(f"starting {name} ..."):
                await stack.enter_async_context(component(ctx))
            console.print(f"[green]✓[/] {name}")
        _print_summary(ctx)
        await stop.wait()
        console.print("stopping ...")
    console.print("vakt demo stopped; data kept in", str(data_dir))


def _print_summary(ctx: DemoContext) -> None:
    table = Table(title="vakt demo", show_header=True, header_style="bold")
    table.add_column("what")
    table.add_column("where")
    for what, where in ctx.rows:
        table.add_row(what, where)
    table.add_row("data folder", str(ctx.data_dir.resolve()))
    ctx.console.print(table)
    # Plain lines, easy to copy (and to parse in tests).
    ctx.console.print(f"open {ctx.url}", soft_wrap=True)
    ctx.console.print(f"login: {DEMO_USER}", soft_wrap=True)
    ctx.console.print(f"password: {ctx.identity.password}", soft_wrap=True)
    ctx.console.print(f"remote-unlock PIN: {ctx.identity.unlock_pin}", soft_wrap=True)
    ctx.console.print("vakt demo is running; Ctrl-C stops it", soft_wrap=True)


def demo_command(
    data: Path | None = typer.Option(None, help="data folder (default ./data, else ~/.local/share/vakt)"),
    port: int = typer.Option(8000, help="port of the hub's API and web app"),
    host: str = typer.Option("127.0.0.1", help="address to serve on"),
    video: Path | None = typer.Option(
        None, help="video file the camera emulator streams in a loop (default: a generated scene)"
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="log what every part does"),
) -> None:
    """Run the whole home on embedded defaults: broker, hub, web app, gateway, lock and camera emulators."""
    private_files()
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("amqtt", "transitions", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING if not verbose else logging.INFO)
    if video is not None and not video.is_file():
        raise typer.BadParameter(f"no such video file: {video}", param_hint="--video")
    if not _port_free(host, port):
        message = f"{host}:{port} is in use (another vakt demo?); choose another"
        raise typer.BadParameter(message, param_hint="--port")
    asyncio.run(run_demo(data or default_data_dir(), port, host, video=video))
