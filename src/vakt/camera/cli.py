"""``vakt camera``: run one emulated camera (RTSP + HTTP, optionally the MQTT control plane)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from urllib.parse import urlsplit

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.logging import RichHandler

from vakt.camera.config import CameraConfig
from vakt.camera.emulator import CameraEmulator
from vakt.camera.source import SourceError


def camera(
    video: Path | None = typer.Option(
        None, "--video", help="H.264/any video file to loop; default: generated scene"
    ),
    rtsp_port: int = typer.Option(8554, "--rtsp-port", help="RTSP port (0: any free port)"),
    http_port: int = typer.Option(8080, "--http-port", help="snapshot/speaker/panel HTTP port (0: any free)"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    public_host: str | None = typer.Option(None, "--public-host", help="address the hub should use (URLs)"),
    serial: str = typer.Option("VC30000001", "--serial", help="serial number"),
    code: str = typer.Option("ABCDEF", "--code", help="verification code (RTSP password of user admin)"),
    mqtt_host: str | None = typer.Option(None, "--mqtt-host", help="broker host; omit for RTSP only"),
    mqtt_port: int = typer.Option(1883, "--mqtt-port"),
    mqtt_password: str | None = typer.Option(None, "--mqtt-password", help="default: derived from the code"),
    data: Path = typer.Option(Path("camera-data"), "--data", help="SD card, speaker files, settings, cache"),
    motion: bool = typer.Option(True, "--motion/--no-motion", help="own motion detection, SD clips (C4.3)"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Run an emulated security camera: rtsp://admin:<code>@HOST:PORT/live (and /sub)."""
    console = Console(stderr=True)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
    )
    try:
        config = CameraConfig(
            serial=serial, code=code, video=video, host=host, public_host=public_host, rtsp_port=rtsp_port,
            http_port=http_port,
            mqtt_host=mqtt_host, mqtt_port=mqtt_port, mqtt_password=mqtt_password, data_dir=data,
            motion_detection=motion,
        )  # fmt: skip
    except ValidationError as exc:
        first = exc.errors()[0]
        console.print(f"[red]invalid option {first['loc'][0]}:[/] {first['msg']}")
        raise typer.Exit(2) from None

    async def run() -> None:
        emulator = CameraEmulator(config)
        try:
            with console.status("starting the camera (preparing streams, first run may transcode)..."):
                await emulator.start()
        except (SourceError, OSError) as exc:
            await emulator.stop()
            console.print(f"[red]cannot start the camera:[/] {exc}")
            raise typer.Exit(2) from None
        try:
            console.print(f"[bold green]camera {serial}[/] main {emulator.rtsp_url('live', True)}")
            console.print(f"  sub-stream {emulator.rtsp_url('sub', True)}")
            if emulator.http is not None:
                shown = urlsplit(emulator.rtsp_url()).hostname
                console.print(f"  snapshot   http://admin:{code}@{shown}:{emulator.http.port}/snapshot.jpg")
            console.print("  MQTT " + (f"{mqtt_host}:{mqtt_port}" if mqtt_host else "off (RTSP only)"))
            await asyncio.Event().wait()
        finally:
            await emulator.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
