"""Motion detection on a small grey frame: blur, running background, threshold, dilate, contours."""

from __future__ import annotations

import cv2
import numpy as np

from vakt.detect.types import Box


class MotionDetector:
    """Finds the regions of a frame that changed against a slowly adapting background."""

    def __init__(
        self,
        width: int = 240,
        threshold: int = 25,
        min_area: float = 0.002,
        learning_rate: float = 0.05,
        lighting_change: float = 0.6,
    ) -> None:
        self.width = width
        self.threshold = threshold
        self.min_area = min_area
        self.learning_rate = learning_rate
        # more than this fraction of the frame changing at once is a light switch, not an intruder
        self.lighting_change = lighting_change
        self._background: np.ndarray | None = None

    def reset(self) -> None:
        self._background = None

    def detect(self, frame: np.ndarray) -> list[Box]:
        """Moving regions as boxes in ``frame`` pixels; on the first frame everything is new (whole frame)."""
        h, w = frame.shape[:2]
        scale = self.width / w
        # linear is several times cheaper than area averaging, and the blur below smooths the aliasing
        small = cv2.resize(frame, (self.width, max(1, round(h * scale))), interpolation=cv2.INTER_LINEAR)
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
        gray = cv2.GaussianBlur(gray, (5, 5), 0).astype(np.float32)
        if self._background is None or self._background.shape != gray.shape:
            self._background = gray
            return [(0.0, 0.0, float(w), float(h))]
        diff = cv2.absdiff(gray, self._background)
        cv2.accumulateWeighted(gray, self._background, self.learning_rate)
        mask = np.where(diff > self.threshold, 255, 0).astype(np.uint8)
        if mask.mean() / 255 > self.lighting_change:
            self._background = gray
            return []
        mask = np.asarray(cv2.dilate(mask, np.ones((5, 5), np.uint8), iterations=2), dtype=np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_px = self.min_area * mask.shape[0] * mask.shape[1]
        boxes: list[Box] = []
        for contour in contours:
            if cv2.contourArea(contour) < min_px:
                continue
            x, y, bw, bh = cv2.boundingRect(contour)
            boxes.append((x / scale, y / scale, (x + bw) / scale, (y + bh) / scale))
        return boxes
