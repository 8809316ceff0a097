"""The ``onnx_yolox`` detector: YOLOX-family models run with ONNX Runtime.

Input size and class count are read from the model: COCO models have ``[1, N, 5 + 80]`` outputs
(person = class 0), person-only models ``[1, N, 6]``. Output rows are the raw grid
``[dx, dy, log w, log h, objectness, classes...]`` over strides 8, 16 and 32.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from vakt.detect.detectors.base import Detector

log = logging.getLogger(__name__)

STRIDES = (8, 16, 32)
PAD_VALUE = 114
PERSON_CLASS = 0


class ModelError(RuntimeError):
    """The model file is missing, unreadable or not a YOLOX-family detector."""


def letterbox(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float]:
    """Resize keeping the aspect ratio into the top-left corner of a ``size`` (h, w) canvas."""
    h, w = image.shape[:2]
    ratio = min(size[0] / h, size[1] / w)
    nh, nw = round(h * ratio), round(w * ratio)
    canvas = np.full((size[0], size[1], 3), PAD_VALUE, dtype=np.uint8)
    interp = cv2.INTER_LINEAR if ratio >= 1 else cv2.INTER_AREA
    canvas[:nh, :nw] = cv2.resize(image, (nw, nh), interpolation=interp)
    return canvas, ratio


def grid_for(size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Cell offsets (N, 2) and strides (N, 1) of the YOLOX output grid for an input ``size``."""
    cells, strides = [], []
    for stride in STRIDES:
        gh, gw = size[0] // stride, size[1] // stride
        ys, xs = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
        cells.append(np.stack((xs, ys), axis=-1).reshape(-1, 2))
        strides.append(np.full((gh * gw, 1), stride))
    return np.concatenate(cells).astype(np.float32), np.concatenate(strides).astype(np.float32)


def decode_yolox(
    raw: np.ndarray,
    size: tuple[int, int],
    score_threshold: float,
    class_id: int = PERSON_CLASS,
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (x1, y1, x2, y2 in input pixels) and scores of ``class_id`` from a raw YOLOX output."""
    rows = raw.reshape(-1, raw.shape[-1])
    cells, strides = grid_for(size)
    if len(rows) != len(cells):
        raise ModelError(f"model output has {len(rows)} rows, a {size[1]}x{size[0]} grid has {len(cells)}")
    scores = rows[:, 4] * rows[:, 5 + class_id]
    keep = scores >= score_threshold
    rows, scores, cells, strides = rows[keep], scores[keep], cells[keep], strides[keep]
    xy = (rows[:, 0:2] + cells) * strides
    wh = np.exp(rows[:, 2:4]) * strides
    boxes = np.concatenate((xy - wh / 2, xy + wh / 2), axis=1)
    return boxes, scores


class OnnxYoloxDetector(Detector):
    """Person detector for YOLOX-family ONNX models (any input size, 1 or 80 classes)."""

    def __init__(self, model_path: Path, threads: int = 1, nms_iou: float = 0.45) -> None:
        if not model_path.is_file():
            raise ModelError(f"person model not found: {model_path}")
        options = ort.SessionOptions()
        # the hub shares few cores with recording and live view: keep inference narrow
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"cannot load person model {model_path}: {exc}") from exc
        model_input = self.session.get_inputs()[0]
        shape = model_input.shape
        if len(shape) != 4 or not all(isinstance(d, int) for d in shape[2:]):
            raise ModelError(f"{model_path}: expected a fixed [1, 3, H, W] input, got {shape}")
        self.input_name = model_input.name
        self.input_size: tuple[int, int] = (int(shape[2]), int(shape[3]))
        out_shape = self.session.get_outputs()[0].shape
        if not isinstance(out_shape[-1], int) or out_shape[-1] < 6:
            raise ModelError(f"{model_path}: output {out_shape} is not a YOLOX grid")
        self.num_classes = int(out_shape[-1]) - 5
        self.nms_iou = nms_iou
        self.model_path = model_path
        log.info(
            "person model %s: input %dx%d, %d classes",
            model_path.name,
            self.input_size[1],
            self.input_size[0],
            self.num_classes,
        )

    @property
    def description(self) -> str:
        h, w = self.input_size
        return f"YOLOX {self.model_path.name} ({w}x{h}, {self.num_classes} classes)"

    def raw(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """The raw model output for ``image`` and the letterbox ratio."""
        canvas, ratio = letterbox(image, self.input_size)
        tensor = canvas.transpose(2, 0, 1)[None].astype(np.float32)
        out = self.session.run(None, {self.input_name: tensor})[0]
        return np.asarray(out), ratio

    def candidates(self, image: np.ndarray, score_threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """Person boxes (in ``image`` pixels) and scores before NMS."""
        out, ratio = self.raw(image)
        boxes, scores = decode_yolox(out, self.input_size, score_threshold)
        return boxes / ratio, scores
