"""``vakt demo`` as a user runs it: printed credentials, lock online, PIN unlock, Ctrl-C, restart."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from vakt.broker.embedded import free_port

pytestmark = pytest.mark.slow
VAKT = Path(sys.executable).with_name("vakt")


def _start(data: Path, port: int) -> tuple[subprocess.Popen[str], dict[str, str]]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    process = subprocess.Popen(
        [str(VAKT), "demo", "--data", str(data), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    printed: dict[str, str] = {}
    assert process.stdout is not None
    for line in process.stdout:
        if match := re.match(r"^(login|password|remote-unlock PIN): (\S+)", line.strip()):
            printed[match.group(1)] = match.group(2)
        if "vakt demo is running" in line:
            return process, printed
    raise AssertionError(f"vakt demo exited ({process.wait()}) before it was ready")


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0, out
    return out


async def _sign_in(url: str, printed: dict[str, str]) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=url, timeout=15)
    r = await client.post(
        "/api/auth/login", json={"login": printed["login"], "password": printed["password"]}
    )
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return client


async def _lock(client: httpx.AsyncClient) -> dict[str, object]:
    for _ in range(100):
        devices = (await client.get("/api/devices")).json()
        locks = [d for d in devices if d["kind"] == "lock" and d["online"] and d["locked"] is not None]
        if locks:
            return dict(locks[0])
        await asyncio.sleep(0.2)
    raise AssertionError(f"no online lock with state: {devices}")


async def _camera_snapshot(client: httpx.AsyncClient) -> bytes:
    """The demo's camera emulator is in the account, online, and the hub gets a picture from it."""
    response: httpx.Response | None = None
    for _ in range(150):
        devices = (await client.get("/api/devices")).json()
        cameras = [d for d in devices if d["kind"] == "camera" and d["online"]]
        if cameras:
            response = await client.get(f"/api/cameras/{cameras[0]['id']}/snapshot")
            if response.status_code == 200:
                return response.content
        await asyncio.sleep(0.2)
    raise AssertionError(f"no online camera with a snapshot: {devices} {response and response.text}")


async def test_demo_starts_signs_in_unlocks_with_pin_and_keeps_data_across_restart(tmp_path: Path) -> None:
    data, port = tmp_path / "data", free_port()
    url = f"http://127.0.0.1:{port}"
    process, printed = _start(data, port)
    try:
        assert printed.keys() == {"login", "password", "remote-unlock PIN"}
        client = await _sign_in(url, printed)
        lock = await _lock(client)
        assert lock["battery"] is not None and lock["rssi"] is not None  # A3
        assert (await _camera_snapshot(client)).startswith(b"\xff\xd8")  # a JPEG (C5.1)
        r = await client.post(f"/api/locks/{lock['id']}/unlock", json={"pin": "0" * 7})
        assert r.status_code == 403  # A7: the PIN challenge
        r = await client.post(f"/api/locks/{lock['id']}/unlock", json={"pin": printed["remote-unlock PIN"]})
        assert r.status_code == 200 and r.json()["result"]["motor"] == "unlocked"
        await client.patch(f"/api/devices/{lock['id']}", json={"name": "Back door"})
        await client.aclose()
    finally:
        output = _stop(process)
    assert "vakt demo stopped" in output
    process, again = _start(data, port)
    try:
        assert again == printed  # same account, same password
        client = await _sign_in(url, again)
        lock = await _lock(client)
        assert lock["name"] == "Back door"  # data kept
        log = (await client.get(f"/api/locks/{lock['id']}/log", params={"source": "Remote"})).json()
        assert any(e["operation"] == "Unlock" and e["user_name"] == "demo" for e in log)
        await client.aclose()
    finally:
        _stop(process)
