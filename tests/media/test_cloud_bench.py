"""Smoke test of bench/bench_cloud.py with a tiny amount of footage (no timing asserted)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

import pytest

from tests.media.helpers import needs_assets

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_cloud.py"
pytestmark = [needs_assets, pytest.mark.slow]


def test_bench_cloud_runs_both_modes() -> None:
    spec = importlib.util.spec_from_file_location("bench_cloud", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCH.parent))
    try:
        spec.loader.exec_module(bench)
        figures = asyncio.run(bench.run(0.5))
    finally:
        sys.path.remove(str(BENCH.parent))
    assert figures["plain_cpu_per_hour"] > 0 and figures["sealed_cpu_per_hour"] > 0
    assert figures["ttff_cloud_sealed_ms"] > 0 and "1.25x" in bench.table(figures)
