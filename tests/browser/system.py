"""The whole system for the browser tests, in one process: embedded broker, hub + web app, an emulated
gateway with its lock and an emulated camera streaming a video file. Devices are not added to any account:
the tests add them through the web app by their QR payloads, as a person would.

Run: ``python -m tests.browser.system --data DIR --video FILE``; prints one JSON line when ready.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from pydantic import SecretStr

from vakt.broker.accounts import BrokerAccounts
from vakt.broker.embedded import EmbeddedBroker, free_port
from vakt.camera.config import CameraConfig
from vakt.camera.emulator import CameraEmulator
from vakt.hub.app import create_app
from vakt.hub.settings import HubSettings
from vakt.protocol import DeviceLabel

CAMERA = DeviceLabel(serial="VC3000TEST1", code="CAMCODE123", model="VC-300")
GATEWAY = DeviceLabel(serial="VG1000TEST1", code="GWCODE1234", model="VG-1")
LOCK = DeviceLabel(serial="VL1000TEST1", code="LOCKCODE12", model="VL-100")


async def power_on_when_added(accounts: BrokerAccounts, gateway: Any) -> None:
    """Power the gateway on once its lock is in the account (relay allowed by the broker).

    Works around a race (reported): a gateway that subscribes to its lock's topics before the hub has
    registered the lock is denied and does not subscribe again, so the lock never answers commands.
    """
    while accounts.device(LOCK.serial) is None or accounts.device(GATEWAY.serial) is None:
        await asyncio.sleep(0.1)
    await gateway.run()


def start_gateway(
    data: Path, broker_port: int, accounts: BrokerAccounts
) -> tuple[asyncio.Task[None] | None, str | None]:
    """The gateway emulator with its lock in range, paired at first start (G5)."""
    try:
        from vakt.gateway.config import GatewayConfig
        from vakt.gateway.service import Gateway
    except ImportError as exc:  # the gateway emulator has not landed in this tree
        return None, f"gateway emulator unavailable: {exc}"
    gateway = Gateway(
        GatewayConfig(
            serial=GATEWAY.serial,
            code=GATEWAY.code,
            mqtt_port=broker_port,
            data_dir=data / "gateway",
            lock_serial=LOCK.serial,
            lock_code=LOCK.code,
            pair_on_start=True,
        )
    )
    return asyncio.create_task(power_on_when_added(accounts, gateway)), None


async def run(data: Path, video: Path | None, port: int, cache: Path | None, models: Path | None) -> None:
    hub_password = secrets.token_urlsafe(16)
    accounts = BrokerAccounts.create(hub_password)
    broker = EmbeddedBroker(accounts)
    await broker.start()
    settings = HubSettings(
        data_dir=data / "hub",
        mqtt_port=broker.port,
        mqtt_password=SecretStr(hub_password),
        open_registration=True,  # the tests register alice, bob and carol without invites
        **({"models_dir": models} if models else {}),
    )
    app = create_app(settings, broker_accounts=accounts)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    hub_task = asyncio.create_task(server.serve())
    while not server.started:
        if hub_task.done():
            hub_task.result()
        await asyncio.sleep(0.05)
    camera = CameraEmulator(
        CameraConfig(
            serial=CAMERA.serial,
            code=CAMERA.code,
            video=video,
            rtsp_port=0,
            http_port=0,
            mqtt_host="127.0.0.1",
            mqtt_port=broker.port,
            data_dir=data / "camera",
            cache=cache,
            boot_seconds=0.2,
        )
    )
    await camera.start()
    gateway_task, gateway_error = start_gateway(data, broker.port, accounts)
    print(
        json.dumps(
            {
                "url": f"http://127.0.0.1:{port}",
                "camera_qr": CAMERA.to_qr(),
                "gateway_qr": GATEWAY.to_qr(),
                "lock_qr": LOCK.to_qr(),
                "camera_http": f"http://127.0.0.1:{camera.http.port if camera.http else 0}",
                "camera_code": CAMERA.code,
                "gateway_error": gateway_error,
            }
        ),
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    if gateway_task is not None:
        gateway_task.cancel()
        with contextlib.suppress(BaseException):
            await gateway_task
    await camera.stop()
    server.should_exit = True
    with contextlib.suppress(BaseException):
        await asyncio.wait_for(hub_task, 10)
    await broker.stop()


def launch(
    data: Path, video: Path, cache: Path, models: Path, log: Path
) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Start the system in a subprocess (logs to ``log``); returns it and its ready line."""
    repo = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "tests.browser.system", "--data", str(data), "--video", str(video),
               "--cache", str(cache), "--models", str(models)]  # fmt: skip
    with log.open("wb") as err:
        process = subprocess.Popen(command, cwd=repo, stdout=subprocess.PIPE, stderr=err)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(5)
        raise RuntimeError(f"the system did not start:\n{log.read_text()[-4000:]}")
    info: dict[str, Any] = json.loads(line)
    deadline = time.monotonic() + 20
    while httpx.get(info["url"] + "/api/health", timeout=2).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError("hub did not answer /api/health")
        time.sleep(0.2)
    return process, info


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--video", type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cache", type=Path, help="camera transcode cache, shared between runs")
    parser.add_argument("--models", type=Path, help="folder with the person detector model")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("amqtt", "transitions", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    asyncio.run(run(args.data, args.video, args.port or free_port(), args.cache, args.models))


if __name__ == "__main__":
    main()
