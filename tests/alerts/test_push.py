"""A4 Web Push: a real local HTTP server plays the push service; pywebpush encrypts for a fake browser
with a real P-256 key; failures are retried with backoff and recorded, 404/410 removes the subscription."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.alerts.conftest import Endpoint, FakeBrowser, Hub, camera_state, label, person_event, set_state
from vakt.hub.alerts.vapid import KEY_FILE, VapidKeys
from vakt.hub.models.alerts import PushSubscription


async def _camera_with_subscriber(hub: Hub, endpoint: str, browser: FakeBrowser) -> tuple[int, str]:
    _, token = await hub.user("alice")
    camera = await hub.add_device(token, label("camera"), name="Porch")
    await set_state(hub, camera["id"], camera_state())
    async with hub.client(token) as c:
        r = await c.post("/api/push/subscriptions", json=browser.subscription(endpoint))
        assert r.status_code == 201, r.text
    hub.app.state.alerts.notifier.retry_delays = (0.05, 0.1, 0.2)
    return camera["id"], token


async def _deliveries(hub: Hub, token: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    async with hub.client(token) as c:
        items = (await c.get("/api/notifications")).json()["items"]
        assert len(items) == 1
        r = await c.get(f"/api/notifications/{items[0]['id']}/deliveries")
        return items[0], r.json()


async def test_a4_push_is_retried_after_a_failure_then_delivered_encrypted(
    hub: Hub, endpoint_factory: Any
) -> None:
    push_service: Endpoint = endpoint_factory([503, 201])
    browser = FakeBrowser()
    camera_id, token = await _camera_with_subscriber(hub, f"{push_service.url}/push/abc", browser)
    await hub.app.state.alerts.person_started(camera_id, person_event(), 1_700_000_000.0)
    await hub.app.state.alerts.notifier.drain()

    notification, deliveries = await _deliveries(hub, token)
    push = [d for d in deliveries if d["channel"] == "push"]
    assert len(push) == 1 and push[0]["status"] == "sent" and push[0]["attempts"] == 2
    assert len(push_service.received) == 2
    sent = push_service.received[-1]
    assert sent.path == "/push/abc"
    assert sent.headers["content-encoding"] == "aes128gcm"
    assert sent.headers["authorization"].startswith("vapid t=")  # VAPID-signed (RFC 8292)
    payload = json.loads(browser.decrypt(sent.body))  # only the browser's private key opens it (RFC 8291)
    assert payload["id"] == notification["id"] and payload["kind"] == "person"
    assert payload["snapshot_url"].startswith("/api/person-events/")


async def test_a4_push_endpoint_gone_410_removes_the_subscription(hub: Hub, endpoint_factory: Any) -> None:
    push_service: Endpoint = endpoint_factory([410])
    camera_id, token = await _camera_with_subscriber(hub, f"{push_service.url}/push/gone", FakeBrowser())
    await hub.app.state.alerts.person_started(camera_id, person_event(), 1_700_000_000.0)
    await hub.app.state.alerts.notifier.drain()

    _, deliveries = await _deliveries(hub, token)
    push = [d for d in deliveries if d["channel"] == "push"]
    assert push[0]["status"] == "gone" and push[0]["attempts"] == 1
    assert len(push_service.received) == 1  # not retried
    async with hub.app.state.sessionmaker() as session:
        assert (await session.scalars(select(PushSubscription))).all() == []


async def test_a4_push_that_keeps_failing_is_recorded_failed_after_its_retries(
    hub: Hub, endpoint_factory: Any
) -> None:
    push_service: Endpoint = endpoint_factory([500])
    camera_id, token = await _camera_with_subscriber(hub, f"{push_service.url}/p", FakeBrowser())
    await hub.app.state.alerts.person_started(camera_id, person_event(), 1_700_000_000.0)
    await hub.app.state.alerts.notifier.drain()
    _, deliveries = await _deliveries(hub, token)
    push = [d for d in deliveries if d["channel"] == "push"]
    assert push[0]["status"] == "failed" and push[0]["attempts"] == 4 and "500" in push[0]["error"]
    assert len(push_service.received) == 4
    async with hub.app.state.sessionmaker() as session:
        assert len((await session.scalars(select(PushSubscription))).all()) == 1  # kept: may recover


async def test_push_subscription_api_checks_input_and_ownership(hub: Hub) -> None:
    _, alice = await hub.user("alice")
    _, bob = await hub.user("bob")
    sub = FakeBrowser().subscription("https://push.example.org/send/1")
    async with hub.client() as anonymous:
        assert (await anonymous.post("/api/push/subscriptions", json=sub)).status_code == 401
        assert (await anonymous.get("/api/push/vapid-public-key")).status_code == 401
    async with hub.client(alice) as c:
        key = (await c.get("/api/push/vapid-public-key")).json()["public_key"]
        assert len(key) == 87  # base64url of a 65-byte uncompressed P-256 point
        bad = {**sub, "keys": {**sub["keys"], "p256dh": "c2hvcnQ"}}
        assert (await c.post("/api/push/subscriptions", json=bad)).status_code == 422
        assert (
            await c.post("/api/push/subscriptions", json={**sub, "endpoint": "not a url"})
        ).status_code == 422
        assert (await c.post("/api/push/subscriptions", json=sub)).status_code == 201
    async with hub.client(bob) as c:
        r = await c.request("DELETE", "/api/push/subscriptions", json={"endpoint": sub["endpoint"]})
        assert r.status_code == 404  # not bob's
    async with hub.client(alice) as c:
        r = await c.request("DELETE", "/api/push/subscriptions", json={"endpoint": sub["endpoint"]})
        assert r.status_code == 204


def test_vapid_keys_are_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = VapidKeys.load_or_create(tmp_path)
    again = VapidKeys.load_or_create(tmp_path)
    assert first.public_key == again.public_key
    assert stat.S_IMODE(os.stat(tmp_path / KEY_FILE).st_mode) == 0o600
