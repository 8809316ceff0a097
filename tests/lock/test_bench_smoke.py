"""A tiny run of bench/bench_fingerprint.py, so the benchmark keeps working (figures: README)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_fingerprint.py"


def test_bench_fingerprint_runs_with_tiny_sizes() -> None:
    spec = importlib.util.spec_from_file_location("bench_fingerprint", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    figures = module.run(50, probes=1, identify=2, loop_probes=2)
    assert figures.impostor_comparisons == 50 * 49 + 2 * 49
    assert len(figures.genuine) == 50 and len(figures.loop_cpu_ms) == 2
    text = module.report(figures)
    assert "FAR" in text and "FRR" in text and "p99" in text
