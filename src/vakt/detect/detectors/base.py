"""The detector plugin interface: frames in, person detections out."""

from __future__ import annotations

from abc import ABC, abstractmethod

import cv2
import numpy as np

from vakt.detect.types import Detection


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Indices kept by greedy non-maximum suppression (OpenCV's implementation)."""
    if len(boxes) == 0:
        return []
    xywh = np.concatenate((boxes[:, :2], boxes[:, 2:] - boxes[:, :2]), axis=1)
    kept = cv2.dnn.NMSBoxes(xywh.tolist(), scores.tolist(), 0.0, iou_threshold)
    return [int(i) for i in np.asarray(kept).reshape(-1)]


class Detector(ABC):
    """A person detector. ``detect`` takes a BGR image and returns person boxes in its pixels."""

    #: False for the motion-only plugin: the pipeline then turns motion into events itself.
    finds_people: bool = True

    @abstractmethod
    def candidates(self, image: np.ndarray, score_threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """Person boxes (N, 4) in ``image`` pixels and their scores (N,), before NMS."""

    def detect(self, image: np.ndarray, score_threshold: float, nms_iou: float = 0.45) -> list[Detection]:
        """Person detections in ``image`` with a score of at least ``score_threshold``, after NMS."""
        boxes, scores = self.candidates(image, score_threshold)
        return [
            Detection(
                (float(boxes[i, 0]), float(boxes[i, 1]), float(boxes[i, 2]), float(boxes[i, 3])),
                float(scores[i]),
            )
            for i in nms(boxes, scores, nms_iou)
        ]

    @property
    def description(self) -> str:
        return type(self).__name__
