"""Shared helpers for the media tests: real footage, recorded through the real ingest and recorder."""

from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path

import av
import pytest

from vakt.media.ingest import Backoff, Ingest, PacketSink
from vakt.media.recorder import SegmentRecorder
from vakt.media.segments import SegmentInfo

ASSETS = Path(__file__).resolve().parents[3] / "shared" / "assets" / "video"
if not ASSETS.exists():
    ASSETS = Path("/work/shared/assets/video")
PEOPLE = ASSETS / "people_indoor_768x432.mp4"
CARS = ASSETS / "cars_parking_768x432.mp4"

needs_assets = pytest.mark.skipif(not PEOPLE.exists(), reason="test footage ../shared/assets is absent")


def wait_for(predicate: object, timeout: float = 20.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def run_one_session(url: str, sinks: list[PacketSink], audio: bool = True) -> Ingest:
    """Read one whole session of `url` (a file ends, so does the session) through the real Ingest."""
    ingest = Ingest(url, sinks, name="test", audio=audio, backoff=Backoff(initial=60.0))
    ingest.start()
    wait_for(lambda: ingest.stats.sessions >= 1 and not ingest.connected, timeout=60)
    ingest.stop()
    return ingest


def record_file(
    source: Path, media_dir: Path, camera_id: int = 1, segment_seconds: float = 10.0, audio: bool = True
) -> list[SegmentInfo]:
    segments: list[SegmentInfo] = []
    recorder = SegmentRecorder(
        media_dir, camera_id, segments.append, segment_seconds=segment_seconds, audio=audio
    )
    run_one_session(str(source), [recorder], audio=audio)
    return sorted(segments, key=lambda s: s.start)


def video_packets(path: Path) -> list[tuple[Fraction, Fraction, bool]]:
    """(pts seconds, duration seconds, keyframe) of each video packet, read back with PyAV."""
    out = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            tb = Fraction(packet.time_base)
            out.append((packet.pts * tb, (packet.duration or 0) * tb, bool(packet.is_keyframe)))
    return out


def source_frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for p in container.demux(container.streams.video[0]) if p.pts is not None)
