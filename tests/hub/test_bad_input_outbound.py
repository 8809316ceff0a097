"""Issue 11: URLs an account types never turn the hub against its own network, and push endpoints stay
with the account that registered them (real hub, real Mosquitto, SQLite)."""

from __future__ import annotations

import base64
import ipaddress
import os
import socket
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.alerts.conftest import camera_state, person_event, set_state
from tests.hub.conftest import Hub, Mosquitto, hub_settings, label, running_hub
from vakt.hub.models.alerts import PushSubscription, Webhook
from vakt.hub.outbound import RefusedDestination, check_camera_url, check_web_url


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _subscription(endpoint: str) -> dict[str, object]:
    point = b"\x04" + os.urandom(64)  # shape of an uncompressed P-256 point; the hub checks only lengths
    return {"endpoint": endpoint, "keys": {"p256dh": _b64(point), "auth": _b64(os.urandom(16))}}


PRIVATE_WEBHOOKS = (
    "http://127.0.0.1:8123/hook",
    "https://127.0.0.1/hook",
    "https://localhost/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://10.0.0.5/hook",
    "https://192.168.1.1/hook",
    "https://[::1]/hook",
    "https://[fe80::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "http://example.org/hook",
    "ftp://example.org/hook",
)


def _resolves_privately(name: str) -> bool:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except OSError:
        return False
    return bool(addresses) and all(not ipaddress.ip_address(a).is_global for a in addresses)


async def test_issue11_webhooks_need_https_to_a_public_host(hub: Hub) -> None:
    _, token = await hub.user("alice")
    async with hub.client(token) as c:
        for url in PRIVATE_WEBHOOKS:
            r = await c.put("/api/notifications/webhook", json={"url": url})
            assert r.status_code == 422, (url, r.text)
            assert r.json()["message"].startswith(("url:", "body.url")), r.json()
        # a name that resolves to a private address: this machine's own name (/etc/hosts or DNS)
        own = socket.gethostname()
        if _resolves_privately(own):
            r = await c.put("/api/notifications/webhook", json={"url": f"https://{own}/hook"})
            assert r.status_code == 422 and "private address" in r.json()["message"], r.text
        assert (await c.get("/api/notifications/webhook")).json() == {"url": None}  # nothing stored
        r = await c.put("/api/notifications/webhook", json={"url": "https://hooks.example.org/vakt"})
        assert r.status_code == 200, r.text
        assert r.json()["url"] == "https://hooks.example.org/vakt"


async def test_issue11_the_owner_may_allow_a_lan_receiver(tmp_path: Path, mosquitto: Mosquitto) -> None:
    settings = hub_settings(
        tmp_path, mosquitto, outbound_allowed_hosts=["nas.lan"], webhook_private_addresses=True
    )
    async with running_hub(settings, mosquitto) as hub:
        _, token = await hub.user("alice")
        async with hub.client(token) as c:
            for url in ("http://nas.lan:8123/hook", "https://192.168.1.20/hook"):
                assert (await c.put("/api/notifications/webhook", json={"url": url})).status_code == 200, url
            r = await c.put("/api/notifications/webhook", json={"url": "http://other.lan/hook"})
            assert r.status_code == 422 and "http" in r.json()["message"]


async def test_issue11_push_endpoints_need_https_and_belong_to_who_registered_them(hub: Hub) -> None:
    _, alice = await hub.user("alice")
    _, mallory = await hub.user("mallory")
    endpoint = "https://push.example.org/send/abc123"
    async with hub.client(alice) as a, hub.client(mallory) as m:
        for bad in ("http://push.example.org/send/x", "https://127.0.0.1/send/x", "https://10.1.2.3/x"):
            r = await a.post("/api/push/subscriptions", json=_subscription(bad))
            assert r.status_code == 422, (bad, r.text)
        first = await a.post("/api/push/subscriptions", json=_subscription(endpoint))
        assert first.status_code == 201, first.text
        # mallory learns the endpoint and posts it with her own keys: refused, alice keeps her alerts
        stolen = await m.post("/api/push/subscriptions", json=_subscription(endpoint))
        assert stolen.status_code == 409, stolen.text
        assert "another account" in stolen.json()["message"]
        gone = await m.request("DELETE", "/api/push/subscriptions", json={"endpoint": endpoint})
        assert gone.status_code == 404
        again = await a.post("/api/push/subscriptions", json=_subscription(endpoint))  # fresh keys: fine
        assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
        r = await a.request("DELETE", "/api/push/subscriptions", json={"endpoint": endpoint})
        assert r.status_code == 204
        # once alice unsubscribed, the endpoint is free for whoever signs in on that browser
        assert (await m.post("/api/push/subscriptions", json=_subscription(endpoint))).status_code == 201


async def test_issue11_camera_urls_refuse_addresses_no_camera_has(hub: Hub) -> None:
    _, token = await hub.user("alice")
    async with hub.client(token) as c:
        for url in (
            "rtsp://0.0.0.0:554/live",
            "rtsp://169.254.169.254:80/latest",
            "rtsp://224.0.0.1:554/live",
            "rtsp://255.255.255.255:554/live",
            "rtsp://[::]:554/live",
            "rtsp://127.0.0.1:99999/live",
            "rtsp://127.0.0.1:0/live",
            "rtsp://bad_host!:554/live",
            "http://127.0.0.1:554/live",
        ):
            r = await c.post("/api/cameras", json={"name": "Cam", "url": url})
            assert r.status_code == 422, (url, r.text)
            assert "url" in r.json()["message"], r.json()
        assert (await c.get("/api/devices")).json() == []  # nothing half-added
        ok = await c.post("/api/cameras", json={"name": "Cam", "url": "rtsp://user:pw@192.168.1.30:554/s0"})
        assert ok.status_code == 201, ok.text


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.example.org/x", True),
        ("https://8.8.8.8/x", True),
        ("https://100.64.0.1/x", False),  # carrier-grade NAT is not public
        ("https://[2001:db8::1]/x", False),  # documentation range
        ("https://foo.internal/x", False),
        ("https://printer.local/x", False),
    ],
)
def test_issue11_web_url_policy(url: str, allowed: bool) -> None:
    if allowed:
        check_web_url(url, frozenset(), private_ok=False)
    else:
        with pytest.raises(RefusedDestination):
            check_web_url(url, frozenset(), private_ok=False)


def test_issue11_camera_url_policy_allows_the_lan_and_loopback() -> None:
    for url in ("rtsp://127.0.0.1:8554/live", "rtsps://cam.lan/live", "rtsp://10.0.0.9/s1"):
        check_camera_url(url)


async def test_issue11_deliveries_check_the_destination_again(hub: Hub) -> None:
    """A name that resolved publicly when it was set may point inside later (DNS rebinding), and rows
    stored before this check existed were never checked: each delivery checks again, and refuses."""
    own = socket.gethostname()
    if not _resolves_privately(own):
        pytest.skip(f"{own} does not resolve to a private address here")
    _, token = await hub.user("alice")
    user_id = (await _me(hub, token))["id"]
    camera = await hub.add_device(token, label("camera"), name="Porch")
    await set_state(hub, camera["id"], camera_state())
    box = hub.app.state.broker_sync.box
    subscription = _subscription(f"https://{own}/push/1")
    async with hub.app.state.sessionmaker() as session:  # as if stored when the name was still public
        session.add(
            Webhook(user_id=user_id, url=f"https://{own}/hook", secret_encrypted=box.encrypt("s", "webhook"))
        )
        keys = subscription["keys"]
        assert isinstance(keys, dict)
        session.add(PushSubscription(user_id=user_id, endpoint=f"https://{own}/push/1", **keys))
        await session.commit()
    alerts = hub.app.state.alerts
    alerts.notifier.retry_delays = (0.01,)
    await alerts.person_started(camera["id"], person_event(), 1_700_000_000.0)
    await alerts.notifier.drain()
    async with hub.client(token) as c:
        item = (await c.get("/api/notifications")).json()["items"][0]
        deliveries = {
            d["channel"]: d for d in (await c.get(f"/api/notifications/{item['id']}/deliveries")).json()
        }
    assert deliveries["webhook"]["status"] == "failed" and "private address" in deliveries["webhook"]["error"]
    assert deliveries["push"]["status"] == "gone" and "refused" in deliveries["push"]["error"]
    async with hub.app.state.sessionmaker() as session:
        assert (await session.scalars(select(PushSubscription))).all() == []


async def _me(hub: Hub, token: str) -> dict[str, object]:
    async with hub.client(token) as c:
        return dict((await c.get("/api/auth/me")).json())
