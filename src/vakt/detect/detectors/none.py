"""The ``none`` detector: motion-only alerts when no model is available."""

from __future__ import annotations

import numpy as np

from vakt.detect.detectors.base import Detector


class MotionOnlyDetector(Detector):
    """Finds nothing by itself; the pipeline reports motion regions instead of people."""

    finds_people = False

    def candidates(self, image: np.ndarray, score_threshold: float) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)

    @property
    def description(self) -> str:
        return "motion only (no person model)"
