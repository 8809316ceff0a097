"""Alert latency through the real hub: embedded MQTT broker, the hub (uvicorn), the camera emulator
streaming a video in real time over RTSP; from the moment the frame in which a person first appears is
played by the camera to the WebSocket notification received by a signed-in client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import tempfile
import time
from pathlib import Path

import httpx
import uvicorn
import websockets
from pydantic import SecretStr

from vakt.broker.accounts import BrokerAccounts
from vakt.broker.embedded import EmbeddedBroker, free_port
from vakt.camera.config import CameraConfig
from vakt.camera.emulator import CameraEmulator
from vakt.hub.app import create_app
from vakt.hub.settings import HubSettings
from vakt.protocol import DeviceLabel

CAMERA = DeviceLabel(serial="VC3000BENCH1", code="BENCHCODE1", model="VC-300")


async def measure(video: Path, models_dir: Path, appearances: list[float], seconds: float) -> list[float]:
    """Latencies (s) of the person notifications seen during ``seconds`` of streaming ``video``;
    ``appearances`` are the clip times at which a person first appears (per the naive baseline)."""
    with tempfile.TemporaryDirectory(prefix="vakt-bench-") as tmp:
        data = Path(tmp)
        password = secrets.token_urlsafe(16)
        accounts = BrokerAccounts.create(password)
        broker = EmbeddedBroker(accounts)
        await broker.start()
        settings = HubSettings(
            data_dir=data / "hub",
            mqtt_port=broker.port,
            mqtt_password=SecretStr(password),
            models_dir=models_dir,
            alert_cooldown_s=0,  # every person event is a latency sample
        )
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings, broker_accounts=accounts), port=port, log_level="warning")
        )
        hub = asyncio.create_task(server.serve())
        camera: CameraEmulator | None = None
        try:
            while not server.started:
                await asyncio.sleep(0.05)
            url = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=url, timeout=15) as client:
                body = {
                    "email": "bench@example.org",
                    "username": "bench",
                    "password": "correct horse battery",
                }
                await client.post("/api/auth/register", json=body)
                login = await client.post(
                    "/api/auth/login", json={"login": "bench", "password": body["password"]}
                )
                token = login.json()["token"]
                client.headers["Authorization"] = f"Bearer {token}"
                added = await client.post("/api/devices", json={"qr": CAMERA.to_qr()})
                added.raise_for_status()
            async with websockets.connect(f"ws://127.0.0.1:{port}/api/ws?token={token}") as ws:
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
                        boot_seconds=0.2,
                    )
                )
                await camera.start()
                stream = camera.streams["sub"]
                received = await _notifications(ws, seconds)
                return _latencies(received, stream.started_at, stream.clip.duration, appearances)
        finally:
            if camera is not None:
                await camera.stop()
            server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(hub, 15)
            await broker.stop()


async def _notifications(ws: websockets.ClientConnection, seconds: float) -> list[float]:
    """Monotonic receive times of person notifications."""
    times: list[float] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            break
        if message.get("type") == "notification" and message["notification"]["kind"] == "person":
            times.append(time.monotonic())
    return times


def _latencies(
    received: list[float], started_at: float, duration: float, appearances: list[float]
) -> list[float]:
    """For each notification, the time since the latest person appearance the camera had played."""
    out = []
    for at in received:
        played = (at - started_at) % duration
        before = [played - t for t in appearances if 0 <= played - t < 5.0]
        if before:
            out.append(min(before))
    return out
