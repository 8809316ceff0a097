"""A4 notifications in the hub: who receives them (A5 permissions), at once over the WebSocket, with the
snapshot taken at detection time; Alarm/Offline Notification settings (C6); arming modes (X4); lock alarms;
the in-app list with paging and read marks; the signed webhook."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import websockets
from sqlalchemy import select

from tests.alerts.conftest import Endpoint, Hub, camera_state, label, person_event, set_state
from tests.hub.conftest import Mosquitto, hub_settings, running_hub
from vakt.hub.alerts.notifier import Alert
from vakt.hub.models.alerts import NotificationKind
from vakt.hub.models.cameras import Segment
from vakt.hub.models.devices import Device
from vakt.protocol import Event

ORIGIN = 1_700_000_000.0


async def _share(hub: Hub, owner: str, device_id: int, user: str, permissions: list[str]) -> None:
    async with hub.client(owner) as c:
        r = await c.post(f"/api/devices/{device_id}/shares", json={"user": user, "permissions": permissions})
        assert r.status_code == 201, r.text


async def _items(hub: Hub, token: str) -> list[dict[str, Any]]:
    async with hub.client(token) as c:
        r = await c.get("/api/notifications")
        assert r.status_code == 200, r.text
        return list(r.json()["items"])


async def _camera(hub: Hub, token: str, **settings: Any) -> int:
    camera = await hub.add_device(token, label("camera"), name="Porch")
    await set_state(hub, camera["id"], camera_state(**settings))
    return int(camera["id"])


async def test_a4_person_alert_reaches_owner_and_live_view_shares_only_at_once_with_snapshot(
    hub: Hub,
) -> None:
    _, owner = await hub.user("alice")
    _, viewer = await hub.user("bob")
    _, historian = await hub.user("carol")
    _, stranger = await hub.user("mallory")
    camera_id = await _camera(hub, owner)
    await _share(hub, owner, camera_id, "bob", ["live_view"])
    await _share(hub, owner, camera_id, "carol", ["history"])

    ws_url = hub.url.replace("http", "ws") + "/api/ws"
    async with websockets.connect(f"{ws_url}?token={owner}") as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        event_id = await hub.app.state.alerts.person_started(camera_id, person_event(), ORIGIN)
        messages = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(2)]
    by_type = {m["type"]: m for m in messages}
    assert by_type["person.event"]["event"]["id"] == event_id
    pushed = by_type["notification"]["notification"]
    assert pushed["kind"] == "person" and pushed["snapshot_url"] == f"/api/person-events/{event_id}/snapshot"

    assert [n["kind"] for n in await _items(hub, owner)] == ["person"]
    assert [n["kind"] for n in await _items(hub, viewer)] == ["person"]
    assert await _items(hub, historian) == []  # no live_view: no person alerts
    assert await _items(hub, stranger) == []

    async with hub.client(owner) as c:
        r = await c.get(pushed["snapshot_url"])
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        assert (
            r.content[:2] == b"\xff\xd8" and r.content == person_event().snapshot_jpeg
        )  # the detection frame
    async with hub.client(viewer) as c:  # the alert went to live_view: its snapshot too
        assert (await c.get(pushed["snapshot_url"])).status_code == 200
    async with hub.client(historian) as c:  # history, but this stream's clock says 2023: before the share
        r = await c.get(pushed["snapshot_url"])
        assert r.status_code == 403 and "before the share began" in r.json()["detail"]
    async with hub.client(stranger) as c:
        assert (await c.get(pushed["snapshot_url"])).status_code == 404
    async with hub.client() as c:
        assert (await c.get(pushed["snapshot_url"])).status_code == 401


async def test_c6_alarm_notification_off_silences_the_camera_but_keeps_the_event(hub: Hub) -> None:
    _, owner = await hub.user("alice")
    camera_id = await _camera(hub, owner, alarm_notification=False)
    event_id = await hub.app.state.alerts.person_started(camera_id, person_event(), ORIGIN)
    assert await _items(hub, owner) == []
    async with hub.client(owner) as c:
        events = (await c.get(f"/api/cameras/{camera_id}/person-events")).json()
    assert [e["id"] for e in events] == [event_id]


async def test_x4_arming_modes_decide_who_is_notified(hub: Hub) -> None:
    _, owner = await hub.user("alice")
    camera_id = await _camera(hub, owner)
    async with hub.client(owner) as c:
        assert (await c.get("/api/arming")).json()["mode"] == "away"
        assert (await c.put("/api/arming", json={"mode": "home"})).json()["mode"] == "home"
        assert (await c.put("/api/arming", json={"mode": "party"})).status_code == 422
    await hub.app.state.alerts.person_started(camera_id, person_event(), ORIGIN)
    assert await _items(hub, owner) == []  # Home: people at home are not news
    assert not hub.app.state.alerts.defense.is_automatic(camera_id)
    async with hub.client(owner) as c:
        await c.put("/api/arming", json={"mode": "sleep"})
    await hub.app.state.alerts.person_started(camera_id, person_event(), ORIGIN)
    assert [n["kind"] for n in await _items(hub, owner)] == ["person"]
    assert hub.app.state.alerts.defense.is_automatic(camera_id)  # outdoor camera at night: deter
    await hub.app.state.alerts.defense.close()


async def _device(hub: Hub, device_id: int) -> Device:
    async with hub.app.state.sessionmaker() as session:
        device = await session.get(Device, device_id)
        assert device is not None
        return device


async def test_a4_lock_alarms_doorbell_and_low_battery_notify(hub: Hub) -> None:
    _, owner = await hub.user("alice")
    gateway = await hub.add_device(owner, label("gateway"))
    lock = await hub.add_device(owner, label("lock"), name="Front door", gateway_id=gateway["id"])
    device = await _device(hub, lock["id"])
    alerts = hub.app.state.alerts.device_alerts
    await alerts.on_event(
        device,
        Event(
            source=device.serial,
            type="DoorLockAlarm",
            data={"alarm_code": "WrongCodeEntryLimit", "active": True},
        ),
    )
    await alerts.on_event(
        device,
        Event(
            source=device.serial,
            type="DoorLockAlarm",
            data={"alarm_code": "WrongCodeEntryLimit", "active": False},
        ),
    )
    await alerts.on_event(
        device,
        Event(source=device.serial, type="DoorLockAlarm", data={"alarm_code": "FrontEsceutcheonRemoved"}),
    )
    await alerts.on_event(device, Event(source=device.serial, type="Doorbell", data={}))
    await alerts.on_event(device, Event(source=device.serial, type="LowBattery", data={"voltage": 4.4}))
    await alerts.on_event(device, Event(source=device.serial, type="LockOperation", data={}))
    kinds = [n["kind"] for n in await _items(hub, owner)]
    assert kinds == ["low_battery", "doorbell", "tamper", "lockout"]  # newest first; the alarm's end is quiet


async def test_c6_offline_notification_follows_the_camera_setting(hub: Hub) -> None:
    _, owner = await hub.user("alice")
    quiet = await _camera(hub, owner, offline_notification=False)
    loud = await _camera(hub, owner, offline_notification=True)
    alerts = hub.app.state.alerts.device_alerts
    for camera_id in (quiet, loud):
        device = await _device(hub, camera_id)
        await alerts.on_availability(device, True)
        await alerts.on_availability(device, False)
    items = await _items(hub, owner)
    assert [(n["kind"], n["device_id"]) for n in items] == [("offline", loud)]


async def test_a4_notification_list_pages_and_marks_read(hub: Hub) -> None:
    _, owner = await hub.user("alice")
    _, other = await hub.user("bob")
    camera_id = await _camera(hub, owner)
    for k in range(5):
        await hub.app.state.alerts.notifier.notify(Alert(camera_id, NotificationKind.MOTION, f"m{k}"))
    async with hub.client(owner) as c:
        first = (await c.get("/api/notifications", params={"limit": 2})).json()
        assert [n["title"] for n in first["items"]] == ["m4", "m3"] and first["unread"] == 5
        second = (
            await c.get("/api/notifications", params={"limit": 2, "before": first["next_before"]})
        ).json()
        assert [n["title"] for n in second["items"]] == ["m2", "m1"]
        assert (await c.get("/api/notifications", params={"limit": 0})).status_code == 422
        target = first["items"][0]["id"]
        assert (await c.post(f"/api/notifications/{target}/read")).status_code == 204
        page = (await c.get("/api/notifications", params={"unread_only": True})).json()
        assert target not in [n["id"] for n in page["items"]] and page["unread"] == 4
    async with hub.client(other) as c:
        assert (await c.post(f"/api/notifications/{target}/read")).status_code == 404
        assert (await c.get(f"/api/notifications/{target}/deliveries")).status_code == 404
    async with hub.client(owner) as c:
        assert (await c.post("/api/notifications/read-all")).json() == {"updated": 4}


async def test_a4_webhook_receives_hmac_signed_json(hub: Hub, endpoint_factory: Any) -> None:
    receiver: Endpoint = endpoint_factory([500, 204])
    _, owner = await hub.user("alice")
    camera_id = await _camera(hub, owner)
    async with hub.client(owner) as c:
        assert (await c.put("/api/notifications/webhook", json={"url": "ftp://x"})).status_code == 422
        secret = (await c.put("/api/notifications/webhook", json={"url": f"{receiver.url}/hook"})).json()[
            "secret"
        ]
        assert (await c.get("/api/notifications/webhook")).json() == {"url": f"{receiver.url}/hook"}
    hub.app.state.alerts.notifier.retry_delays = (0.05,)
    await hub.app.state.alerts.person_started(camera_id, person_event(), ORIGIN)
    await hub.app.state.alerts.notifier.drain()
    assert len(receiver.received) == 2
    body = receiver.received[-1].body
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert receiver.received[-1].headers["x-vakt-signature"] == expected
    assert json.loads(body)["notification"]["kind"] == "person"


async def test_person_event_end_flags_the_recorded_segments(hub: Hub) -> None:
    _, owner = await hub.user("alice")
    camera_id = await _camera(hub, owner)
    t0 = datetime.fromtimestamp(ORIGIN, UTC)
    async with hub.app.state.sessionmaker() as session:
        for k in range(4):  # 10 s segments from ORIGIN
            start = t0 + timedelta(seconds=10 * k)
            session.add(Segment(device_id=camera_id, path=f"seg{k}.mp4", start=start,
                                end=start + timedelta(seconds=10), size=1, init_size=1))  # fmt: skip
        await session.commit()
    alerts = hub.app.state.alerts
    event = person_event(start=12.0)
    await alerts.person_started(camera_id, event, ORIGIN)
    event.end = 18.0
    await alerts.person_ended(camera_id, event, ORIGIN)
    await asyncio.sleep(0.3)
    async with hub.app.state.sessionmaker() as session:
        flags = [s.has_event for s in (await session.scalars(select(Segment).order_by(Segment.start))).all()]
    assert flags == [False, True, False, False]
    async with hub.client(owner) as c:
        events = (await c.get(f"/api/cameras/{camera_id}/person-events")).json()
    assert events[0]["end"] is not None


@pytest.mark.postgres
async def test_a4_alerts_storage_works_on_postgresql(
    tmp_path: Path, mosquitto: Mosquitto, postgres_url: str
) -> None:
    """Same code on the scale-out database: person event, notification, delivery, arming, paging."""
    name = f"{postgres_url.rsplit('/', 1)[1]}_alerts"
    admin_url = postgres_url.rsplit("/", 1)[0].replace("postgresql+asyncpg", "postgresql") + "/postgres"
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        await _alerts_on(url, tmp_path, mosquitto)
    finally:
        conn = await asyncpg.connect(admin_url)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def _alerts_on(url: str, tmp_path: Path, mosquitto: Mosquitto) -> None:
    async with running_hub(hub_settings(tmp_path, mosquitto, database_url=url), mosquitto) as pg_hub:
        _, owner = await pg_hub.user("alice")
        camera_id = await _camera(pg_hub, owner)
        async with pg_hub.client(owner) as c:
            assert (await c.put("/api/arming", json={"mode": "sleep"})).json()["mode"] == "sleep"
        event_id = await pg_hub.app.state.alerts.person_started(camera_id, person_event(), ORIGIN)
        items = await _items(pg_hub, owner)
        assert [n["kind"] for n in items] == ["person"] and items[0]["person_event_id"] == event_id
        async with pg_hub.client(owner) as c:
            deliveries = (await c.get(f"/api/notifications/{items[0]['id']}/deliveries")).json()
            assert [d["channel"] for d in deliveries] == ["websocket"]
            assert (await c.post(f"/api/notifications/{items[0]['id']}/read")).status_code == 204
            assert (await c.get("/api/notifications")).json()["unread"] == 0
        await pg_hub.app.state.alerts.defense.close()


async def test_a4_person_alerts_of_one_camera_are_not_repeated_within_the_cooldown(hub: Hub) -> None:
    """A4: people coming and going notify once per cooldown; every event is still recorded and shown."""
    _, owner = await hub.user("alice")
    camera_id = await _camera(hub, owner)
    alerts = hub.app.state.alerts
    assert alerts.settings.alert_cooldown_s == 60  # the default
    first = await alerts.person_started(camera_id, person_event(), ORIGIN)
    second = await alerts.person_started(camera_id, person_event(), ORIGIN + 20)
    assert [n["kind"] for n in await _items(hub, owner)] == ["person"]
    async with hub.client(owner) as c:
        events = (await c.get(f"/api/cameras/{camera_id}/person-events")).json()
    assert {e["id"] for e in events} == {first, second}
    alerts.settings.alert_cooldown_s = 0
    await alerts.person_started(camera_id, person_event(), ORIGIN + 40)
    assert [n["kind"] for n in await _items(hub, owner)] == ["person", "person"]
