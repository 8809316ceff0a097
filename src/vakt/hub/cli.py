"""``vakt hub``: run the hub alone against a configured broker and database (flags or VAKT_* variables)."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import typer
from pydantic import SecretStr, ValidationError
from rich.console import Console

from vakt.files import private_files
from vakt.hub.app import create_app
from vakt.hub.server import serve
from vakt.hub.settings import HubSettings


def hub_command(
    host: str = typer.Option("127.0.0.1", help="address to serve the API and web app on"),
    port: int = typer.Option(8000, help="port to serve on"),
    data: Path | None = typer.Option(None, help="data folder (default VAKT_DATA_DIR or ~/.local/share/vakt)"),
    database_url: str | None = typer.Option(None, help="SQLAlchemy URL, e.g. postgresql+asyncpg://..."),
    mqtt_host: str | None = typer.Option(None, help="MQTT broker host"),
    mqtt_port: int | None = typer.Option(None, help="MQTT broker port"),
    mqtt_password: str | None = typer.Option(
        None, envvar="VAKT_MQTT_PASSWORD", help="the hub's broker password"
    ),
    tls_cert: Path | None = typer.Option(
        None, "--tls-cert", envvar="VAKT_TLS_CERT", help="PEM certificate: serve HTTPS (with --tls-key)"
    ),
    tls_key: Path | None = typer.Option(
        None, "--tls-key", envvar="VAKT_TLS_KEY", help="PEM private key of --tls-cert"
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="debug logging"),
) -> None:
    """Run the hub (API, web app, device ingest) until Ctrl-C."""
    private_files()
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    overrides: dict[str, object] = {}
    for key, value in (
        ("data_dir", data),
        ("database_url", database_url),
        ("mqtt_host", mqtt_host),
        ("mqtt_port", mqtt_port),
        ("tls_cert", tls_cert),
        ("tls_key", tls_key),
    ):
        if value is not None:
            overrides[key] = value
    if mqtt_password is not None:
        overrides["mqtt_password"] = SecretStr(mqtt_password)
    try:
        settings = HubSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise typer.BadParameter("; ".join(str(e["msg"]) for e in exc.errors())) from None
    for path in (settings.tls_cert, settings.tls_key):
        if path is not None and not path.is_file():
            raise typer.BadParameter(f"no such file: {path}")
    asyncio.run(_run(settings, host, port))


async def _run(settings: HubSettings, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    console = Console()
    async with serve(create_app(settings), host, port, log_level="info"):
        scheme = "https" if settings.tls else "http"
        console.print(
            f"[bold green]vakt hub[/] on {scheme}://{host}:{port}  (broker {settings.mqtt_host}:"
            f"{settings.mqtt_port}, data {settings.data_dir})"
        )
        await stop.wait()
        console.print("stopping ...")
