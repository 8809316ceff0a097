"""``vakt gateway``: run one emulated gateway with one paired lock against an MQTT broker."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import typer

from vakt.files import private_files
from vakt.gateway.config import GatewayConfig
from vakt.gateway.radio import Placement
from vakt.protocol.qr import DeviceLabel


def gateway_command(
    serial: str = typer.Option(..., help="gateway serial (its MQTT username)"),
    code: str = typer.Option(..., help="gateway verification code (from its QR label)"),
    mqtt_host: str = typer.Option("127.0.0.1", help="MQTT broker host"),
    mqtt_port: int = typer.Option(1883, help="MQTT broker port"),
    mqtt_ca: Path | None = typer.Option(None, help="CA certificate: use TLS and verify the broker"),
    data: Path = typer.Option(..., help="data folder: outbox, pairing, lock firmware memory"),
    lock_serial: str | None = typer.Option(None, help="serial of the lock in radio range"),
    lock_code: str | None = typer.Option(None, help="verification code of that lock"),
    pair: bool = typer.Option(True, help="pair the lock at first start (else pair with gateway.pair, G5)"),
    network: str = typer.Option("wired", help="first power-on network: wired, wifi or none (G2)"),
    wifi_ssid: str | None = typer.Option(None, help="Wi-Fi network when --network wifi"),
    distance: float = typer.Option(3.0, help="metres between gateway and lock (G6)"),
    walls: int = typer.Option(0, help="walls between gateway and lock (G6)"),
    metal: int = typer.Option(0, help="metal obstacles between gateway and lock (G6)"),
    seed: int = typer.Option(0, help="radio model seed"),
    boot_seconds: float = typer.Option(2.0, help="seconds the LED ring stays solid orange at power-on (G1)"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="debug logging"),
) -> None:
    """Run the gateway emulator (G1-G7) until interrupted."""
    private_files()
    from vakt.gateway.service import run_forever

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = GatewayConfig(
            serial=serial,
            code=code,
            mqtt_host=mqtt_host,
            mqtt_port=mqtt_port,
            mqtt_ca=mqtt_ca,
            data_dir=data,
            lock_serial=lock_serial,
            lock_code=lock_code,
            pair_on_start=pair,
            network=network,
            wifi_ssid=wifi_ssid,
            placement=Placement(distance_m=distance, walls=walls, metal=metal),
            radio_seed=seed,
            boot_seconds=boot_seconds,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(
        f"gateway {serial}: broker {mqtt_host}:{mqtt_port}, data in {data}"
        + (f", lock {lock_serial}" if lock_serial else "")
    )
    typer.echo(f"QR label (G4): {DeviceLabel(serial=serial, code=code, model=config.model).to_qr()}")
    if lock_serial and lock_code:
        lock_label = DeviceLabel(serial=lock_serial, code=lock_code, model=config.lock_model)
        typer.echo(f"lock QR label: {lock_label.to_qr()}")
    try:
        asyncio.run(run_forever(config))
    except KeyboardInterrupt:
        typer.echo("gateway stopped")
