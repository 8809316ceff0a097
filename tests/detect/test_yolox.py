"""The onnx_yolox plugin: decode of the raw grid, sizes and classes read from the model, real footage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydantic
import pytest

from tests.detect.conftest import frames
from vakt.detect.config import DetectConfig, NoDetectorConfig, OnnxYoloxConfig
from vakt.detect.detectors import ModelError, MotionOnlyDetector, OnnxYoloxDetector, create_detector
from vakt.detect.detectors.onnx_yolox import decode_yolox, grid_for, letterbox


def test_grid_covers_strides_8_16_32_for_any_input_size() -> None:
    cells, strides = grid_for((416, 416))
    assert len(cells) == 52 * 52 + 26 * 26 + 13 * 13 == 3549
    cells, strides = grid_for((64, 96))
    assert len(cells) == 8 * 12 + 4 * 6 + 2 * 3
    assert set(strides.ravel().tolist()) == {8.0, 16.0, 32.0}


def _raw(size: tuple[int, int], classes: int, cell: int, row: list[float]) -> np.ndarray:
    n = len(grid_for(size)[0])
    raw = np.zeros((1, n, 5 + classes), np.float32)
    raw[0, cell, : len(row)] = row
    return raw


def test_decode_maps_a_cell_to_its_box_and_scores_objectness_times_class() -> None:
    # cell 10 of the stride-8 grid of a 64x64 input is column 2, row 1
    raw = _raw((64, 64), 80, 10, [0.5, 0.5, np.log(2), np.log(4), 0.9, 0.8])
    boxes, scores = decode_yolox(raw, (64, 64), 0.5)
    assert scores.tolist() == pytest.approx([0.72])
    # centre (2.5 * 8, 1.5 * 8) = (20, 12), size (16, 32)
    assert boxes[0].tolist() == pytest.approx([12, -4, 28, 28])
    assert len(decode_yolox(raw, (64, 64), 0.75)[0]) == 0


def test_decode_refuses_an_output_that_does_not_fit_the_grid() -> None:
    with pytest.raises(ModelError, match="grid"):
        decode_yolox(np.zeros((1, 100, 6), np.float32), (64, 64), 0.3)


def test_letterbox_puts_the_image_top_left_and_pads_with_114() -> None:
    canvas, ratio = letterbox(np.zeros((100, 200, 3), np.uint8), (64, 64))
    assert ratio == pytest.approx(0.32)
    assert canvas.shape == (64, 64, 3) and canvas[0, 0, 0] == 0 and canvas[40, 10, 0] == 114


def _single_class_model(path: Path, size: tuple[int, int], raw: np.ndarray) -> Path:
    """A person-only YOLOX-shaped model ([1, N, 6] output) whose output is the given grid."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, *size])
    output = helper.make_tensor_value_info("output", TensorProto.FLOAT, list(raw.shape))
    # output = raw + 0 * mean(images): a constant grid that still consumes the input
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["m"], keepdims=0),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Add", ["grid", "z"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "person_only",
        [images],
        [output],
        initializer=[numpy_helper.from_array(raw, "grid"), numpy_helper.from_array(np.float32(0), "zero")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_single_class_model_of_another_size_is_read_from_the_model(tmp_path: Path) -> None:
    size = (64, 96)
    raw = _raw(size, 1, 0, [0.5, 0.5, np.log(2), np.log(4), 0.9, 0.9])
    path = _single_class_model(tmp_path / "person_only.onnx", size, raw)
    detector = OnnxYoloxDetector(path)
    assert detector.input_size == (64, 96) and detector.num_classes == 1
    # a 192x128 image letterboxes with ratio 0.5, so the box doubles back to image pixels
    found = detector.detect(np.zeros((128, 192, 3), np.uint8), 0.5)
    assert len(found) == 1
    assert list(found[0].box) == pytest.approx([-8, -24, 24, 40])  # centre (4, 4), size (16, 32), doubled
    assert found[0].score == pytest.approx(0.81)


def test_bad_model_paths_and_files_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        OnnxYoloxDetector(tmp_path / "missing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot load"):
        OnnxYoloxDetector(junk)


def test_detector_plugin_is_chosen_by_its_type_field(model_path: Path) -> None:
    config = DetectConfig.model_validate({"detector": {"type": "onnx_yolox", "model_path": str(model_path)}})
    assert isinstance(config.detector, OnnxYoloxConfig)
    assert isinstance(create_detector(config.detector), OnnxYoloxDetector)
    assert isinstance(create_detector(NoDetectorConfig()), MotionOnlyDetector)
    with pytest.raises(pydantic.ValidationError):
        DetectConfig.model_validate({"detector": {"type": "tflite"}})
    with pytest.raises(pydantic.ValidationError):
        DetectConfig.model_validate({"sensitivity": 0})


def test_real_model_finds_the_pedestrians_of_tud_stadtmitte(assets: Path, model_path: Path) -> None:
    frame, _ = frames(assets / "video" / "TUD-Stadtmitte_640x480.mp4", 0, 1)[0]
    found = OnnxYoloxDetector(model_path).detect(frame, 0.3)
    # ground truth has 7 people in frame 1; some stand partly hidden behind others
    assert 5 <= len(found) <= 9
    for det in found:
        x1, y1, x2, y2 = det.box
        assert 0 <= x1 < x2 <= 645 and 0 <= y1 < y2 <= 485 and y2 - y1 > x2 - x1  # upright people
