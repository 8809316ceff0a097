"""Smoke test of bench/bench_recording.py's worker with tiny sizes (no timing asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.media.camera_process import CameraProcess
from tests.media.helpers import PEOPLE, needs_assets
from vakt.broker.embedded import free_port

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_recording.py"
pytestmark = [needs_assets, pytest.mark.slow]


def test_bench_worker_records_two_cameras(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_recording", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    cam = CameraProcess(PEOPLE, tmp_path / "cam", free_port())
    cam.start()
    try:
        result = bench.worker(cam.url, 4.0, 2, tmp_path / "out")
    finally:
        cam.kill()
    assert result["frames"] > 20 and result["sessions"] == 2 and result["cpu"] > 0
    assert list((tmp_path / "out").rglob("*.mp4")) or list((tmp_path / "out").rglob("*.part"))
