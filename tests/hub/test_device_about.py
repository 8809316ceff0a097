"""Issue 15 missing parts: rooms and a device's About (C6), dismissing one notification (A4)."""

from __future__ import annotations

from tests.hub.conftest import Hub, label
from vakt.hub.models.alerts import Notification


async def test_room_and_about_with_the_qr_for_the_owner_only(hub: Hub) -> None:
    _, owner = await hub.user("ann")
    _, guest = await hub.user("ben")
    camera = label("camera")
    added = await hub.add_device(owner, camera, name="Porch")
    assert added["room"] == ""
    async with hub.client(owner) as c:
        r = await c.patch(f"/api/devices/{added['id']}", json={"room": "  Garden "})
        assert r.status_code == 200, r.text
        assert r.json()["room"] == "Garden" and r.json()["name"] == "Porch"  # a move keeps the name
        r = await c.patch(f"/api/devices/{added['id']}", json={"name": "Front porch"})
        assert r.json()["room"] == "Garden" and r.json()["name"] == "Front porch"  # a rename keeps the room
        assert (await c.patch(f"/api/devices/{added['id']}", json={"room": "x" * 65})).status_code == 422
        assert (await c.patch(f"/api/devices/{added['id']}", json={"room": "a\nb"})).status_code == 422
        assert (await c.get("/api/devices")).json()[0]["room"] == "Garden"
        about = (await c.get(f"/api/devices/{added['id']}/about")).json()
        assert about["model"] == "VC-1" and about["serial"] == camera.serial and about["room"] == "Garden"
        assert about["qr"] == camera.to_qr()  # the label again, to add it elsewhere
        r = await c.post(
            f"/api/devices/{added['id']}/shares", json={"user": "ben", "permissions": ["live_view"]}
        )
        assert r.status_code == 201, r.text
    async with hub.client(guest) as c:
        about = (await c.get(f"/api/devices/{added['id']}/about")).json()
        assert about["serial"] == camera.serial and about["room"] == "Garden"
        assert about["qr"] is None, "a guest must never see the verification code"
        r = await c.patch(f"/api/devices/{added['id']}", json={"room": "Mine"})
        assert r.status_code == 403  # moving it needs Settings (A5)


async def test_dismiss_one_notification_own_only(hub: Hub) -> None:
    ann_id, ann = await hub.user("ann")
    ben_id, ben = await hub.user("ben")
    async with hub.app.state.sessionmaker() as s:
        rows = [
            Notification(user_id=uid, kind="offline", title="Device offline")
            for uid in (ann_id, ann_id, ben_id)
        ]
        s.add_all(rows)
        await s.commit()
        keep, gone, bens = (r.id for r in rows)
    async with hub.client(ann) as c:
        assert (await c.delete(f"/api/notifications/{bens}")).status_code == 404  # not hers: as if absent
        assert (await c.delete(f"/api/notifications/{gone}")).status_code == 204
        assert (await c.delete(f"/api/notifications/{gone}")).status_code == 404
        assert [n["id"] for n in (await c.get("/api/notifications")).json()["items"]] == [keep]
        assert (await c.delete("/api/notifications/webhook")).status_code == 204  # still the webhook's route
    async with hub.client(ben) as c:
        assert [n["id"] for n in (await c.get("/api/notifications")).json()["items"]] == [bens]
