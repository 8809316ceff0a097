"""The analysis pipeline of one camera: motion -> detector on moving regions -> tracker -> events."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import cv2
import numpy as np

from vakt.detect.config import DetectConfig, Tuning
from vakt.detect.detectors import Detector, create_detector, nms
from vakt.detect.events import EventUpdate, PersonEventBuilder
from vakt.detect.motion import MotionDetector
from vakt.detect.regions import detection_regions
from vakt.detect.tracker import TrackedPerson, Tracker, TrackerConfig
from vakt.detect.types import Box, Detection, PersonEvent, as_box, box_area

log = logging.getLogger(__name__)


@dataclass
class FrameResult:
    """What the pipeline saw on one frame."""

    pts: float
    analysed: bool
    persons: list[TrackedPerson] = field(default_factory=list)
    motion: list[Box] = field(default_factory=list)
    events: EventUpdate = field(default_factory=EventUpdate)


class Pipeline:
    """Runs on every decoded frame; analyses only those the settings ask for (C8)."""

    def __init__(self, config: DetectConfig, detector: Detector | None = None) -> None:
        self.config = config
        self.tuning = Tuning.for_sensitivity(config.sensitivity)
        self.detector = detector if detector is not None else create_detector(config.detector)
        t = self.tuning
        self.motion = MotionDetector(
            width=t.motion_width, threshold=t.motion_threshold, min_area=t.min_motion_area
        )
        self.tracker = Tracker(TrackerConfig(high_score=max(t.score_threshold, 0.45)))
        label = "person" if self.detector.finds_people else "motion"
        self.events = PersonEventBuilder(config.event_end_after, self._encode, label=label)
        self._last_analysed: float | None = None
        self.frames_analysed = 0
        self.detector_runs = 0

    @property
    def motion_only(self) -> bool:
        return not self.detector.finds_people

    def process(self, frame: np.ndarray, pts: float) -> FrameResult:
        """Feed one BGR frame at stream time ``pts`` (seconds)."""
        if not self._due(pts):
            persons = self.tracker.people(pts)
            result = FrameResult(pts, analysed=False, persons=persons)
            result.events = self.events.update(pts, persons, None)
            return result
        self._last_analysed = pts
        self.frames_analysed += 1
        motion = [] if self.config.all_frames else self.motion.detect(frame)
        detections = self._detect(frame, motion)
        if self.motion_only:
            detections = [Detection(b, 1.0) for b in motion]
        persons = self.tracker.update(pts, detections)
        first_seen = min((t.first_seen for t in self.tracker.tracks if t.hits >= 2), default=None)
        result = FrameResult(pts, analysed=True, persons=persons, motion=motion)
        result.events = self.events.update(pts, persons, frame, first_seen)
        return result

    def finish(self) -> PersonEvent | None:
        return self.events.finish()

    def _due(self, pts: float) -> bool:
        if self.config.all_frames or self._last_analysed is None:
            return True
        # a small tolerance so 10 fps video analysed at 5 fps takes every other frame exactly
        return pts - self._last_analysed >= 1 / self.config.fps - 1e-3

    def _detect(self, frame: np.ndarray, motion: list[Box]) -> list[Detection]:
        if self.motion_only:
            return []
        h, w = frame.shape[:2]
        if self.config.all_frames:
            regions: list[tuple[int, ...]] = [(0, 0, w, h)]
        else:
            # people standing still make no motion: keep looking where the tracker last saw them
            watched = motion + [
                as_box(t.predict(self._last_analysed or 0.0))
                for t in self.tracker.tracks
            ]
            if not watched:
                return []
            regions = detection_regions(watched, w, h, min_side=int(self.tuning.region_side * min(h, w)))
        boxes, scores = [], []
        for x1, y1, x2, y2 in regions:
            self.detector_runs += 1
            b, s = self.detector.candidates(frame[y1:y2, x1:x2], self.tuning.score_threshold)
            boxes.append(b + np.array([x1, y1, x1, y1], dtype=b.dtype))
            scores.append(s)
        all_boxes = np.concatenate(boxes) if boxes else np.zeros((0, 4))
        all_scores = np.concatenate(scores) if scores else np.zeros(0)
        min_area = self.tuning.min_person_area * w * h
        out = []
        for i in nms(all_boxes, all_scores, 0.45):
            box = (
                float(all_boxes[i, 0]),
                float(all_boxes[i, 1]),
                float(all_boxes[i, 2]),
                float(all_boxes[i, 3]),
            )
            if box_area(box) >= min_area:
                out.append(Detection(box, float(all_scores[i])))
        return out

    def _encode(self, frame: np.ndarray) -> bytes:
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.config.snapshot_quality])
        if not ok:
            raise ValueError("could not encode the snapshot as JPEG")
        return buf.tobytes()
