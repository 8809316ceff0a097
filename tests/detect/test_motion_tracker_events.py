"""Pure pipeline parts on synthetic frames: motion regions, tracking across skipped frames, events (C8.1)."""

from __future__ import annotations

import numpy as np
import pytest

from vakt.detect.config import Tuning
from vakt.detect.events import PersonEventBuilder
from vakt.detect.motion import MotionDetector
from vakt.detect.regions import cut_by_region, detection_regions, frame_tiles
from vakt.detect.tracker import TrackedPerson, Tracker, TrackerConfig
from vakt.detect.types import Detection, iou


def scene(x: int | None, light: int = 60) -> np.ndarray:
    frame = np.full((240, 320, 3), light, np.uint8)
    if x is not None:
        frame[100:180, x : x + 30] = 220
    return frame


def test_motion_finds_a_moving_block_where_it_is_and_nothing_in_a_still_scene() -> None:
    motion = MotionDetector(width=160, threshold=25, min_area=0.002)
    assert motion.detect(scene(None)) == [(0.0, 0.0, 320.0, 240.0)]  # first frame: everything is new
    assert motion.detect(scene(None)) == []
    boxes = motion.detect(scene(150))
    assert len(boxes) == 1
    x1, y1, x2, y2 = boxes[0]
    assert x1 <= 150 and x2 >= 180 and y1 <= 100 and y2 >= 180
    assert x2 - x1 < 100  # the region hugs the block, not the frame


def test_motion_ignores_a_light_switching_on() -> None:
    motion = MotionDetector(width=160)
    motion.detect(scene(None, light=40))
    assert motion.detect(scene(None, light=200)) == []
    assert motion.detect(scene(None, light=200)) == []  # the new light level is the new background


def test_detection_regions_merge_overlaps_and_fall_back_to_the_full_frame() -> None:
    regions = detection_regions([(10, 10, 40, 60), (30, 20, 70, 80)], 640, 480, min_side=120)
    assert len(regions) == 1
    x1, y1, x2, y2 = regions[0]
    assert x1 >= 0 and y1 >= 0 and x2 - x1 >= 120 and y2 - y1 >= 120
    assert detection_regions([(0, 0, 600, 400)], 640, 480, min_side=120) == [(0, 0, 640, 480)]
    apart = detection_regions([(10, 10, 40, 60), (500, 300, 540, 380)], 640, 480, min_side=100)
    assert len(apart) == 2


def _walker(t: float) -> Detection:
    x = 100 + 50 * t  # 50 px per second to the right
    return Detection((x, 50, x + 40, 150), 0.8)


def test_tracker_predicts_boxes_on_skipped_frames_and_keeps_one_identity() -> None:
    tracker = Tracker()
    for k in range(5):  # analysed at 5 fps
        people = tracker.update(k * 0.2, [_walker(k * 0.2)])
    assert len(people) == 1
    track_id = people[0].track_id
    skipped = tracker.people(0.9)  # a frame the pipeline did not analyse
    assert len(skipped) == 1 and skipped[0].predicted and skipped[0].track_id == track_id
    assert iou(skipped[0].box, _walker(0.9).box) > 0.8
    assert tracker.update(1.0, [_walker(1.0)])[0].track_id == track_id


def _faint(t: float) -> Detection:
    return Detection(_walker(t).box, 0.6)


def test_tracker_needs_two_sightings_and_forgets_people_who_left() -> None:
    tracker = Tracker(TrackerConfig(max_coast=1.0))
    assert tracker.update(0.0, [_faint(0)]) == []  # a one-frame blip is not a person yet
    assert len(tracker.update(0.2, [_faint(0.2)])) == 1
    assert tracker.update(0.7, []) == []  # not drawn after show_coast
    tracker.update(1.5, [])
    assert tracker.tracks == []


def test_one_confident_sighting_is_enough() -> None:
    tracker = Tracker(TrackerConfig(confirm_score=0.7))
    assert len(tracker.update(0.0, [_walker(0)])) == 1  # score 0.8


def test_weak_detections_only_extend_existing_tracks() -> None:
    tracker = Tracker(TrackerConfig(high_score=0.5))
    weak = Detection((10, 10, 50, 110), 0.3)
    assert tracker.update(0.0, [weak]) == [] and tracker.tracks == []
    tracker.update(0.0, [_walker(0)])
    tracker.update(0.2, [_walker(0.2)])
    faint = Detection(_walker(0.4).box, 0.3)
    assert len(tracker.update(0.4, [faint])) == 1


def _person(score: float, predicted: bool = False) -> TrackedPerson:
    return TrackedPerson(1, (0, 0, 10, 10), score, predicted)


def test_event_starts_at_first_sighting_ends_after_quiet_spell_with_best_snapshot() -> None:
    encoded: list[int] = []

    def encode(frame: np.ndarray) -> bytes:
        encoded.append(int(frame[0, 0, 0]))
        return bytes([int(frame[0, 0, 0])])

    builder = PersonEventBuilder(end_after=5.0, encode=encode)
    frame = lambda v: np.full((4, 4, 3), v, np.uint8)  # noqa: E731
    update = builder.update(1.0, [_person(0.5)], frame(1), first_seen=0.8)
    assert update.started is not None and update.started.start == 0.8
    assert builder.update(2.0, [_person(0.9)], frame(2)).improved is not None
    builder.update(3.0, [_person(0.6)], frame(3))  # a weaker sighting keeps the better snapshot
    builder.update(3.5, [_person(0.95, predicted=True)], None)  # predictions never become snapshots
    assert builder.update(7.9, [], frame(0)).ended == []
    ended = builder.update(8.6, [], frame(0)).ended
    assert len(ended) == 1
    event = ended[0]
    assert (event.start, event.end, event.score, event.snapshot_pts) == (0.8, 3.5, 0.9, 2.0)
    assert event.snapshot_jpeg == bytes([2]) and encoded == [1, 2]


def test_open_event_is_closed_at_the_end_of_the_stream() -> None:
    builder = PersonEventBuilder(end_after=5.0, encode=lambda f: b"x")
    builder.update(1.0, [_person(0.5)], np.zeros((2, 2, 3), np.uint8))
    event = builder.finish()
    assert event is not None and event.end == 1.0
    assert builder.finish() is None


def test_c8_2_sensitivity_tuning_is_monotonic_and_bounded() -> None:
    low, mid, high = (Tuning.for_sensitivity(s) for s in (1, 50, 100))
    assert low.score_threshold > mid.score_threshold > high.score_threshold
    assert low.min_person_area > mid.min_person_area > high.min_person_area
    assert low.min_motion_area > high.min_motion_area and low.motion_threshold > high.motion_threshold
    assert low.motion_width < high.motion_width
    for bad in (0, 101):
        with pytest.raises(ValueError):
            Tuning.for_sensitivity(bad)


def test_all_frames_tiles_cover_the_frame_and_partial_people_at_cut_edges_are_dropped() -> None:
    tiles = frame_tiles(640, 480)
    assert tiles[0] == (0, 0, 640, 480) and tiles[1] == (0, 0, 448, 480) and tiles[2] == (192, 0, 640, 480)
    assert frame_tiles(480, 640)[1] == (0, 0, 480, 448)
    boxes = np.array([[100, 10, 200, 300], [400, 10, 447, 300], [0, 10, 50, 300]], dtype=np.float32)
    # in the left tile: a box ending at its right cut is cut; one at the frame's own left edge is not
    assert cut_by_region(boxes, tiles[1], 640, 480).tolist() == [False, True, False]
