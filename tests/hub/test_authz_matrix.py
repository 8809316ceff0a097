"""A5, issue 11: every route and WebSocket of the hub, taken from the app's own route table, against the
owner, a share with each single permission, a share with none, an expired share, a stranger and nobody.

``PROBES`` is the specification: what each route needs, the device it is tried on, and a body that
passes the gate without doing harm (invalid, so an allowed caller gets 422). A route added without a
probe fails ``test_every_route_has_a_probe_and_declares_its_need``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import websockets
from fastapi.routing import iter_route_contexts
from sqlalchemy import update
from starlette.routing import BaseRoute

from tests.hub.conftest import Hub, Mosquitto, hub_settings, label, running_hub
from vakt.hub import authz
from vakt.hub.app import create_app
from vakt.hub.models.alerts import Notification, PersonEventRecord
from vakt.hub.models.cameras import Camera
from vakt.hub.models.devices import Device, Share
from vakt.hub.permissions import Permission
from vakt.hub.routers import live as live_router
from vakt.hub.settings import HubSettings

PERMS = [p.value for p in Permission]
SHARED = ["none", *[f"only_{p}" for p in PERMS], "expired"]  # each has a share of every device
ROLES = ["anonymous", "stranger", *SHARED, "owner"]  # owner last: its DELETE removes a device
WS = "WS"
INVALID = {"__not_a_field__": True}  # every body model refuses it (422) once the gate is passed


@dataclass
class World:
    hub: Hub
    devices: dict[str, int]  # camera, lock, gateway, spare
    tokens: dict[str, str]
    user_ids: dict[str, int]
    notifications: dict[str, int]  # role -> a notification of theirs with a camera snapshot
    person_event: int


@dataclass(frozen=True)
class Probe:
    need: str  # authz.PUBLIC, authz.SIGNED_IN, "any", a Permission value or "owner"
    device: str = "camera"  # whose id goes in {device_id}
    body: Any = None  # sent as JSON (None: no body)
    params: Callable[[World, str], dict[str, Any]] = field(default=lambda world, role: {})
    last: bool = False  # ends the caller's session: tried after every other probe
    hub_owner: bool = False  # only the hub's owner (its first account, here "stranger") gets through


def _notification(world: World, role: str) -> dict[str, Any]:
    return {"notification_id": world.notifications.get(role, 999999)}


def _person_event(world: World, role: str) -> dict[str, Any]:
    return {"event_id": world.person_event}


PUBLIC, SIGNED_IN = authz.PUBLIC, authz.SIGNED_IN
LIVE, HISTORY, TALK, UNLOCK, SETTINGS = PERMS[0], PERMS[1], PERMS[2], PERMS[3], PERMS[4]
assert [LIVE, HISTORY, TALK, UNLOCK, SETTINGS] == ["live_view", "history", "talk", "unlock", "settings"]

PROBES: dict[tuple[str, str], Probe] = {
    # the web app, documentation and health: no sign-in
    ("GET", "/openapi.json"): Probe(PUBLIC),
    ("GET", "/docs"): Probe(PUBLIC),
    ("GET", "/docs/oauth2-redirect"): Probe(PUBLIC),
    ("GET", "/redoc"): Probe(PUBLIC),
    ("GET", "/api/health"): Probe(PUBLIC),
    ("GET", "/"): Probe(PUBLIC),
    ("GET", "/signin"): Probe(PUBLIC),
    ("GET", "/register"): Probe(PUBLIC),
    ("GET", "/live"): Probe(PUBLIC),
    ("GET", "/notifications"): Probe(PUBLIC),
    ("GET", "/account"): Probe(PUBLIC),
    ("GET", "/devices/{rest:path}"): Probe(PUBLIC, params=lambda w, r: {"rest": "1"}),
    ("GET", "/sw.js"): Probe(PUBLIC),
    ("GET", "/manifest.webmanifest"): Probe(PUBLIC),
    ("GET", "/static/{path:path}"): Probe(PUBLIC, params=lambda w, r: {"path": "no-such-file.js"}),
    # accounts (A1)
    ("POST", "/api/auth/register"): Probe(PUBLIC, body=INVALID),
    ("POST", "/api/auth/login"): Probe(PUBLIC, body=INVALID),
    ("POST", "/api/auth/logout"): Probe(SIGNED_IN, last=True),
    ("GET", "/api/auth/me"): Probe(SIGNED_IN),
    ("GET", "/api/auth/sessions"): Probe(SIGNED_IN),
    ("DELETE", "/api/auth/sessions/{session_id}"): Probe(
        SIGNED_IN, params=lambda w, r: {"session_id": 999999}
    ),
    ("PUT", "/api/auth/unlock-pin"): Probe(SIGNED_IN, body=INVALID),
    ("PUT", "/api/auth/password"): Probe(SIGNED_IN, body=INVALID),
    ("POST", "/api/auth/sessions/sign-out-others"): Probe(SIGNED_IN),
    ("DELETE", "/api/auth/me"): Probe(SIGNED_IN, body=INVALID),
    ("POST", "/api/auth/invites"): Probe(SIGNED_IN, hub_owner=True),
    # devices and sharing (A2, A3, A5)
    ("GET", "/api/devices"): Probe(SIGNED_IN),
    ("POST", "/api/devices"): Probe(SIGNED_IN, body=INVALID),
    ("GET", "/api/devices/{device_id}"): Probe("any", "lock"),
    ("PATCH", "/api/devices/{device_id}"): Probe(SETTINGS, "lock", body=INVALID),
    ("GET", "/api/devices/{device_id}/about"): Probe("any", "lock"),
    ("POST", "/api/devices/{device_id}/pair"): Probe(SETTINGS, "lock"),
    ("DELETE", "/api/devices/{device_id}"): Probe("owner", "spare"),
    ("GET", "/api/devices/{device_id}/shares"): Probe("owner", "lock"),
    ("POST", "/api/devices/{device_id}/shares"): Probe("owner", "lock", body=INVALID),
    ("PATCH", "/api/devices/{device_id}/shares/{share_id}"): Probe(
        "owner", "lock", body=INVALID, params=lambda w, r: {"share_id": 999999}
    ),
    ("DELETE", "/api/devices/{device_id}/shares/{share_id}"): Probe(
        "owner", "lock", params=lambda w, r: {"share_id": 999999}
    ),
    ("GET", "/api/shares/received"): Probe(SIGNED_IN),
    # locks (A7)
    ("GET", "/api/locks/{device_id}"): Probe("any", "lock"),
    ("GET", "/api/locks/{device_id}/log"): Probe(HISTORY, "lock"),
    ("GET", "/api/locks/{device_id}/alarms"): Probe(HISTORY, "lock"),
    ("GET", "/api/locks/{device_id}/credentials"): Probe(SETTINGS, "lock"),
    ("POST", "/api/locks/{device_id}/credentials"): Probe(SETTINGS, "lock", body=INVALID),
    ("PATCH", "/api/locks/{device_id}/credentials/{credential_id}"): Probe(
        SETTINGS, "lock", body=INVALID, params=lambda w, r: {"credential_id": 999999}
    ),
    ("DELETE", "/api/locks/{device_id}/credentials/{credential_id}"): Probe(
        SETTINGS, "lock", params=lambda w, r: {"credential_id": 999999}
    ),
    ("POST", "/api/locks/{device_id}/unlock"): Probe(UNLOCK, "lock", body=INVALID),
    ("POST", "/api/locks/{device_id}/lock"): Probe(UNLOCK, "lock"),
    ("PUT", "/api/locks/{device_id}/operating-mode"): Probe(SETTINGS, "lock", body=INVALID),
    ("PUT", "/api/locks/{device_id}/volume"): Probe(SETTINGS, "lock", body=INVALID),
    ("POST", "/api/locks/{device_id}/restore"): Probe(SETTINGS, "lock", body=INVALID),
    # the emulated devices' physical panels (H4): the owner's alone
    ("GET", "/api/panels/{device_id}"): Probe("owner", "lock"),
    ("POST", "/api/panels/{device_id}/input"): Probe("owner", "lock", body=INVALID),
    # notifications, push, webhook, arming (A4, X4): the account's own
    ("GET", "/api/notifications"): Probe(SIGNED_IN),
    ("POST", "/api/notifications/{notification_id}/read"): Probe(
        SIGNED_IN, params=lambda w, r: {"notification_id": 999999}
    ),
    ("POST", "/api/notifications/read-all"): Probe(SIGNED_IN),
    ("DELETE", "/api/notifications/{notification_id}"): Probe(
        SIGNED_IN, params=lambda w, r: {"notification_id": 999999}
    ),
    ("GET", "/api/notifications/{notification_id}/deliveries"): Probe(
        SIGNED_IN, params=lambda w, r: {"notification_id": 999999}
    ),
    ("GET", "/api/notifications/{notification_id}/snapshot"): Probe(LIVE, params=_notification),
    ("GET", "/api/push/vapid-public-key"): Probe(SIGNED_IN),
    ("POST", "/api/push/subscriptions"): Probe(SIGNED_IN, body=INVALID),
    ("DELETE", "/api/push/subscriptions"): Probe(SIGNED_IN, body=INVALID),
    ("GET", "/api/notifications/webhook"): Probe(SIGNED_IN),
    ("PUT", "/api/notifications/webhook"): Probe(SIGNED_IN, body=INVALID),
    ("DELETE", "/api/notifications/webhook"): Probe(SIGNED_IN),
    ("GET", "/api/arming"): Probe(SIGNED_IN),
    ("PUT", "/api/arming"): Probe(SIGNED_IN, body=INVALID),
    # Home Assistant discovery (V3): the account's own setting
    ("GET", "/api/integrations/homeassistant"): Probe(SIGNED_IN),
    ("PUT", "/api/integrations/homeassistant"): Probe(SIGNED_IN, body=INVALID),
    ("GET", "/api/detection/status"): Probe(SIGNED_IN),
    ("GET", "/api/dead-letters"): Probe(SIGNED_IN),  # only the caller's own devices' (G7)
    ("GET", "/api/cameras/{device_id}/person-events"): Probe(HISTORY),
    ("GET", "/api/person-events/{event_id}/snapshot"): Probe(HISTORY, params=_person_event),
    # cameras (C5, C6, C9): controls that act on the camera need settings
    ("POST", "/api/cameras/{device_id}/active-defense"): Probe(SETTINGS, body={"seconds": 0}),
    ("DELETE", "/api/cameras/{device_id}/active-defense"): Probe(SETTINGS),
    ("POST", "/api/cameras"): Probe(SIGNED_IN, body=INVALID),
    ("GET", "/api/cameras/{device_id}"): Probe("any"),
    ("PATCH", "/api/cameras/{device_id}/recording-settings"): Probe(SETTINGS, body={"retention_days": -1}),
    ("PUT", "/api/cameras/{device_id}/definition"): Probe(LIVE, body=INVALID),
    ("GET", "/api/cameras/{device_id}/snapshot"): Probe(LIVE),
    ("POST", "/api/cameras/{device_id}/recording"): Probe(SETTINGS, body=INVALID),
    ("POST", "/api/cameras/{device_id}/record"): Probe(SETTINGS, body=INVALID),
    ("GET", "/api/cameras/{device_id}/settings"): Probe(SETTINGS),
    ("POST", "/api/cameras/{device_id}/reconnect"): Probe(SETTINGS),
    ("POST", "/api/cameras/{device_id}/restart"): Probe(SETTINGS),
    ("POST", "/api/cameras/{device_id}/storage/initialize"): Probe(SETTINGS),
    ("POST", "/api/cameras/{device_id}/wifi"): Probe(SETTINGS, body=INVALID),
    ("POST", "/api/cameras/probe"): Probe(SIGNED_IN, body=INVALID),
    ("PATCH", "/api/cameras/{device_id}/settings"): Probe(SETTINGS, body=["not", "an", "object"]),
    # history (C7.2)
    ("GET", "/api/cameras/{device_id}/history/calendar"): Probe(HISTORY),
    ("GET", "/api/cameras/{device_id}/history/timeline"): Probe(HISTORY),
    ("GET", "/api/cameras/{device_id}/history/playlist.m3u8"): Probe(HISTORY),
    ("GET", "/api/cameras/{device_id}/history/segments/{segment_id}.mp4"): Probe(
        HISTORY, params=lambda w, r: {"segment_id": 999999}
    ),
    ("GET", "/api/cameras/{device_id}/history/clip"): Probe(HISTORY),
    ("GET", "/api/cameras/{device_id}/history/snapshot"): Probe(HISTORY),
    # voice assistants (C11, issue 13): OAuth linking, the owner's client registrations, Alexa, Google
    ("GET", "/oauth/authorize"): Probe(PUBLIC),
    ("GET", "/api/oauth/authorize"): Probe(SIGNED_IN),
    ("POST", "/api/oauth/authorize"): Probe(SIGNED_IN, body=INVALID),
    ("POST", "/api/oauth/token"): Probe(PUBLIC),  # the assistant's server: client authentication
    ("POST", "/api/oauth/revoke"): Probe(PUBLIC),  # the assistant's server: client authentication
    ("GET", "/api/oauth/links"): Probe(SIGNED_IN),
    ("DELETE", "/api/oauth/links/{client_id}"): Probe(SIGNED_IN, params=lambda w, r: {"client_id": "none"}),
    ("GET", "/api/oauth/clients"): Probe(SIGNED_IN, hub_owner=True),
    ("POST", "/api/oauth/clients"): Probe(SIGNED_IN, body=INVALID, hub_owner=True),
    ("DELETE", "/api/oauth/clients/{client_id}"): Probe(
        SIGNED_IN, hub_owner=True, params=lambda w, r: {"client_id": "none"}
    ),
    ("POST", "/api/alexa/v3"): Probe(PUBLIC, body=INVALID),  # the OAuth token is in the directive
    ("GET", "/api/alexa/image/{token}"): Probe(PUBLIC, params=lambda w, r: {"token": "expired"}),
    ("POST", "/api/google/fulfillment"): Probe(PUBLIC, body=INVALID),  # the OAuth token as Bearer
    # Image Encryption (C6): turning it on/off and its password are settings; unlocking footage is history
    ("GET", "/api/cameras/{device_id}/encryption"): Probe(HISTORY),
    ("PUT", "/api/cameras/{device_id}/encryption"): Probe(SETTINGS, body=INVALID),
    ("POST", "/api/cameras/{device_id}/encryption/password"): Probe(SETTINGS, body=INVALID),
    ("POST", "/api/cameras/{device_id}/encryption/unlock"): Probe(HISTORY, body=INVALID),
    ("DELETE", "/api/cameras/{device_id}/encryption/unlock"): Probe(HISTORY),
    # WebSockets
    (WS, "/api/ws"): Probe(SIGNED_IN),
    (WS, "/api/cameras/{device_id}/live"): Probe(LIVE),
    (WS, "/api/cameras/{device_id}/talk"): Probe(TALK),
}


def app_routes(routes: list[BaseRoute]) -> dict[tuple[str, str], BaseRoute]:
    """(method or WS, path) -> route, for every route and WebSocket of the app (HEAD with its GET)."""
    found: dict[tuple[str, str], BaseRoute] = {}
    for context in iter_route_contexts(routes):
        route = context.original_route
        path = getattr(route, "path", None)
        methods = getattr(route, "methods", None)
        if path is None:
            continue
        for method in sorted(methods or {WS}):
            if method != "HEAD":
                found[(method, path)] = route
    return found


def test_every_route_has_a_probe_and_declares_its_need(tmp_path: Path) -> None:
    """A new route without a probe fails here; so does one whose declared need (vakt.hub.authz) differs
    from the table, or that checks access on its own instead of through the layer."""
    app = create_app(HubSettings(data_dir=tmp_path, mqtt_enabled=False))
    routes = app_routes(app.routes)
    missing = sorted(set(routes) - set(PROBES))
    stale = sorted(set(PROBES) - set(routes))
    assert not missing, f"routes with no entry in PROBES (say what each needs): {missing}"
    assert not stale, f"PROBES entries for routes that no longer exist: {stale}"
    wrong = {
        key: (authz.requirement_of(route), PROBES[key].need)
        for key, route in routes.items()
        if authz.requirement_of(route) != PROBES[key].need
    }
    assert not wrong, f"declared need differs from the table (declared, expected): {wrong}"


def expected(probe: Probe, role: str) -> str:
    """'ok' (through the gate), or the status the gate answers."""
    if probe.need == PUBLIC:
        return "ok"
    if role == "anonymous":
        return "401"
    if probe.need == SIGNED_IN:
        return "403" if probe.hub_owner and role != "stranger" else "ok"
    if role in ("stranger", "expired"):
        return "404"
    if role == "owner" or probe.need == "any":
        return "ok"
    if probe.need == "owner":
        return "403"
    return "ok" if role == f"only_{probe.need}" else "403"


def outcome(status: int, detail: str, hidden: set[str]) -> str:
    if status in (401, 403):
        return str(status)
    if status == 404 and detail in hidden:
        return "404"
    return "ok"


async def _world(hub: Hub) -> World:
    tokens: dict[str, str] = {}
    user_ids: dict[str, int] = {}
    for role in ROLES[1:]:
        user_ids[role], tokens[role] = await hub.user(role.replace("_", "-"))
    owner = tokens["owner"]
    gateway = await hub.add_device(owner, label("gateway"))
    devices = {
        "gateway": gateway["id"],
        "lock": (await hub.add_device(owner, label("lock"), gateway_id=gateway["id"]))["id"],
        "camera": (await hub.add_device(owner, label("camera")))["id"],
        "spare": (await hub.add_device(owner, label("gateway")))["id"],
    }
    async with hub.client(owner) as c:
        for role in SHARED:
            perms = {"none": [], "expired": PERMS}.get(role, [role.removeprefix("only_")])
            for device_id in devices.values():
                r = await c.post(
                    f"/api/devices/{device_id}/shares",
                    json={"user": role.replace("_", "-"), "permissions": perms},
                )
                assert r.status_code == 201, r.text
    camera_id = devices["camera"]
    async with hub.app.state.sessionmaker() as s:  # the API refuses a past expiry, so age it here
        await s.execute(
            update(Share)
            .where(Share.user_id == user_ids["expired"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        # the camera as an emulated one reports itself: its stream and its speaker's HTTP port
        camera = await s.get(Device, camera_id)
        assert camera is not None
        camera.state = {
            "emulated": True,
            "http": {"port": 9},
            "rtsp": {"main_url": "rtsp://127.0.0.1:9/live"},
        }
        s.add(Camera(device_id=camera_id, main_url="rtsp://127.0.0.1:9/live", emulated=True))
        event = PersonEventRecord(device_id=camera_id, started_at=datetime.now(UTC), score=0.9)
        s.add(event)
        notifications = {}
        for role in ROLES[1:]:
            row = Notification(
                user_id=user_ids[role],
                device_id=camera_id,
                kind="doorbell",
                title="Doorbell",
                data={"camera_id": camera_id, "snapshot": "no-such-snapshot.jpg"},
            )
            s.add(row)
            await s.flush()
            notifications[role] = row.id
        await s.commit()
        person_event = event.id
    hub.app.state.bus.invalidate()
    return World(hub, devices, tokens, user_ids, notifications, person_event)


@pytest.fixture
async def world(
    tmp_path: Path, mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    monkeypatch.setattr(live_router, "READY_TIMEOUT_S", 0.5)  # the test camera never streams
    settings = hub_settings(tmp_path, mosquitto, command_timeout_s=0.1)
    async with running_hub(settings, mosquitto) as hub:
        yield await _world(hub)


def _path(world: World, template: str, probe: Probe, role: str) -> str:
    values = {"device_id": world.devices[probe.device], **probe.params(world, role)}
    path = template
    for name, value in values.items():
        path = path.replace(f"{{{name}}}", str(value)).replace(f"{{{name}:path}}", str(value))
    assert "{" not in path, f"{template}: no value for a path parameter"
    return path


def _detail(content_type: str, body: bytes) -> str:
    """The ``detail`` of a JSON error body ("" when there is none or it is not text)."""
    if "json" not in content_type:
        return ""
    with contextlib.suppress(ValueError):
        parsed = json.loads(body)
        detail = parsed.get("detail", "") if isinstance(parsed, dict) else ""
        return detail if isinstance(detail, str) else ""
    return ""


async def _socket(world: World, path: str, token: str | None) -> tuple[int, str]:
    """(101, "") when the handshake is accepted, else the refusal's status and detail."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = world.hub.url.replace("http", "ws") + path
    try:
        async with websockets.connect(url, additional_headers=headers, open_timeout=10):
            return 101, ""
    except websockets.exceptions.InvalidStatus as exc:
        response = exc.response
        return response.status_code, _detail(response.headers.get("content-type", ""), response.body or b"")


async def test_a5_every_route_and_socket_for_every_role(world: World) -> None:
    """owner, a share with each single permission, a share with none, an expired share, a stranger and
    nobody, on every route and WebSocket: 401 / 404 (device hidden) / 403, or through the gate."""
    clients = {role: world.hub.client(world.tokens.get(role)) for role in ROLES}
    hidden = {f"device {d} not found" for d in world.devices.values()}
    hidden |= {f"person event {world.person_event} not found"}
    hidden |= {f"notification {n} not found" for n in world.notifications.values()}

    async def attempt(method: str, template: str, probe: Probe, role: str) -> str | None:
        path = _path(world, template, probe, role)
        if method == WS:
            status, detail = await _socket(world, path, world.tokens.get(role))
        else:
            r = await clients[role].request(
                method, path, **({} if probe.body is None else {"json": probe.body})
            )
            status, detail = r.status_code, _detail(r.headers.get("content-type", ""), r.content)
        got, want = outcome(status, detail, hidden), expected(probe, role)
        return None if got == want else f"{method} {template} as {role}: {status} {detail[:99]!r}, not {want}"

    failures: list[str | None] = []
    try:
        for (method, template), probe in sorted(PROBES.items(), key=lambda item: item[1].last):
            others = [attempt(method, template, probe, role) for role in ROLES if role != "owner"]
            failures += await asyncio.gather(*others)
            failures.append(await attempt(method, template, probe, "owner"))  # last: it may delete
    finally:
        for client in clients.values():
            await client.aclose()
    wrong = [f for f in failures if f is not None]
    assert not wrong, f"{len(wrong)} wrong answers:\n" + "\n".join(wrong)


async def test_h4_a_settings_share_cannot_open_the_door_through_a_panel(world: World) -> None:
    """Issue 11 H4: `settings` on the lock or on its gateway does not reach the knob, keypad or RESET."""
    async with world.hub.client(world.tokens["only_settings"]) as c:
        r = await c.post(f"/api/panels/{world.devices['lock']}/input", json={"input": "knob"})
        assert r.status_code == 403 and "owner" in r.json()["detail"]
        r = await c.post(
            f"/api/panels/{world.devices['gateway']}/input",
            json={"input": "knob", "device": "VL0000000001"},
        )
        assert r.status_code == 403 and "owner" in r.json()["detail"]
    async with world.hub.client(world.tokens["owner"]) as c:  # the owner passes (no emulator: 409)
        r = await c.post(f"/api/panels/{world.devices['lock']}/input", json={"input": "knob"})
        assert r.status_code == 409 and "not an emulator" in r.json()["detail"]


async def test_controls_need_settings_not_live_view(world: World) -> None:
    """Issue 11: a live-view-only share neither stops active defense nor starts a recording."""
    camera = world.devices["camera"]
    async with world.hub.client(world.tokens["only_live_view"]) as c:
        for method, path, body in (
            ("POST", f"/api/cameras/{camera}/active-defense", {"seconds": 5}),
            ("DELETE", f"/api/cameras/{camera}/active-defense", None),
            ("POST", f"/api/cameras/{camera}/record", {"on": True}),
            ("POST", f"/api/cameras/{camera}/recording", {"on": True}),
        ):
            r = await c.request(method, path, json=body)
            assert r.status_code == 403 and "'settings'" in r.json()["detail"], (method, path, r.text)


async def test_a5_socket_refusals_say_why_like_routes(world: World) -> None:
    """A refused WebSocket handshake carries the same status and words as a refused route."""
    camera = world.devices["camera"]
    for path in ("/api/ws", f"/api/cameras/{camera}/live", f"/api/cameras/{camera}/talk"):
        status, detail = await _socket(world, path, None)
        assert status == 401 and "sign in" in detail, path
        if "camera" in path:
            assert await _socket(world, path, world.tokens["stranger"]) == (404, f"device {camera} not found")
            status, detail = await _socket(world, path, world.tokens["none"])
            assert status == 403 and "permission" in detail, path


async def test_detection_status_lists_only_the_cameras_the_account_sees(world: World) -> None:
    """Issue 11 (low): /api/detection/status showed every camera of the hub to any account."""
    camera = str(world.devices["camera"])
    async with world.hub.client(world.tokens["owner"]) as c:
        deadline = asyncio.get_running_loop().time() + 20
        while camera not in (await c.get("/api/detection/status")).json()["cameras"]:
            assert asyncio.get_running_loop().time() < deadline, "the camera's analysis never started"
            await asyncio.sleep(0.2)
    for role, sees in (("stranger", False), ("expired", False), ("none", True)):
        async with world.hub.client(world.tokens[role]) as c:
            assert (camera in (await c.get("/api/detection/status")).json()["cameras"]) is sees, role
