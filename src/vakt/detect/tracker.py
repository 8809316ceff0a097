"""Multi-object tracker: IoU association in two passes (confident, then weak detections) with a
constant-velocity motion model, in stream time so that skipped frames still get boxes.

A track remembers its sightings of the last ``history`` seconds. Its velocity is the least-squares slope
of the box centre over them, not the step between the last two: at 25 analysed frames a second a box that
jitters by 3 px would otherwise "move" at 75 px/s, and a person standing behind a passer-by would drift
off their place while hidden. Where a track is not seen, its box has the median size of those sightings:
the last box of someone walking behind another person is already cut short by the person in front.
Such a hidden person is drawn only when the track was seen with confidence (median score of those
sightings): tracks that only weak, partial boxes kept alive are not.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from vakt.detect.types import Box, Detection, as_box, box_area, iou_matrix


@dataclass(frozen=True)
class TrackerConfig:
    """Tracker tuning; times are seconds of stream time."""

    high_score: float = 0.45  # a detection this confident may start a track
    match_iou: float = 0.3
    min_hits: int = 2  # updates before a track counts as a person (one-frame blips do not)
    confirm_score: float = 0.7  # ... unless its first detection is this confident
    max_coast: float = 1.0  # a track unseen this long is dropped
    show_coast: float = 0.3  # a track unseen this long is no longer drawn
    # ... unless it is hidden behind a person seen now (and in front of it): drawn this long (0: never)
    occluded_coast: float = 0.0
    occluded_cover: float = 0.85  # share of the hidden box a person in front must cover
    occluded_score: float = 0.55  # ... and whose recent sightings scored at least this (median)
    history: float = 1.0  # seconds of sightings that velocity and size are taken from


@dataclass
class Track:
    """One person followed across frames."""

    track_id: int
    box: np.ndarray
    score: float
    last_seen: float
    first_seen: float
    hits: int = 1
    best_score: float = 0.0
    # (pts, box, score) of the recent sightings, the latest last
    sightings: deque[tuple[float, np.ndarray, float]] = field(default_factory=deque)
    # fitted to the sightings on each update (read on every frame, so not recomputed there)
    velocity: np.ndarray = field(init=False)  # of the centre, px/s
    size: np.ndarray = field(init=False)  # median width, height
    recent_score: float = field(init=False)  # median score

    def __post_init__(self) -> None:
        if not self.sightings:
            self.sightings.append((self.last_seen, self.box, self.score))
        self._fit()

    def confirmed(self, config: TrackerConfig) -> bool:
        """A person, not a blip: seen often enough, or once with high confidence."""
        return self.hits >= config.min_hits or self.best_score >= config.confirm_score

    def predict(self, pts: float) -> np.ndarray:
        """The box as seen at ``last_seen``; later, the recent median size hung from the top edge, both
        moved with the velocity (a person passing behind another loses legs and sides first, not head)."""
        elapsed = max(0.0, pts - self.last_seen)
        if elapsed == 0.0:
            return self.box.copy()
        width, height = self.size
        cx = (self.box[0] + self.box[2]) / 2 + self.velocity[0] * elapsed
        top = self.box[1] + self.velocity[1] * elapsed
        return np.array([cx - width / 2, top, cx + width / 2, top + height])

    def update(self, det: Detection, pts: float, history: float) -> None:
        new = np.asarray(det.box, dtype=np.float64)
        self.sightings.append((pts, new, det.score))
        # keep the window, and always the sighting before it (two looks a second apart still give a speed)
        while len(self.sightings) > 2 and self.sightings[1][0] <= pts - history:
            self.sightings.popleft()
        self.box = new
        self.score = det.score
        self.best_score = max(self.best_score, det.score)
        self.last_seen = pts
        self.hits += 1
        self._fit()

    def _fit(self) -> None:
        """Velocity (least-squares slope of the centre), median size and median score of the sightings."""
        t = np.array([pts for pts, _, _ in self.sightings])
        boxes = np.array([b for _, b, _ in self.sightings])
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        self.velocity = np.polyfit(t, centres, 1)[0] if np.ptp(t) > 0 else np.zeros(2)
        self.size = np.median(boxes[:, 2:] - boxes[:, :2], axis=0)
        self.recent_score = float(np.median([score for _, _, score in self.sightings]))


@dataclass(frozen=True)
class TrackedPerson:
    """A track's box at one instant; ``predicted`` when the frame had no detection for it."""

    track_id: int
    box: Box
    score: float
    predicted: bool


def hidden_behind(box: Box, front: list[Box], min_cover: float) -> bool:
    """Whether ``box`` is covered (at least ``min_cover`` of its area) by one of ``front`` standing nearer
    the camera (lower bottom edge): a person walking behind another, whom no detector can see."""
    area = box_area(box)
    if area <= 0:
        return False
    for f in front:
        ix = min(box[2], f[2]) - max(box[0], f[0])
        iy = min(box[3], f[3]) - max(box[1], f[1])
        if ix > 0 and iy > 0 and ix * iy >= min_cover * area and f[3] > box[3]:
            return True
    return False


class Tracker:
    """Follows people between analysed frames and predicts their boxes on skipped ones."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.tracks: list[Track] = []
        self._next_id = 1

    def update(self, pts: float, detections: list[Detection]) -> list[TrackedPerson]:
        """Associate ``detections`` found at ``pts`` with the tracks; returns the people now."""
        cfg = self.config
        high = [d for d in detections if d.score >= cfg.high_score]
        low = [d for d in detections if d.score < cfg.high_score]
        unmatched_tracks = list(range(len(self.tracks)))
        unmatched_tracks, unmatched_high = self._associate(pts, unmatched_tracks, high)
        self._associate(pts, unmatched_tracks, low)
        for det in unmatched_high:
            self.tracks.append(
                Track(
                    self._next_id,
                    np.asarray(det.box, dtype=np.float64),
                    det.score,
                    pts,
                    pts,
                    best_score=det.score,
                )
            )
            self._next_id += 1
        self.tracks = [t for t in self.tracks if pts - t.last_seen <= cfg.max_coast]
        return self.people(pts)

    def people(self, pts: float, coast: float | None = None) -> list[TrackedPerson]:
        """Confirmed people at ``pts``, predicted forward for frames the detector did not look at;
        ``coast``: how long after its last sighting a track is still drawn (default: the config's)."""
        cfg = self.config
        coast = cfg.show_coast if coast is None else coast
        confirmed = [t for t in self.tracks if t.confirmed(cfg)]
        front = [as_box(t.box) for t in confirmed if t.last_seen == pts]
        out = []
        for t in confirmed:
            box = as_box(t.predict(pts))
            unseen = pts - t.last_seen
            shown = unseen <= coast or (
                unseen <= cfg.occluded_coast
                and t.recent_score >= cfg.occluded_score
                and hidden_behind(box, front, cfg.occluded_cover)
            )
            if shown:
                out.append(TrackedPerson(t.track_id, box, t.score, predicted=pts != t.last_seen))
        return out

    def confirmed(self) -> list[Track]:
        return [t for t in self.tracks if t.confirmed(self.config)]

    def _associate(
        self, pts: float, track_idx: list[int], dets: list[Detection]
    ) -> tuple[list[int], list[Detection]]:
        """Greedy IoU matching of ``dets`` to the tracks ``track_idx``; returns what stayed unmatched."""
        if not track_idx or not dets:
            return track_idx, dets
        predicted = np.array([self.tracks[i].predict(pts) for i in track_idx])
        boxes = np.array([d.box for d in dets], dtype=np.float64)
        ious = iou_matrix(predicted, boxes)
        matched_t: set[int] = set()
        matched_d: set[int] = set()
        for flat in np.argsort(-ious, axis=None):
            ti, di = divmod(int(flat), len(dets))
            if ious[ti, di] < self.config.match_iou:
                break
            if ti in matched_t or di in matched_d:
                continue
            matched_t.add(ti)
            matched_d.add(di)
            self.tracks[track_idx[ti]].update(dets[di], pts, self.config.history)
        rest_t = [track_idx[i] for i in range(len(track_idx)) if i not in matched_t]
        rest_d = [dets[i] for i in range(len(dets)) if i not in matched_d]
        return rest_t, rest_d
