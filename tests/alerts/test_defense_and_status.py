"""C9.2 API input and failure paths, X2 (lockout sounds the door camera), and the no-model status (C8)."""

from __future__ import annotations

from tests.alerts.conftest import Hub, camera_state, label, set_state
from vakt.hub.models.devices import Device
from vakt.protocol import Event


async def test_c8_without_a_model_the_hub_says_so_and_runs_motion_only(hub: Hub) -> None:
    _, token = await hub.user("alice")
    async with hub.client(token) as c:
        status = (await c.get("/api/detection/status")).json()
    assert status["person_detection"] is False
    assert "vakt models fetch" in status["problem"] and "motion-only" in status["problem"]
    async with hub.client() as c:
        assert (await c.get("/api/detection/status")).status_code == 401


async def test_c9_2_active_defense_api_refuses_bad_requests_clearly(hub: Hub) -> None:
    _, owner = await hub.user("alice")
    _, stranger = await hub.user("mallory")
    gateway = await hub.add_device(owner, label("gateway"))
    camera = await hub.add_device(owner, label("camera"))
    async with hub.client(owner) as c:
        r = await c.post(f"/api/cameras/{gateway['id']}/active-defense", json={"seconds": 10})
        assert r.status_code == 409 and "not a camera" in r.json()["detail"]
        for bad in ({"seconds": 0}, {"seconds": 61}, {"seconds": "ten"}, {"seconds": 5, "loud": True}):
            assert (await c.post(f"/api/cameras/{camera['id']}/active-defense", json=bad)).status_code == 422
        # the camera is not connected: the hub says so instead of hanging
        r = await c.post(f"/api/cameras/{camera['id']}/active-defense", json={"seconds": 10})
        assert r.status_code == 504 and "did not answer" in r.json()["detail"]
        assert (await c.post("/api/cameras/999999/active-defense", json={"seconds": 10})).status_code == 404
    async with hub.client(stranger) as c:
        r = await c.post(f"/api/cameras/{camera['id']}/active-defense", json={"seconds": 10})
        assert r.status_code == 404
    async with hub.client() as c:
        assert (await c.delete(f"/api/cameras/{camera['id']}/active-defense")).status_code == 401


async def test_x2_lockout_sounds_active_defense_on_the_owners_cameras_unless_home(hub: Hub) -> None:
    _, owner = await hub.user("alice")
    gateway = await hub.add_device(owner, label("gateway"))
    lock = await hub.add_device(owner, label("lock"), gateway_id=gateway["id"])
    camera = await hub.add_device(owner, label("camera"))
    await set_state(hub, camera["id"], camera_state(), online=True)
    async with hub.app.state.sessionmaker() as session:
        device = await session.get(Device, lock["id"])
        assert device is not None
    alerts = hub.app.state.alerts
    lockout = Event(source=device.serial, type="DoorLockAlarm", data={"alarm_code": "WrongCodeEntryLimit"})
    async with hub.client(owner) as c:
        await c.put("/api/arming", json={"mode": "home"})
    await alerts.device_alerts.on_event(device, lockout)
    assert not alerts.defense.is_automatic(camera["id"])
    async with hub.client(owner) as c:
        await c.put("/api/arming", json={"mode": "away"})
    await alerts.device_alerts.on_event(device, lockout)
    assert alerts.defense.is_automatic(camera["id"])
    await alerts.defense.close()
    async with hub.client(owner) as c:
        kinds = [n["kind"] for n in (await c.get("/api/notifications")).json()["items"]]
    assert kinds == ["lockout", "lockout"]  # notified in every mode
