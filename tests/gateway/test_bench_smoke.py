"""Smoke test of bench/bench_gateway.py with tiny sizes: it runs, and every event arrives once (G7)."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import pytest

pytestmark = [pytest.mark.timeout(120), pytest.mark.mosquitto]
BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_gateway.py"


def test_bench_gateway_runs_with_tiny_sizes() -> None:
    spec = importlib.util.spec_from_file_location("bench_gateway", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = asyncio.run(bench.run(10))
    assert rows[0][0].startswith("QoS 1 publish") and len(rows) == 3
    assert all(t > 0 for _, t, _ in rows)
    assert "events/s" in bench.render(rows, 10)
