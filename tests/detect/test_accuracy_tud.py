"""C8 accuracy on real footage: the benchmark's own accuracy run (the pipeline with --all-frames on the
whole of TUD-Stadtmitte, and the same model run naively on every full frame, scored against the MOT
ground truth at IoU 0.5) meets the issue's target and beats the naive baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

import bench_detection
from vakt.detect.detectors import OnnxYoloxDetector


def test_c8_all_frames_recall_and_precision_on_tud_stadtmitte(assets: Path, model_path: Path) -> None:
    video = assets / "video" / "TUD-Stadtmitte_640x480.mp4"
    truth = assets / "groundtruth" / "TUD-Stadtmitte" / "gt.txt"
    if not video.is_file() or not truth.is_file():
        pytest.skip("TUD-Stadtmitte footage or ground truth not in the shared assets")
    gt = bench_detection.load_gt(truth)
    ours, _, _, _ = bench_detection.pipeline_run(video, model_path, None, all_frames=True)
    accuracy = bench_detection.evaluate([boxes for _, boxes in ours], gt)
    assert accuracy.recall >= 0.88 and accuracy.precision >= 0.93, accuracy

    naive, _ = bench_detection.naive(video, OnnxYoloxDetector(model_path), None)
    baseline = bench_detection.evaluate([boxes for _, boxes in naive], gt)
    assert accuracy.recall > baseline.recall and accuracy.precision >= baseline.precision, baseline
