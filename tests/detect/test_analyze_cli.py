"""``vakt analyze`` prints one JSON line per frame then one per event (same pipeline as the hub)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import av
import pytest

REPO = Path(__file__).resolve().parents[2]
VAKT = (
    [sys.executable, "-m", "vakt.cli"]
    if not (REPO / ".venv/bin/vakt").exists()
    else [str(REPO / ".venv/bin/vakt")]
)


@pytest.fixture(scope="module")
def short_clip(assets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seconds 5-9 of people_indoor (a person walks in at about 6.5 s), stream-copied by ffmpeg."""
    out = tmp_path_factory.mktemp("clip") / "entering.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-ss",
            "5",
            "-i",
            str(assets / "video" / "people_indoor_768x432.mp4"),
            "-t",
            "4",
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            str(out),
        ],
        check=True,
    )
    return out


def _analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VAKT, "analyze", *args], capture_output=True, text=True, timeout=120)


def test_analyze_prints_a_line_per_frame_then_the_person_event(short_clip: Path, model_path: Path) -> None:
    run = _analyze(str(short_clip), "--model", str(model_path))
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    with av.open(str(short_clip)) as container:
        n_frames = sum(1 for _ in container.decode(video=0))
    per_frame = [d for d in lines if "frame" in d]
    assert [d["frame"] for d in per_frame] == list(range(n_frames))
    assert per_frame[0]["pts"] == 0 and all(b["pts"] > a["pts"] for a, b in itertools.pairwise(per_frame))
    events = lines[len(per_frame) :]
    assert len(events) == 1 and events[0]["event"] == "person"
    assert 0.5 <= events[0]["start"] < events[0]["end"] <= per_frame[-1]["pts"]
    seen = [d for d in per_frame if d["persons"]]
    # the event starts at the first sighting; boxes are drawn once the track is confirmed
    assert seen and 0 <= seen[0]["pts"] - events[0]["start"] <= 1.0
    x1, y1, x2, y2, score = seen[-1]["persons"][0]
    assert 0 <= x1 < x2 <= 768 and 0 <= y1 < y2 <= 432 and 0 < score <= 1  # pixels of the original frame


def test_analyze_all_frames_gives_boxes_on_every_frame_with_a_person(
    short_clip: Path, model_path: Path
) -> None:
    run = _analyze(str(short_clip), "--model", str(model_path), "--all-frames")
    assert run.returncode == 0, run.stderr
    per_frame = [json.loads(line) for line in run.stdout.splitlines() if line.startswith('{"frame"')]
    last_second = per_frame[-10:]
    assert all(d["persons"] for d in last_second)


def test_analyze_reports_bad_input_clearly(tmp_path: Path, model_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video")
    run = _analyze(str(broken), "--model", str(model_path))
    assert run.returncode == 2 and "cannot open video" in run.stderr and run.stdout == ""
    run = _analyze(str(broken), "--model", str(tmp_path / "none.onnx"))
    assert run.returncode == 2 and "not found" in run.stderr
    assert _analyze(str(broken), "--sensitivity", "101").returncode != 0
