"""Smoke test of bench/bench_camera.py with tiny sizes (no timing asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_camera.py"


@pytest.mark.timeout(120)
def test_bench_camera_runs_and_prints_its_figures(assets: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_camera", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.main(["--seconds", "1", "--clients", "1,2"])
    assert "| 2 |" in text and "Baseline" in text
