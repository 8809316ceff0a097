"""Ingest from a real RTSP camera (the emulator): recording, a stream cut mid-segment, a camera that
disappears and comes back (gap on the timeline, recording resumes), and a full disk (C7.1, C10)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest

from tests.media.camera_process import CameraProcess
from tests.media.helpers import PEOPLE, needs_assets, video_packets
from vakt.broker.embedded import free_port
from vakt.media.pipeline import CameraPipeline, PipelineConfig
from vakt.media.segments import SegmentInfo
from vakt.media.session import MediaPacket, StreamSet

pytestmark = [needs_assets, pytest.mark.slow]


class Recording:
    def __init__(self) -> None:
        self.segments: list[SegmentInfo] = []
        self.status: list[tuple[str, datetime, str]] = []
        self.disk_full = 0

    async def on_segment(self, info: SegmentInfo) -> None:
        self.segments.append(info)

    async def on_status(self, kind: str, at: datetime, detail: str) -> None:
        self.status.append((kind, at, detail))

    async def on_disk_full(self) -> None:
        self.disk_full += 1


async def wait_until(predicate: object, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def camera_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("camera-data")


@contextlib.asynccontextmanager
async def camera(cache: Path) -> AsyncIterator[CameraProcess]:
    cam = CameraProcess(PEOPLE, cache, free_port())
    await cam.astart()
    try:
        yield cam
    finally:
        cam.kill()


def pipeline(url: str, media_dir: Path, rec: Recording, segment_seconds: float = 2.0) -> CameraPipeline:
    config = PipelineConfig(
        1, url, media_dir, segment_seconds=segment_seconds, read_timeout=2.0, backoff_cap=0.5
    )
    return CameraPipeline(config, rec.on_segment, rec.on_status, rec.on_disk_full)


async def test_camera_lost_and_back_leaves_a_gap_and_recording_resumes(
    camera_cache: Path, tmp_path: Path
) -> None:
    """Kill the camera mid-segment: the part written so far is indexed and playable, the loss is reported
    (gap start), the ingest reconnects with backoff when the camera returns, and recording resumes."""
    async with camera(camera_cache) as cam:
        rec = Recording()
        pipe = pipeline(cam.url, tmp_path, rec)
        await pipe.start()
        try:
            await wait_until(lambda: len(rec.segments) >= 2)
            await asyncio.sleep(1.0)  # into the next segment
            cam.kill()
            await wait_until(lambda: any(s[0] == "lost" for s in rec.status))
            await wait_until(lambda: not pipe.recorder.recording)
            before = len(rec.segments)
            lost_at = next(s[1] for s in rec.status if s[0] == "lost")
            await asyncio.sleep(1.5)  # a few failed reconnects
            await cam.astart()
            await wait_until(lambda: [s[0] for s in rec.status].count("up") >= 2, timeout=60)
            await wait_until(lambda: len(rec.segments) >= before + 2, timeout=60)
        finally:
            await pipe.stop()
    assert pipe.ingest.stats.failures >= 1, "reconnect attempts failed while the camera was away"
    cut = rec.segments[before - 1]
    assert cut.duration < 2.0 + 1.0 and cut.frames > 0
    with av.open(str(cut.path)) as container:
        assert sum(1 for _ in container.decode(video=0)) == cut.frames
    back_at = [s[1] for s in rec.status if s[0] == "up"][1]
    assert back_at > lost_at
    resumed = rec.segments[before]
    assert resumed.start > lost_at and resumed.start - cut.end >= (back_at - lost_at) * 0.5
    # every recorded segment reads back with PyAV and starts on a keyframe
    for seg in rec.segments:
        packets = video_packets(seg.path)
        assert packets and packets[0][2]


async def test_timestamps_continuous_over_rtsp(camera_cache: Path, tmp_path: Path) -> None:
    async with camera(camera_cache) as cam:
        rec = Recording()
        pipe = pipeline(cam.url, tmp_path, rec, segment_seconds=1.0)
        await pipe.start()
        chunks: list[bytes] = []

        async def watch() -> None:
            async for data in pipe.live.subscribe():
                chunks.append(data)
                if len(chunks) > 25:
                    return

        try:
            await asyncio.wait_for(watch(), 30)
            await wait_until(lambda: len(rec.segments) >= 3)
        finally:
            await pipe.stop()
    for before, after in zip(rec.segments, rec.segments[1:], strict=False):
        last = max(p[0] + p[1] for p in video_packets(before.path))
        assert min(p[0] for p in video_packets(after.path)) == last
    assert pipe.live.codec is not None and re.fullmatch(r"avc1\.[0-9A-F]{6}", pipe.live.codec)
    assert chunks[0][4:8] == b"ftyp" and all(c[4:8] == b"moof" for c in chunks[1:])


class ArrivalClock:
    """A sink that notes when the last packet arrived (the test's own clock, beside the recorder)."""

    def __init__(self) -> None:
        self.last: datetime | None = None

    def open_session(self, streams: StreamSet) -> None:
        pass

    def write(self, packet: MediaPacket) -> None:
        self.last = datetime.now(UTC)

    def close_session(self) -> None:
        pass


async def test_frozen_camera_gap_starts_at_the_last_packet(camera_cache: Path, tmp_path: Path) -> None:
    """Issue 10: a camera that stops sending with its connection open (SIGSTOP: frozen) is noticed
    `read_timeout` later, but its gap starts at the last packet received, within one frame (10 fps)."""
    async with camera(camera_cache) as cam:
        assert cam.process is not None
        rec = Recording()
        clock = ArrivalClock()
        pipe = pipeline(cam.url, tmp_path, rec)
        pipe.ingest.sinks.append(clock)
        await pipe.start()
        try:
            await wait_until(lambda: len(rec.segments) >= 1)
            os.kill(cam.process.pid, signal.SIGSTOP)
            await wait_until(lambda: any(s[0] == "lost" for s in rec.status))
            noticed = datetime.now(UTC)
        finally:
            os.kill(cam.process.pid, signal.SIGCONT)
            await pipe.stop()
    lost_at = next(s[1] for s in rec.status if s[0] == "lost")
    assert clock.last is not None
    assert abs(lost_at - clock.last) <= timedelta(seconds=0.1), (lost_at, clock.last)
    assert noticed - lost_at >= timedelta(seconds=pipe.config.read_timeout * 0.8), "noticed later"
    last = max(rec.segments, key=lambda s: s.end)
    assert abs(last.end - lost_at) < timedelta(seconds=1), "the recording ends where the gap starts"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> AsyncIterator[Path]:
    mount = tmp_path / "tiny"
    mount.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)]
    result = subprocess.run(command, capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr!r}")
    yield mount  # type: ignore[misc]
    subprocess.run(["umount", "-l", str(mount)], check=False)


async def test_full_disk_pauses_with_clear_error_then_recovers(camera_cache: Path, tiny_disk: Path) -> None:
    """ENOSPC on a real 256 KiB tmpfs: no crash loop; retention is asked to free space; recording resumes."""
    async with camera(camera_cache) as cam:
        rec = Recording()
        pipe = pipeline(cam.url, tiny_disk, rec, segment_seconds=2.0)
        pipe.recorder.disk_full_pause = 0.5

        async def free_space() -> None:
            rec.disk_full += 1
            for seg in list(rec.segments):
                seg.path.unlink(missing_ok=True)  # what the hub's retention does on a full disk

        pipe._on_disk_full = free_space
        await pipe.start()
        try:
            await wait_until(lambda: rec.disk_full >= 1, timeout=60)
            assert pipe.recorder.error is not None and "disk full" in pipe.recorder.error
            count = len(rec.segments)
            await wait_until(lambda: len(rec.segments) > count, timeout=60)
            assert pipe.ingest.connected, "the stream was never dropped because of the disk"
        finally:
            await pipe.stop()
    playable = [s for s in rec.segments if s.path.exists()]
    for seg in playable:
        with av.open(str(seg.path)) as container:
            assert sum(1 for _ in container.decode(video=0)) == seg.frames
