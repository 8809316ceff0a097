"""``vakt hub``: the hub alone against a configured broker and database, stopped cleanly by SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import websockets

from tests.hub.conftest import HUB_PASSWORD, Mosquitto
from vakt.broker.embedded import free_port

VAKT = Path(sys.executable).with_name("vakt")


def test_vakt_hub_serves_with_broker_and_database_from_flags_and_env(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    port = free_port()
    env = {**os.environ, "VAKT_MQTT_PASSWORD": HUB_PASSWORD, "VAKT_ARGON2_MEMORY_KIB": "1024"}
    command = [
        str(VAKT),
        "hub",
        "--port",
        str(port),
        "--data",
        str(tmp_path / "data"),
        "--mqtt-port",
        str(mosquitto.port),
        "--database-url",
        f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        health = None
        for _ in range(150):
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).json()
                if health["mqtt"]:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        assert health is not None
        assert {k: health[k] for k in ("status", "database", "mqtt")} == {
            "status": "ok",
            "database": True,
            "mqtt": True,
        }
        assert health["broker"]["authorized"] is True  # let in as the hub (issue 11)
        assert health["ingest"] == {"state": "ok", "reason": None, "waiting": 0}
        assert (tmp_path / "hub.db").exists()
        url = f"http://127.0.0.1:{port}"
        user = {"email": "a@example.org", "username": "alice", "password": "correct horse battery"}
        assert httpx.post(f"{url}/api/auth/register", json=user).status_code == 201
        token = httpx.post(
            f"{url}/api/auth/login", json={"login": "alice", "password": user["password"]}
        ).json()["token"]
        asyncio.run(_open_websocket(f"ws://127.0.0.1:{port}/api/ws?token={token}"))
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0, out
    assert "WebSocket /api/ws?token=***" in out and token not in out  # tokens never reach the logs


async def _open_websocket(url: str) -> None:
    async with websockets.connect(url) as ws:
        assert "hello" in await ws.recv()
