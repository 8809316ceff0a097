"""Footage under faults (issue 10 item 4, C7.1, C12.1): a full disk while a real camera streams over
RTSP, the hub SIGKILLed mid-segment, corrupted segment files found at start-up.

Each test prints produced / indexed / lost / duplicated and asserts 0 lost and 0 duplicated:
lost = footage that was recorded (or indexed) but is neither indexed as good nor deliberately deleted
by retention; duplicated = one segment indexed twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import httpx
import pytest

from tests.faults.footage_helpers import (
    HubProcess,
    add_camera,
    decoded_frames,
    duplicated,
    report,
    segment_rows,
    sign_in,
    tmpfs,
    unplayable,
)
from tests.hub.conftest import Hub, Mosquitto, hub_settings, mosquitto, running_hub  # noqa: F401
from tests.media.camera_process import CameraProcess
from tests.media.helpers import PEOPLE, needs_assets, record_file
from vakt.broker.embedded import free_port
from vakt.hub import camera_index
from vakt.hub.models.alerts import PersonEventRecord
from vakt.hub.routers import cameras
from vakt.media.fmp4 import scan_file
from vakt.media.segments import PART_SUFFIX, SegmentInfo, camera_dir, segment_path

pytestmark = [needs_assets, pytest.mark.slow, pytest.mark.mosquitto]


def decoded_bytes(data: bytes) -> int:
    with av.open(io.BytesIO(data), "r", format="mp4") as container:
        return sum(1 for _ in container.decode(video=0))


@pytest.fixture(scope="module")
def camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CameraProcess]:
    """One real emulated camera streaming the people clip over RTSP for the whole module."""
    cam = CameraProcess(PEOPLE, tmp_path_factory.mktemp("camera"), free_port())
    cam.start()
    yield cam
    cam.kill()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> list[SegmentInfo]:
    """Real 1 s segments of the people clip (recorded from the file, faster than real time)."""
    return record_file(PEOPLE, tmp_path_factory.mktemp("recorded"), segment_seconds=1.0)


async def wait_until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def old_footage(
    recorded: list[SegmentInfo], media_dir: Path, device_id: int, count: int, keep_free: int = 0
) -> list[SegmentInfo]:
    """Up to `count` recorded segments copied in as yesterday's footage of the camera (files only),
    stopping while `keep_free` bytes are still free."""
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    out: list[SegmentInfo] = []
    for i in range(count):
        seg = recorded[i % len(recorded)]
        if keep_free and shutil.disk_usage(media_dir).free <= keep_free:
            break
        target = segment_path(media_dir, device_id, at)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(seg.path, target)
        out.append(SegmentInfo(device_id, target, at, at + timedelta(seconds=seg.duration), seg.size,
                               seg.init_size, seg.frames, seg.has_audio))  # fmt: skip
        at += timedelta(seconds=seg.duration)
    return out


def count_rows(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(database)) as db:
        return int(db.execute("SELECT count(*) FROM camera_segments").fetchone()[0])


@pytest.fixture
async def tiny_media(tmp_path: Path) -> AsyncIterator[Path]:
    with tmpfs(tmp_path / "media", "3m") as mount:
        yield mount


async def test_full_disk_keeps_recording_and_deletes_oldest_continuous_first(
    camera: CameraProcess,
    recorded: list[SegmentInfo],
    tiny_media: Path,
    tmp_path: Path,
    mosquitto: Mosquitto,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 3 MiB tmpfs filled with yesterday's footage (some of it event footage: a person was seen) while
    the camera streams into the hub; floor 0 (the disk-full path must free space anyway). ENOSPC frees
    the oldest continuous footage, never event footage while continuous remains; recording goes on; every
    indexed segment is whole and decodes; nothing recorded is lost, nothing doubled."""
    for name, value in {"SEGMENT_SECONDS": "1", "RETENTION_INTERVAL_S": "1", "MIN_FREE_MB": "0",
                        "RECONCILE_INTERVAL_S": "1"}.items():  # fmt: skip
        monkeypatch.setenv(f"VAKT_MEDIA_{name}", value)
    settings = hub_settings(tmp_path, mosquitto, media_dir=tiny_media)
    async with running_hub(settings, mosquitto, services=[cameras.service]) as hub:
        supervisor = hub.app.state.cameras
        _, token = await hub.user("owner")
        device_id = await add_camera(hub.url, token, camera.url)
        # yesterday's footage until ~120 KB are left; the oldest three and two later ones had a person
        old = old_footage(recorded, tiny_media, device_id, 1000, keep_free=160_000)
        assert len(old) > 20
        events = {0, 1, 2, 10, 11}
        async with hub.app.state.sessionmaker() as session:
            for seg in old:
                await camera_index.add_segment(session, seg)
            for i in events:
                session.add(PersonEventRecord(device_id=device_id, started_at=old[i].start,
                                              ended_at=old[i].start + timedelta(seconds=0.2)))  # fmt: skip
            await session.commit()
        await wait_until(lambda: supervisor.counts.disk_full >= 1, 60, "the disk to fill up (ENOSPC)")
        indexed_at_full = supervisor.counts.indexed
        await wait_until(lambda: supervisor.counts.indexed >= indexed_at_full + 6, 60, "recording to go on")
        pipe = supervisor.pipelines[device_id]
        assert pipe.ingest.connected, "the stream was never dropped because of the disk"
    produced, indexed, deleted = pipe.recorder.finished, supervisor.counts.indexed, supervisor.counts.deleted
    rows = await segment_rows(settings.database_url)
    on_disk = {p for p in camera_dir(tiny_media, device_id).rglob("*") if p.is_file()}
    leftovers = [p for p in on_disk if p.suffix != ".mp4"]  # a .part or .corrupt: footage not indexed
    old_ids = {str(s.path) for s in old}
    kept = {str(r.path) for r in rows}
    gone = [i for i, s in enumerate(old) if str(s.path) not in kept]
    continuous = [i for i in range(len(old)) if i not in events]
    assert gone, "the full disk freed space although the floor is 0"
    assert not set(gone) & events, f"event footage deleted while continuous footage remained: {gone}"
    assert gone == continuous[: len(gone)], f"not the oldest continuous footage first: {gone}"
    assert unplayable(rows) == [], "nothing corrupt is indexed"
    assert {r.path for r in rows} == on_disk - set(leftovers), "every file has its row, every row its file"
    live = [r for r in rows if str(r.path) not in old_ids]
    lost = produced - indexed  # recorded but not indexed (the test indexed the old footage itself)
    lost += len([r for r in live if not r.path.exists()]) + len(leftovers)
    report("full disk", produced, indexed, lost, duplicated(rows))
    print(
        f"  disk full x{supervisor.counts.disk_full}, retention deleted {deleted} (old footage {len(gone)})"
    )
    assert lost == 0 and duplicated(rows) == 0
    assert len(live) >= 6


async def test_hub_sigkill_mid_segment_recovers_the_partial_segment(
    camera: CameraProcess, tmp_path: Path
) -> None:
    """SIGKILL the hub process while a segment is half written, then start it again: the partial
    segment is recovered up to its last whole fragment and indexed once; every segment indexed before
    the kill is still there and decodes; nothing is lost or doubled."""
    data = tmp_path / "data"
    hub = HubProcess(
        data, free_port(), {"VAKT_MEDIA_SEGMENT_SECONDS": "2", "VAKT_MEDIA_RECONCILE_INTERVAL_S": "1"}
    )
    database = f"sqlite+aiosqlite:///{data / 'vakt.db'}"
    try:
        await hub.start()
        device_id = await add_camera(hub.url, await sign_in(hub.url), camera.url)
        folder = camera_dir(data / "media", device_id)

        def cut_mid_segment() -> bool:
            parts = list(folder.rglob(f"*{PART_SUFFIX}"))
            return bool(parts) and scan_file(parts[0])[1] > scan_file(parts[0])[0] > 0

        await wait_until(lambda: count_rows(data / "vakt.db") >= 2, 90, "two indexed segments")
        await wait_until(cut_mid_segment, 60, "a half-written segment with a whole fragment")
        hub.kill()
        before = await segment_rows(database)
        parts = list(folder.rglob(f"*{PART_SUFFIX}"))
        finished = {p for p in folder.rglob("*.mp4")}
        expected = finished | {p.with_name(p.name.removesuffix(PART_SUFFIX)) for p in parts}
        assert parts, "the kill came mid-segment"

        await hub.start()
        await wait_until(lambda: "segments checked in" in hub.log_text(), 60, "the start-up footage check")
        hub.stop()
    finally:
        hub.kill()
    after = await segment_rows(database)
    paths = {r.path for r in after}
    ours = [r for r in after if r.path in expected]
    lost = (
        len(expected - paths)
        + len({r.path for r in before} - paths)
        + sum(r.damage is not None for r in ours)
    )
    report("hub SIGKILL", len(expected), len(ours), lost, duplicated(after))
    assert lost == 0 and duplicated(after) == 0
    assert unplayable(ours) == [], "every indexed segment plays"
    recovered = next(
        r for r in after if r.path == parts[0].with_name(parts[0].name.removesuffix(PART_SUFFIX))
    )
    assert recovered.frames > 0 and decoded_frames(recovered.path) == recovered.frames
    assert not any(p.exists() for p in parts), "no half-written file is left behind"


async def test_corrupted_segments_found_at_start_up_and_shown_as_gaps(
    recorded: list[SegmentInfo],
    tmp_path: Path,
    mosquitto: Mosquitto,  # noqa: F811
) -> None:
    """Indexed segments truncated, zeroed or deleted while the hub was down are marked at the next
    start-up and shown as gaps; playback, clips and snapshots never serve them. A valid file without a
    row is adopted, an unreadable one moved aside, a file with another name reported and left alone."""
    settings = hub_settings(tmp_path, mosquitto)
    media = settings.media_dir
    async with running_hub(settings, mosquitto, services=[cameras.service]) as hub:
        _, token = await hub.user("owner")
        device_id = await add_camera(hub.url, token, f"rtsp://127.0.0.1:{free_port()}/live")  # away
    footage = old_footage(recorded, media, device_id, 9)
    async with (
        running_hub(settings, mosquitto, services=[]) as hub,  # index rows, no camera service
        hub.app.state.sessionmaker() as session,
    ):
        ids = [(await camera_index.add_segment(session, s)).id for s in footage[:8]]
    truncated, zeroed, deleted = footage[2], footage[4], footage[6]
    os.truncate(truncated.path, truncated.size // 2)
    zeroed.path.write_bytes(bytes(zeroed.size))
    deleted.path.unlink()
    orphan = footage[8]  # a valid file without a row (the hub died between rename and commit)
    garbage = segment_path(media, device_id, footage[8].end + timedelta(seconds=5))
    garbage.write_bytes(b"\x00\x00\x00\x10moof" + bytes(100))
    stranger = footage[0].path.with_name("copied-by-hand.mp4")
    shutil.copyfile(footage[0].path, stranger)

    async with running_hub(settings, mosquitto, services=[cameras.service]) as hub:
        supervisor = hub.app.state.cameras
        await wait_until(lambda: supervisor.check.done, 60, "the start-up footage check")
        assert (supervisor.check.damaged, supervisor.check.adopted) == (3, 1)
        day = footage[0].start.date().isoformat()
        base = f"/api/cameras/{device_id}/history"
        async with httpx.AsyncClient(base_url=hub.url, headers={"Authorization": f"Bearer {token}"}) as c:
            timeline = (await c.get(f"{base}/timeline", params={"day": day})).json()
            damaged_gaps = [g for g in timeline["gaps"] if g["reason"].startswith("footage damaged")]
            assert [datetime.fromisoformat(g["start"]) for g in damaged_gaps] == [
                s.start for s in (truncated, zeroed, deleted)
            ]
            for span in timeline["recordings"]:  # no recording covers a damaged segment
                begins, ends = datetime.fromisoformat(span["start"]), datetime.fromisoformat(span["end"])
                for seg in (truncated, zeroed, deleted):
                    assert ends <= seg.start + timedelta(seconds=0.01) or begins >= seg.end - timedelta(
                        seconds=0.01
                    )
            for index in (2, 4, 6):
                r = await c.get(f"{base}/segments/{ids[index]}.mp4")
                assert r.status_code == 410 and "damaged" in r.json()["detail"], r.text
            playlist = (
                await c.get(f"{base}/playlist.m3u8", params={"at": footage[0].start.isoformat()})
            ).text
            served = {
                int(line.split("/")[1].split(".")[0])
                for line in playlist.splitlines()
                if line.startswith("segments/")
            }
            assert served.isdisjoint({ids[2], ids[4], ids[6]}) and ids[3] in served
            span = {"start": footage[1].start.isoformat(), "end": footage[4].end.isoformat()}
            r = await c.get(f"{base}/clip", params=span)  # made of the good segments 1 and 3 only
            assert r.status_code == 200, r.text
            assert 0 < decoded_bytes(r.content) <= footage[1].frames + footage[3].frames
    rows = await segment_rows(settings.database_url)
    good = [r for r in rows if r.damage is None]
    assert {r.path for r in good} == {s.path for s in footage} - {truncated.path, zeroed.path, deleted.path}
    assert unplayable(rows) == []
    assert stranger.exists() and garbage.with_name(garbage.name + ".corrupt").exists()
    produced = len(footage)
    lost = produced - len(good) - 3  # the three damaged ones are marked as gaps, the rest must be good
    report("corrupted files", produced, len(good), lost, duplicated(rows))
    assert lost == 0 and duplicated(rows) == 0
    assert orphan.path in {r.path for r in good}
