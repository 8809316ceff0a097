"""The detection benchmark runs (tiny sizes) and scores detections against MOT ground truth correctly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

import bench_detection  # noqa: E402


def test_evaluate_counts_matches_misses_and_ignores_ignore_regions() -> None:
    gt = {0: [((0, 0, 10, 20), True), ((50, 0, 60, 20), True), ((100, 0, 110, 20), False)]}
    frames = [[(0, 0, 10, 19), (100, 0, 110, 20), (200, 0, 210, 20), (0, 1, 10, 20)]]
    acc = bench_detection.evaluate(frames, gt)
    # one match; the ignore-region hit counts neither way; a stray box and a duplicate are false
    assert (acc.tp, acc.fp, acc.fn) == (1, 2, 1)


def test_bench_runs_on_a_few_frames(assets: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_detection.py"), "--assets", str(assets),
         "--frames", "12", "--only", "accuracy"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "naive every frame" in run.stdout and "vakt --all-frames" in run.stdout
