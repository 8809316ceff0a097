"""Smoke run of bench/bench_hub_scale.py with tiny sizes: the benchmark still runs end to end (G7)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_hub_scale.py"


@pytest.mark.mosquitto
async def test_bench_hub_scale_runs_with_tiny_sizes() -> None:
    spec = importlib.util.spec_from_file_location("bench_hub_scale", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # dataclasses look their module up there
    spec.loader.exec_module(bench)
    text = await bench.main(
        gateways=3, count=60, dbs=["sqlite"], publisher_count=2, paced_seconds=0, baseline_runs=1
    )
    assert "| sqlite |" in text and "events/s" in text
