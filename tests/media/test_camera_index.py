"""The segment index, gaps and detection hooks on both databases (SQLite and PostgreSQL, same code)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from vakt.hub import camera_index, migrate
from vakt.hub.db import make_engine, make_sessionmaker
from vakt.hub.models.alerts import PersonEventRecord
from vakt.hub.models.cameras import Camera
from vakt.hub.models.devices import Device
from vakt.hub.models.users import User
from vakt.media.segments import SegmentInfo


async def test_index_gaps_events_and_flags(any_db_url: str) -> None:
    """C7.2 timeline data and the C9.1 hook: person events turn overlapping footage into event footage."""
    engine = make_engine(any_db_url)
    await migrate.upgrade(engine)
    sessionmaker = make_sessionmaker(engine)
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    try:
        async with sessionmaker() as s:
            user = User(email="a@example.org", username="a", password_hash="x")
            s.add(user)
            await s.flush()
            device = Device(
                serial="RTSP-1", kind="camera", model="rtsp", name="c", owner_id=user.id, state={}
            )
            s.add(device)
            await s.flush()
            s.add(Camera(device_id=device.id, main_url="rtsp://camera/live"))
            await s.commit()
            for i in range(3):
                start = now + timedelta(seconds=10 * i)
                info = SegmentInfo(
                    device.id, Path(f"/m/{i}.mp4"), start, start + timedelta(seconds=10), 100, 10, 5
                )
                await camera_index.add_segment(s, info)
            s.add(PersonEventRecord(device_id=device.id, started_at=now + timedelta(seconds=12),
                                    ended_at=now + timedelta(seconds=13)))  # fmt: skip
            await s.commit()
            assert await camera_index.flag_person_footage(s) == 1
            rows = await camera_index.segments_between(s, device.id, now, now + timedelta(minutes=1))
            assert [r.has_event for r in rows] == [False, True, False]
            assert rows[0].start == now and rows[0].start.tzinfo is not None
            assert await camera_index.indexed_paths(s, device.id) == {Path(f"/m/{i}.mp4") for i in range(3)}

            await camera_index.open_gap(s, device.id, now + timedelta(seconds=30), "stream lost")
            await camera_index.open_gap(
                s, device.id, now + timedelta(seconds=31), "again"
            )  # one open gap only
            await camera_index.close_gap(s, device.id, now + timedelta(seconds=40))
            gaps = await camera_index.gaps_between(s, device.id, now, now + timedelta(minutes=1))
            assert [(g.start, g.end) for g in gaps] == [
                (now + timedelta(seconds=30), now + timedelta(seconds=40))
            ]

            # issue 10: a segment found damaged at start-up is a gap, never a recording to serve
            second = rows[1]
            await camera_index.mark_damaged(s, {second.id: "the file is missing"})
            good = await camera_index.segments_between(s, device.id, now, now + timedelta(minutes=1))
            assert [r.id for r in good] == [rows[0].id, rows[2].id]
            gaps = await camera_index.gaps_between(s, device.id, now, now + timedelta(minutes=1))
            assert (gaps[0].start, gaps[0].reason) == (
                now + timedelta(seconds=10),
                "footage damaged: the file is missing",
            )
            assert second.id not in {i for i, *_ in await camera_index.unchecked_segments(s)}

            events = await camera_index.timeline_events(s, device.id, now, now + timedelta(minutes=1))
            assert [(e.kind, e.start) for e in events] == [("person", now + timedelta(seconds=12))]
            assert (
                await camera_index.mark_segments(s, device.id, now, now + timedelta(seconds=5), motion=True)
                == 1
            )
    finally:
        await engine.dispose()
