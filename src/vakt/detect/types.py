"""Plain value types shared by the detection pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# A box is (x1, y1, x2, y2) in pixels of the original frame.
Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Detection:
    """One object found by a detector in one frame."""

    box: Box
    score: float
    label: int = 0

    @property
    def area(self) -> float:
        return box_area(self.box)


@dataclass(slots=True)
class PersonEvent:
    """A stretch of time in which at least one person was seen (C8.1)."""

    start: float
    end: float | None = None
    label: str = "person"  # "motion" when no person model is available
    score: float = 0.0
    box: Box | None = None
    snapshot_pts: float | None = None
    snapshot_jpeg: bytes | None = field(default=None, repr=False)
    track_ids: set[int] = field(default_factory=set)

    @property
    def ongoing(self) -> bool:
        return self.end is None


def box_area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = box_area(a) + box_area(b) - inter
    return inter / union if union > 0 else 0.0


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (N,4) against every box in ``b`` (M,4)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), dtype=np.float32)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0).astype(np.float32)


def as_box(values: np.ndarray | tuple[float, ...] | list[float]) -> Box:
    """Four numbers as a plain-float box."""
    x1, y1, x2, y2 = (float(v) for v in values)
    return (x1, y1, x2, y2)
