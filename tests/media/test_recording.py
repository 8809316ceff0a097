"""Recorder (C7.1): real H.264 footage remuxed into fMP4 segments, read back with PyAV."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import av
import pytest

from tests.media.helpers import CARS, PEOPLE, needs_assets, record_file, source_frame_count, video_packets
from vakt.media.fmp4 import avc_codec_string, scan_file
from vakt.media.recovery import QUARANTINE_SUFFIX, recover_orphans
from vakt.media.segments import PART_SUFFIX, SegmentInfo

pytestmark = needs_assets


@pytest.fixture(scope="module")
def people_segments(tmp_path_factory: pytest.TempPathFactory) -> list[SegmentInfo]:
    return record_file(PEOPLE, tmp_path_factory.mktemp("media"))


def test_segments_are_cut_on_keyframes_about_ten_seconds(people_segments: list[SegmentInfo]) -> None:
    """C7.1: ~10 s segments, each starting with a keyframe, indexed with aware UTC start/end."""
    assert len(people_segments) >= 13
    for seg in people_segments[:-1]:
        assert 10.0 <= seg.duration < 11.5
        packets = video_packets(seg.path)
        assert packets[0][2], "each segment starts on a keyframe"
        assert seg.start.tzinfo is not None and seg.size == seg.path.stat().st_size
        assert seg.frames == len(packets)


def test_no_frame_lost_and_timestamps_continuous(people_segments: list[SegmentInfo]) -> None:
    """Every source frame is recorded once; segment k+1 starts exactly where segment k ends."""
    assert sum(s.frames for s in people_segments) == source_frame_count(PEOPLE)
    for before, after in itertools.pairwise(people_segments):
        last = max(p[0] + p[1] for p in video_packets(before.path))
        first = min(p[0] for p in video_packets(after.path))
        assert first == last
        assert after.start == before.end


def test_segment_is_fragmented_and_decodes(people_segments: list[SegmentInfo]) -> None:
    seg = people_segments[1]
    init_size, playable = scan_file(seg.path)
    assert 0 < init_size < playable == seg.size == seg.init_size + (playable - init_size)
    with av.open(str(seg.path)) as container:
        decoded = sum(1 for _ in container.decode(video=0))
    assert decoded == seg.frames


def test_audio_copied_when_on_and_absent_when_off(tmp_path: Path) -> None:
    """C6 Audio: on -> the AAC track is copied into the recording; off -> no sound recorded."""
    with_audio = record_file(CARS, tmp_path / "on", audio=True)
    without = record_file(CARS, tmp_path / "off", audio=False)
    with av.open(str(with_audio[0].path)) as container:
        assert container.streams.audio and container.streams.audio[0].codec_context.name == "aac"
    with av.open(str(without[0].path)) as container:
        assert not container.streams.audio
    assert with_audio[0].has_audio and not without[0].has_audio


def test_segment_cut_mid_write_is_recovered_to_its_last_fragment(
    people_segments: list[SegmentInfo], tmp_path: Path
) -> None:
    """A segment killed mid-write (no index row, .part, torn last fragment) is indexed up to what plays."""
    seg = people_segments[2]
    cam_dir = tmp_path / "camera-1" / seg.path.parent.name
    cam_dir.mkdir(parents=True)
    torn = cam_dir / (seg.path.name + PART_SUFFIX)
    data = seg.path.read_bytes()
    torn.write_bytes(data[: int(len(data) * 0.6)])
    garbage = cam_dir / "20261122T000000_000000Z.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x08junk" * 100)
    recovered = recover_orphans(tmp_path, 1, indexed=set())
    assert len(recovered) == 1
    info = recovered[0]
    assert info.path.name == seg.path.name and info.path.exists() and not torn.exists()
    assert 0 < info.frames < seg.frames
    assert info.start == seg.start and info.end < seg.end
    with av.open(str(info.path)) as container:
        assert sum(1 for _ in container.decode(video=0)) == info.frames
    assert not garbage.exists() and garbage.with_name(garbage.name + QUARANTINE_SUFFIX).exists()


def test_indexed_files_are_left_alone(people_segments: list[SegmentInfo], tmp_path: Path) -> None:
    target = tmp_path / "camera-1" / "d"
    target.mkdir(parents=True)
    copy = target / people_segments[0].path.name
    shutil.copy(people_segments[0].path, copy)
    assert recover_orphans(tmp_path, 1, indexed={copy}) == []


def test_codec_string_from_avcc_and_annexb() -> None:
    """MSE needs avc1.PPCCLL; RTSP gives Annex-B SPS, MP4 gives avcC."""
    with av.open(str(PEOPLE)) as container:
        extradata = container.streams.video[0].codec_context.extradata
    assert avc_codec_string(extradata) == "avc1.4D401F"  # Main profile, level 3.1
    annexb = b"\x00\x00\x00\x01\x67\x64\x00\x28\xac" + b"\x00\x00\x00\x01\x68\xee"
    assert avc_codec_string(annexb) == "avc1.640028"
