"""History playback (C7.2): HLS from any instant, clip export as one MP4, snapshot at an instant."""

from __future__ import annotations

import itertools
import subprocess
from datetime import timedelta
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from tests.media.helpers import PEOPLE, needs_assets, record_file, video_packets
from vakt.media.clips import NoFootage, export_clip, snapshot_at
from vakt.media.playlist import build_playlist
from vakt.media.segments import SegmentInfo

pytestmark = needs_assets


@pytest.fixture(scope="module")
def segments(tmp_path_factory: pytest.TempPathFactory) -> list[SegmentInfo]:
    return record_file(PEOPLE, tmp_path_factory.mktemp("media"))


def test_clip_across_segment_borders_is_one_continuous_mp4(
    segments: list[SegmentInfo], tmp_path: Path
) -> None:
    """X1/C7.2: a 25 s range over three segments -> one MP4, trimmed at keyframes, timestamps monotonic."""
    start = segments[1].start + timedelta(seconds=4.5)
    end = start + timedelta(seconds=25)
    clip = export_clip(segments, start, end, tmp_path / "clip.mp4")
    packets = video_packets(clip.path)
    assert packets[0][2] and packets[0][0] <= 0.2, "starts on a keyframe at t=0 (+ B-frame delay)"
    dts_order = sorted(p[0] for p in packets)
    assert all(b - a == pytest.approx(0.1, abs=1e-6) for a, b in itertools.pairwise(dts_order))
    # the keyframe at or before `start` (GOP 1 s) to `end`: 25 s plus at most one GOP
    assert 250 <= len(packets) <= 260 and clip.frames == len(packets)
    assert start - timedelta(seconds=1) <= clip.start <= start
    with av.open(str(clip.path)) as container:
        assert sum(1 for _ in container.decode(video=0)) == len(packets)
        assert 25.0 <= float(container.duration or 0) / 1_000_000 <= 26.2


def test_clip_outside_footage_is_a_clear_error(segments: list[SegmentInfo], tmp_path: Path) -> None:
    before = segments[0].start - timedelta(hours=1)
    with pytest.raises(NoFootage):
        export_clip(segments, before, before + timedelta(seconds=10), tmp_path / "none.mp4")
    assert not (tmp_path / "none.mp4").exists()


def test_snapshot_at_instant_is_the_frame_of_that_instant(segments: list[SegmentInfo]) -> None:
    """The JPEG at an instant matches the source frame decoded at the same offset."""
    offset = 37.3
    instant = segments[0].start + timedelta(seconds=offset)
    jpeg = snapshot_at(segments, instant)
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (432, 768, 3)
    with av.open(str(PEOPLE)) as container:
        frames = container.decode(video=0)
        reference = next(f for f in frames if f.time is not None and f.time >= offset - 0.1)
        expected = reference.to_ndarray(format="bgr24")
    assert float(np.mean(np.abs(image.astype(int) - expected.astype(int)))) < 6.0


def test_hls_playlist_starts_at_instant_and_ffmpeg_plays_it(
    segments: list[SegmentInfo], tmp_path: Path
) -> None:
    """An fMP4 HLS playlist with per-segment EXT-X-MAP byte ranges; ffmpeg's HLS client reads it all."""
    instant = segments[3].start + timedelta(seconds=2.5)
    text = build_playlist(segments, instant, lambda s: s.path.as_uri().replace("file://", ""))
    assert text is not None
    assert "#EXT-X-START:TIME-OFFSET=2.500,PRECISE=YES" in text
    assert text.count("#EXT-X-MAP") == len(segments) - 3
    playlist = tmp_path / "index.m3u8"
    playlist.write_text(text)
    result = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-allowed_extensions",
            "ALL",
            "-protocol_whitelist",
            "file",
            "-count_packets",
            "-show_entries",
            "stream=nb_read_packets",
            "-of",
            "csv=p=0",
            str(playlist),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert int(result.stdout.split()[0]) == sum(s.frames for s in segments[3:])


def test_playlist_marks_gaps_as_discontinuities(segments: list[SegmentInfo]) -> None:
    shifted = [*segments[:2], *[_moved(s, timedelta(minutes=5)) for s in segments[2:4]]]
    text = build_playlist(shifted, segments[0].start, lambda s: s.path.name)
    assert text is not None and text.count("#EXT-X-DISCONTINUITY") == 1
    assert build_playlist(segments, segments[-1].end + timedelta(seconds=1), str) is None


def _moved(seg: SegmentInfo, delta: timedelta) -> SegmentInfo:
    return SegmentInfo(
        seg.camera_id, seg.path, seg.start + delta, seg.end + delta, seg.size, seg.init_size, seg.frames
    )
