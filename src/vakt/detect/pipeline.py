"""The analysis pipeline of one camera: motion -> detector on moving regions -> tracker -> events."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import cv2
import numpy as np

from vakt.detect.config import DetectConfig, Tuning
from vakt.detect.detectors import Detector, create_detector, nms
from vakt.detect.events import EventUpdate, PersonEventBuilder
from vakt.detect.fusion import View, weighted_box_fusion
from vakt.detect.motion import MotionDetector
from vakt.detect.regions import cut_by_region, detection_regions, frame_tiles
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


def _centre_inside(inner: Box, outer: np.ndarray, margin: float = 0.25) -> bool:
    cx, cy = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
    mx, my = margin * (outer[2] - outer[0]), margin * (outer[3] - outer[1])
    return bool(outer[0] - mx <= cx <= outer[2] + mx and outer[1] - my <= cy <= outer[3] + my)


# seconds during which motion where the detector just looked (and found only the known people) is trusted
RECHECK = 0.5
# --all-frames: each view keeps neighbours overlapping up to this IoU (people in a crowd), then the views
# are fused (vakt.detect.fusion); candidates down to CANDIDATE_SHARE of the score threshold take part,
# and a fused person needs FUSED_SHARE of it (a box only one of two views found has half its score)
VIEW_NMS_IOU = 0.6
FUSION_IOU = 0.55
CANDIDATE_SHARE = 0.5
FUSED_SHARE = 0.6


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
        # between detector runs a track must survive two missed looks before it is dropped
        max_coast = max(1.0, 2.0 / config.tracking_fps) if not config.all_frames else 1.0
        # analysing every frame, a box is drawn only where the detector saw a person in that frame (coasting
        # added more wrong boxes than right ones, bench/bench_detection.py on TUD-Stadtmitte), or for up to
        # 0.5 s where a tracked person is hidden behind someone nearer the camera, whom no detector can see
        show_coast = 0.0 if config.all_frames else 0.3
        self.tracker = Tracker(
            TrackerConfig(
                high_score=max(t.score_threshold, 0.45),
                max_coast=max_coast,
                show_coast=show_coast,
                occluded_coast=0.5 if config.all_frames else 0.0,
            )
        )
        self._coast = 0.0 if config.all_frames else 1 / config.tracking_fps + 1 / config.fps
        self._last_detect: float | None = None
        self._last_regions: list[tuple[int, ...]] = []
        self._last_motion_area = 0.0
        self._eager = False
        label = "person" if self.detector.finds_people else "motion"
        self.events = PersonEventBuilder(config.event_end_after, self._encode, label=label)
        self._last_analysed: float | None = None
        self.frames_analysed = 0
        self.detector_runs = 0

    @property
    def motion_only(self) -> bool:
        return not self.detector.finds_people

    def due(self, pts: float) -> bool:
        """Whether the frame at ``pts`` will be analysed: callers may skip converting frames that are not."""
        return self._due(pts)

    def process(self, frame: np.ndarray | None, pts: float) -> FrameResult:
        """Feed one BGR frame at stream time ``pts`` (seconds); ``None`` for a frame not :meth:`due`."""
        if frame is None or not self._due(pts):
            return self._predicted(pts, analysed=False)
        self._last_analysed = pts
        self.frames_analysed += 1
        motion = [] if self.config.all_frames else self.motion.detect(frame)
        if self._tracked_enough(pts, motion):
            result = self._predicted(pts, analysed=True)
            result.motion = motion
            return result
        self._last_detect = pts
        self._last_motion_area = max((box_area(m) for m in motion), default=0.0)
        detections = self._detect(frame, motion)
        if self.motion_only:
            detections = [Detection(b, 1.0) for b in motion]
        persons = self.tracker.update(pts, detections)
        # someone seen once and not yet confirmed: look at the very next frame, the alert waits on it
        confirmed = self.tracker.confirmed()
        self._eager = len(confirmed) < len(self.tracker.tracks)
        first_seen = min((t.first_seen for t in confirmed), default=None)
        result = FrameResult(pts, analysed=True, persons=persons, motion=motion)
        result.events = self.events.update(pts, persons, frame, first_seen)
        return result

    def finish(self) -> PersonEvent | None:
        return self.events.finish()

    def _predicted(self, pts: float, analysed: bool) -> FrameResult:
        persons = self.tracker.people(pts, coast=self._coast)
        result = FrameResult(pts, analysed=analysed, persons=persons)
        result.events = self.events.update(pts, persons, None)
        return result

    def _tracked_enough(self, pts: float, motion: list[Box]) -> bool:
        """Skip the detector when every moving thing is a person tracked and looked at within the tracking
        interval, or lies where the detector looked a moment ago (``RECHECK`` s) and found nobody new."""
        if self.config.all_frames or self.motion_only or self._last_detect is None:
            return False
        since = pts - self._last_detect + 1e-3
        tracked = [t.predict(pts) for t in self.tracker.confirmed()]
        looked = [np.asarray(r, dtype=np.float64) for r in self._last_regions] if since < RECHECK else []
        if since >= 1 / self.config.tracking_fps or not (tracked or looked):
            return False
        # a moving blob that grew since the last look may be someone stepping in: look again at once
        grown = 1.25 * self._last_motion_area
        return all(
            any(_centre_inside(m, b) for b in tracked)
            or (box_area(m) <= grown and any(_centre_inside(m, r, margin=0.0) for r in looked))
            for m in motion
        )

    def _due(self, pts: float) -> bool:
        if self.config.all_frames or self._last_analysed is None or self._eager:
            return True
        # a small tolerance so 10 fps video analysed at 5 fps takes every other frame exactly
        return pts - self._last_analysed >= 1 / self.config.fps - 1e-3

    def _detect(self, frame: np.ndarray, motion: list[Box]) -> list[Detection]:
        if self.motion_only:
            return []
        h, w = frame.shape[:2]
        if self.config.all_frames:
            regions: list[tuple[int, ...]] = list(frame_tiles(w, h))
        else:
            # people standing still make no motion: keep looking where the tracker last saw them
            watched = motion + [as_box(t.predict(self._last_analysed or 0.0)) for t in self.tracker.tracks]
            if not watched:
                return []
            regions = detection_regions(watched, w, h, min_side=int(self.tuning.region_side * min(h, w)))
        self._last_regions = regions
        if self.config.all_frames:
            all_boxes, all_scores = self._fused_views(frame, regions)
            floor = FUSED_SHARE * self.tuning.score_threshold
            kept: list[int] = [i for i, s in enumerate(all_scores) if s >= floor]
        else:
            all_boxes, all_scores = self._candidates(frame, regions, self.tuning.score_threshold)
            kept = nms(all_boxes, all_scores, 0.45)
        min_area = self.tuning.min_person_area * w * h
        out = []
        for i in kept:
            box = as_box(all_boxes[i])
            if box_area(box) >= min_area:
                out.append(Detection(box, float(all_scores[i])))
        return out

    def _candidates(
        self, frame: np.ndarray, regions: list[tuple[int, ...]], threshold: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """The detector on each crop, boxes mapped back to the frame, all crops together (before NMS)."""
        boxes, scores = [], []
        for x1, y1, x2, y2 in regions:
            self.detector_runs += 1
            b, s = self.detector.candidates(frame[y1:y2, x1:x2], threshold)
            boxes.append(b + np.array([x1, y1, x1, y1], dtype=b.dtype))
            scores.append(s)
        all_boxes = np.concatenate(boxes) if boxes else np.zeros((0, 4))
        return all_boxes, np.concatenate(scores) if scores else np.zeros(0)

    def _fused_views(
        self, frame: np.ndarray, regions: list[tuple[int, ...]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """--all-frames: each view (whole frame, tiles) through its own NMS, then weighted box fusion."""
        h, w = frame.shape[:2]
        views = []
        for region in regions:
            x1, y1, x2, y2 = region
            b, s = self._candidates(frame, [region], CANDIDATE_SHARE * self.tuning.score_threshold)
            # a tile cuts people in half; the whole frame has them whole
            keep = ~cut_by_region(b, region, w, h)
            b, s = b[keep], s[keep]
            kept = nms(b, s, VIEW_NMS_IOU)
            views.append(View(b[kept].reshape(-1, 4), s[kept], (x1, y1, x2, y2)))
        return weighted_box_fusion(views, FUSION_IOU)

    def _encode(self, frame: np.ndarray) -> bytes:
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.config.snapshot_quality])
        if not ok:
            raise ValueError("could not encode the snapshot as JPEG")
        return buf.tobytes()
