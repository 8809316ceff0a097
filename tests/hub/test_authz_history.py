"""Issue 11, A5: a shared user sees history only from the share's start. A segment that straddles the
start is not served (not in the timeline, the playlist, a clip or a snapshot), and a person event's
snapshot is history: it needs ``history`` and must not come from before the share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.hub.conftest import Hub, Mosquitto, hub_settings, running_hub
from vakt.hub.models.alerts import Notification, PersonEventRecord
from vakt.hub.models.cameras import Segment
from vakt.hub.models.devices import Share
from vakt.hub.models.users import User

JPEG = b"\xff\xd8\xff\xe0 a person \xff\xd9"


@dataclass
class Footage:
    hub: Hub
    camera_id: int
    owner: str
    viewer: str  # live_view and history, shared at ``start``
    live_only: str  # live_view only
    start: datetime  # the share's start
    before: int  # segment ids: wholly before the share, straddling its start, wholly after
    straddling: int
    after: int
    event_before: int  # person events before and after the share's start
    event_after: int
    event_notified: int  # after the start, with a person alert sent to ``live_only``


@pytest.fixture
async def footage(tmp_path: Path, mosquitto: Mosquitto) -> AsyncIterator[Footage]:
    async with running_hub(hub_settings(tmp_path, mosquitto), mosquitto) as hub:
        _, owner = await hub.user("alice")
        _, viewer = await hub.user("bob")
        _, live_only = await hub.user("carol")
        async with hub.client(owner) as c:
            r = await c.post("/api/cameras", json={"name": "Yard", "url": "rtsp://127.0.0.1:9/none"})
            assert r.status_code == 201, r.text
            camera_id = r.json()["device_id"]
            for name, perms in (("bob", ["live_view", "history"]), ("carol", ["live_view"])):
                r = await c.post(
                    f"/api/devices/{camera_id}/shares", json={"user": name, "permissions": perms}
                )
                assert r.status_code == 201, r.text
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=90)
        if (start - timedelta(seconds=40)).date() != start.date():  # keep the footage in one day
            start -= timedelta(minutes=2)
        media = hub.app.state.settings.media_dir
        media.mkdir(parents=True, exist_ok=True)
        ids = []
        async with hub.app.state.sessionmaker() as s:
            await s.execute(update(Share).values(created_at=start))  # both shares began at ``start``
            for name, begins in (("before", -30), ("straddling", -5), ("after", 5)):
                path = media / f"{name}.mp4"
                path.write_bytes(b"\x00" * 2000)
                segment = Segment(
                    device_id=camera_id, path=str(path), start=start + timedelta(seconds=begins),
                    end=start + timedelta(seconds=begins + 10), size=2000, init_size=500, frames=100,
                )  # fmt: skip
                s.add(segment)
                await s.flush()
                ids.append(segment.id)
            events = []
            for name, seen in (("event-before", -20), ("event-after", 8), ("event-notified", 9)):
                (media / f"{name}.jpg").write_bytes(JPEG)
                event = PersonEventRecord(
                    device_id=camera_id, started_at=start + timedelta(seconds=seen), score=0.9,
                    snapshot_path=f"{name}.jpg",
                )  # fmt: skip
                s.add(event)
                await s.flush()
                events.append(event.id)
            carol = (await s.scalars(select(User).where(User.username == "carol"))).one()
            s.add(Notification(user_id=carol.id, device_id=camera_id, kind="person", title="Person",
                               person_event_id=events[-1]))  # fmt: skip
            await s.commit()
        hub.app.state.bus.invalidate()
        yield Footage(hub, camera_id, owner, viewer, live_only, start, *ids, *events)


async def test_a5_a_segment_straddling_the_share_start_is_not_served(footage: Footage) -> None:
    f = footage
    base = f"/api/cameras/{f.camera_id}/history"
    async with f.hub.client(f.viewer) as v, f.hub.client(f.owner) as o:
        for segment, status in ((f.before, 403), (f.straddling, 403), (f.after, 200)):
            assert (await v.get(f"{base}/segments/{segment}.mp4")).status_code == status, segment
        assert (await o.get(f"{base}/segments/{f.straddling}.mp4")).status_code == 200

        inside = (f.start + timedelta(seconds=1)).isoformat()
        playlist = (await v.get(f"{base}/playlist.m3u8", params={"at": inside})).text
        assert f"segments/{f.after}.mp4" in playlist and f"segments/{f.straddling}.mp4" not in playlist
        playlist = (await o.get(f"{base}/playlist.m3u8", params={"at": inside})).text
        assert f"segments/{f.straddling}.mp4" in playlist

        day = {"day": f.start.date().isoformat()}
        shown = (await v.get(f"{base}/timeline", params=day)).json()["recordings"]
        assert [datetime.fromisoformat(r["start"]) for r in shown] == [f.start + timedelta(seconds=5)]
        owner_shown = (await o.get(f"{base}/timeline", params=day)).json()["recordings"]
        assert datetime.fromisoformat(owner_shown[0]["start"]) == f.start - timedelta(seconds=30)

        window = {"start": inside, "end": (f.start + timedelta(seconds=3)).isoformat()}
        r = await v.get(f"{base}/clip", params=window)
        assert r.status_code == 404, r.text  # only the straddling segment holds it: no footage for bob
        r = await v.get(f"{base}/snapshot", params={"at": inside})
        assert r.status_code == 404, r.text
        r = await v.get(f"{base}/snapshot", params={"at": (f.start - timedelta(seconds=1)).isoformat()})
        assert r.status_code == 403 and "before the share began" in r.json()["detail"]


async def test_a5_person_event_snapshots_are_history_from_the_share_start(footage: Footage) -> None:
    f = footage
    async with f.hub.client(f.live_only) as c:  # issue 11: live view alone does not see history
        for event in (f.event_before, f.event_after):
            r = await c.get(f"/api/person-events/{event}/snapshot")
            assert r.status_code == 403 and "'history'" in r.json()["detail"]
        r = await c.get(f"/api/person-events/{f.event_notified}/snapshot")  # but sees what it was sent
        assert r.status_code == 200 and r.content == JPEG
    async with f.hub.client(f.viewer) as c:
        r = await c.get(f"/api/person-events/{f.event_before}/snapshot")
        assert r.status_code == 403 and "before the share began" in r.json()["detail"]
        r = await c.get(f"/api/person-events/{f.event_after}/snapshot")
        assert r.status_code == 200 and r.content == JPEG
        listed = (await c.get(f"/api/cameras/{f.camera_id}/person-events")).json()
        assert [e["id"] for e in listed] == [f.event_notified, f.event_after]
    async with f.hub.client(f.owner) as c:
        assert (await c.get(f"/api/person-events/{f.event_before}/snapshot")).content == JPEG
