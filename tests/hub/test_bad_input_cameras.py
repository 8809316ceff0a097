"""Issue 11: a camera added by URL that never answers is not dialed forever. The hub backs off (capped),
gives up after VAKT_MEDIA_RECONNECT_GIVE_UP_AFTER failures in a row with a clear ``stream_error``, and
dials again only when its owner asks (``POST /api/cameras/{id}/reconnect``). Real hub, real sockets."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.hub.conftest import Hub, Mosquitto, hub_settings, running_hub
from vakt.hub.routers import cameras

GIVE_UP_AFTER = 3


@pytest.fixture
async def hub(tmp_path: Path, mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hub]:
    monkeypatch.setenv("VAKT_MEDIA_RECONNECT_CAP_S", "0.5")
    monkeypatch.setenv("VAKT_MEDIA_RECONNECT_GIVE_UP_AFTER", str(GIVE_UP_AFTER))
    settings = hub_settings(tmp_path, mosquitto)
    async with running_hub(settings, mosquitto, services=[cameras.service]) as running:
        yield running


def _closed_port() -> int:
    with socket.socket() as s:  # bound then closed: nothing listens there, connections are refused
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _until(client: httpx.AsyncClient, url: str, check: Any, timeout: float = 30) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            body = (await client.get(url)).json()
            if check(body):
                return dict(body)
            await asyncio.sleep(0.2)


async def test_issue11_an_unanswering_camera_is_given_up_until_its_owner_reconnects(hub: Hub) -> None:
    _, token = await hub.user("alice")
    async with hub.client(token) as c:
        r = await c.post(
            "/api/cameras", json={"name": "Nowhere", "url": f"rtsp://127.0.0.1:{_closed_port()}/x"}
        )
        assert r.status_code == 201, r.text
        camera_id = r.json()["device_id"]
        url = f"/api/cameras/{camera_id}"
        body = await _until(c, url, lambda b: b["stream_error"] is not None)
        assert f"gave up after {GIVE_UP_AFTER} failed connections" in body["stream_error"]
        assert "refused" in body["stream_error"].lower()
        assert body["streaming"] is False and body["online"] is False
        supervisor = hub.app.state.cameras
        failures = supervisor.pipelines[camera_id].ingest.stats.failures
        assert failures == GIVE_UP_AFTER
        await asyncio.sleep(1.5)  # three more backoff periods: no new attempt
        assert supervisor.pipelines[camera_id].ingest.stats.failures == failures
        await supervisor.reconcile()  # the periodic reconcile does not revive it either
        assert (await c.get(url)).json()["stream_error"] is not None

        again = await c.post(f"{url}/reconnect")
        assert again.status_code == 200, again.text
        assert again.json()["stream_error"] is None  # dialing again
        await _until(c, url, lambda b: b["stream_error"] is not None)  # and, still refused, gives up again


async def test_issue11_only_the_owner_or_settings_may_reconnect(hub: Hub) -> None:
    _, alice = await hub.user("alice")
    _, mallory = await hub.user("mallory")
    async with hub.client(alice) as a, hub.client(mallory) as m:
        r = await a.post(
            "/api/cameras", json={"name": "Porch", "url": f"rtsp://127.0.0.1:{_closed_port()}/x"}
        )
        camera_id = r.json()["device_id"]
        assert (await m.post(f"/api/cameras/{camera_id}/reconnect")).status_code == 404
