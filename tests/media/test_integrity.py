"""Issue 10 item 4: the start-up check of indexed footage, names that are not segments, durable writes."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from tests.media.helpers import PEOPLE, needs_assets, record_file
from vakt.media.durable import make_dirs, publish, write_file
from vakt.media.integrity import check_segment
from vakt.media.recovery import QUARANTINE_SUFFIX, recover_orphans
from vakt.media.segments import SegmentInfo

pytestmark = needs_assets


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> list[SegmentInfo]:
    return record_file(PEOPLE, tmp_path_factory.mktemp("media"), segment_seconds=2.0, audio=False)[:6]


def copy_of(seg: SegmentInfo, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(seg.path, folder / seg.path.name))


def test_whole_segments_pass(recorded: list[SegmentInfo]) -> None:
    for seg in recorded:
        assert seg.size == seg.path.stat().st_size
        assert check_segment(seg.path, seg.size, seg.init_size) is None


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("missing", "the file is missing"),
        ("truncated", "bytes,"),
        ("zeroed", "not a fragmented MP4"),
        ("zeroed media", "not a fragmented MP4"),
        ("zeroed first frame", "no H.264 video"),
        ("header replaced", "MP4 header"),
    ],
)
def test_damaged_segments_are_found_with_a_reason(
    recorded: list[SegmentInfo], tmp_path: Path, damage: str, expected: str
) -> None:
    """Truncated, zeroed (whole file, a block of media, the first frame) or missing: never "good"."""
    seg = recorded[1]
    path = copy_of(seg, tmp_path)
    data = bytearray(path.read_bytes())
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        os.truncate(path, seg.size // 2)
    elif damage == "zeroed":
        path.write_bytes(bytes(len(data)))
    elif damage == "zeroed media":
        data[seg.init_size + 100 : seg.init_size + 20_000] = bytes(19_900)
        path.write_bytes(bytes(data))
    elif damage == "zeroed first frame":
        # boxes intact, the first fragment's media zeroed: what a lost page of a power cut looks like
        moof_size = int.from_bytes(data[seg.init_size : seg.init_size + 4], "big")
        media = seg.init_size + moof_size + 8
        data[media : media + 4096] = bytes(4096)
        path.write_bytes(bytes(data))
    else:
        data[4:8] = b"free"
        path.write_bytes(bytes(data))
    reason = check_segment(path, seg.size, seg.init_size)
    assert reason is not None and expected in reason


def test_unexpected_name_is_reported_as_such(
    recorded: list[SegmentInfo], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A file named otherwise is reported by its name ("unexpected file name ... in <folder>") and left
    alone, not quarantined as "no video frames"; a garbage segment-named file is moved aside."""
    folder = tmp_path / "camera-1" / "2026-12-02"
    odd = copy_of(recorded[0], folder).rename(folder / "holiday.mp4")
    garbage = folder / "20261202T000000_000000Z.mp4"
    garbage.write_bytes(b"\x00" * 1000)
    caplog.set_level(logging.WARNING)
    assert recover_orphans(tmp_path, 1, indexed=set()) == []
    messages = [r.getMessage() for r in caplog.records]
    assert any("unexpected file name 'holiday.mp4' in " + str(folder) in m for m in messages), messages
    assert not any("holiday.mp4" in m and "no video frames" in m for m in messages)
    assert odd.exists(), "a file that is not ours is left where it is"
    assert garbage.with_name(garbage.name + QUARANTINE_SUFFIX).exists()
    assert "unexpected file name" in (check_segment(odd, 1, 1) or "")


def test_durable_helpers_leave_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "snapshot.jpg"
    write_file(target, b"jpeg")
    write_file(target, b"jpeg2")
    assert target.read_bytes() == b"jpeg2" and sorted(p.name for p in target.parent.iterdir()) == [
        "snapshot.jpg"
    ]
    make_dirs(tmp_path / "c" / "d")
    part = tmp_path / "c" / "d" / "x.mp4.part"
    part.write_bytes(b"data")
    publish(part, part.with_name("x.mp4"))
    assert not part.exists() and part.with_name("x.mp4").read_bytes() == b"data"
