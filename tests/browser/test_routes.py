"""The web app's hub routes against the running system: static files and SPA pages, panel inputs and the
talk WebSocket refusing bad input and missing permissions (A5, L3, C5.3)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.browser.conftest import PASSWORD, System

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def session(system: System, username: str) -> httpx.Client:
    client = httpx.Client(base_url=system.url, timeout=10)
    r = client.post("/api/auth/register", json={"username": username, "email": f"{username}@example.com",
                                                "password": PASSWORD})  # fmt: skip
    assert r.status_code in (201, 409), r.text
    r = client.post("/api/auth/login", json={"login": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return client


@pytest.fixture(scope="module")
def carol(system: System) -> Any:
    """An account of its own with the camera added (the QR can be added only once: use a fresh system's?)."""
    client = session(system, "carol")
    yield client
    client.close()


def test_static_files_and_spa_pages(system: System) -> None:
    with httpx.Client(base_url=system.url) as client:
        for page in ("/", "/signin", "/devices/7/history", "/live", "/notifications"):
            r = client.get(page)
            assert r.status_code == 200 and '<script type="module"' in r.text, page
        sw = client.get("/sw.js")
        assert sw.status_code == 200 and sw.headers["service-worker-allowed"] == "/"
        assert client.get("/static/js/main.js").headers["content-type"].startswith("text/javascript")
        for bad in ("/static/../../hub/app.py", "/static/%2e%2e/%2e%2e/hub/app.py", "/static/nope.js"):
            assert client.get(bad).status_code == 404, bad
        assert client.get("/api/devices").status_code == 401  # the API still needs a login


def test_panel_inputs_are_validated_and_need_settings(system: System, carol: httpx.Client) -> None:
    """Unknown inputs and bad keys are refused before reaching a device; others' devices are invisible."""
    owner = session(system, "alice")
    devices = {d["name"]: d for d in owner.get("/api/devices").json()}
    if "Front yard" not in devices:
        pytest.skip("the app tests did not add the devices")
    camera = devices["Front yard"]["id"]
    r = owner.post(f"/api/panels/{camera}/input", json={"input": "key", "value": "5"})
    assert r.status_code == 422 and "no input 'key'" in r.json()["detail"]
    r = owner.post(f"/api/panels/{camera}/input", json={"input": "reset_hold", "seconds": -1})
    assert r.status_code == 422
    r = owner.post(f"/api/panels/{camera}/input", json={"input": "sd_insert", "extra": 1})
    assert r.status_code == 422
    if "Front door" in devices:
        lock = devices["Front door"]["id"]
        r = owner.post(f"/api/panels/{lock}/input", json={"input": "key", "value": "A"})
        assert r.status_code == 422 and "0-9" in r.json()["detail"]
        r = owner.post(f"/api/panels/{lock}/input", json={"input": "keys", "value": "12x#"})
        assert r.status_code == 422
        panel = owner.get(f"/api/panels/{lock}").json()
        assert panel["kind"] == "lock" and "key" in panel["inputs"]
        assert carol.post(f"/api/panels/{lock}/input", json={"input": "touch"}).status_code == 404
    assert carol.get(f"/api/panels/{camera}").status_code == 404
    owner.close()


def _talk(system: System, client: httpx.Client, camera: int, payload: bytes) -> tuple[int | None, str]:
    """Open talk, send one message; returns (close code, first reply) or (HTTP status, "") if refused."""
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    url = system.url.replace("http", "ws") + f"/api/cameras/{camera}/talk"
    try:
        with connect(url, additional_headers={"Cookie": cookie}, open_timeout=10) as ws:
            ws.send(payload)
            reply = ws.recv(timeout=5)
            with contextlib.suppress(ConnectionClosed):
                ws.recv(timeout=5)
            return ws.close_code, str(reply)
    except InvalidStatus as exc:
        return exc.response.status_code, ""


def test_talk_refuses_odd_audio_and_users_without_talk(system: System, carol: httpx.Client) -> None:
    """C5.3/A5: audio must be s16le; a user who cannot see the camera cannot open talk."""
    owner = session(system, "alice")
    devices = {d["name"]: d for d in owner.get("/api/devices").json()}
    if "Front yard" not in devices:
        pytest.skip("the app tests did not add the devices")
    camera = devices["Front yard"]["id"]
    code, reply = _talk(system, owner, camera, b"\x00\x01\x02")
    assert code == 1003 and "s16le" in json.loads(reply)["error"]
    code, _ = _talk(system, carol, camera, b"\x00\x00")
    assert code == 404  # refused before the WebSocket opens, as a route would: carol cannot see it
    owner.close()
