"""--all-frames accuracy parts (C8): weighted box fusion of the views, people hidden behind others."""

from __future__ import annotations

import numpy as np
import pytest

from vakt.detect.fusion import View, weighted_box_fusion
from vakt.detect.tracker import Tracker, TrackerConfig, hidden_behind
from vakt.detect.types import Detection

FULL = (0, 0, 640, 480)
LEFT = (0, 0, 448, 480)


def view(boxes: list[list[float]], scores: list[float], region: tuple[int, int, int, int]) -> View:
    return View(np.array(boxes, dtype=np.float64).reshape(-1, 4), np.array(scores), region)


def test_boxes_of_one_person_in_two_views_fuse_into_their_weighted_mean() -> None:
    boxes, scores = weighted_box_fusion(
        [view([[100, 100, 150, 300]], [0.9], FULL), view([[110, 100, 160, 300]], [0.3], LEFT)]
    )
    assert len(boxes) == 1
    assert boxes[0] == pytest.approx([102.5, 100, 152.5, 300])  # weighted 3:1 towards the stronger box
    assert scores[0] == pytest.approx(0.6)  # both covering views saw it: the mean score


def test_a_box_only_one_of_two_covering_views_found_keeps_half_its_score() -> None:
    _, scores = weighted_box_fusion([view([[100, 100, 150, 300]], [0.8], FULL), view([], [], LEFT)])
    assert scores.tolist() == pytest.approx([0.4])
    # outside the tile only the whole frame could see it: its score stays whole
    _, scores = weighted_box_fusion([view([[500, 100, 550, 300]], [0.8], FULL), view([], [], LEFT)])
    assert scores.tolist() == pytest.approx([0.8])


def test_two_people_one_view_tells_apart_are_never_merged() -> None:
    # two neighbours overlapping at IoU 0.6 in the same view, both seen again by the tile
    full = view([[100, 100, 160, 300], [115, 100, 175, 300]], [0.9, 0.8], FULL)
    tile = view([[101, 100, 161, 300], [114, 100, 174, 300]], [0.85, 0.7], LEFT)
    boxes, scores = weighted_box_fusion([full, tile])
    assert len(boxes) == 2
    assert sorted(boxes[:, 0].round().tolist()) == [100.0, 115.0]
    assert scores.tolist() == pytest.approx([0.875, 0.75])


def test_fusion_of_nothing_is_empty() -> None:
    boxes, scores = weighted_box_fusion([view([], [], FULL)])
    assert boxes.shape == (0, 4) and scores.shape == (0,)


def test_hidden_behind_needs_cover_by_someone_nearer_the_camera() -> None:
    behind = (100.0, 100.0, 140.0, 250.0)
    nearer = (95.0, 90.0, 150.0, 280.0)  # lower bottom edge: in front
    farther = (95.0, 80.0, 150.0, 240.0)
    beside = (130.0, 90.0, 190.0, 280.0)
    assert hidden_behind(behind, [nearer], 0.85)
    assert not hidden_behind(behind, [farther], 0.85)
    assert not hidden_behind(behind, [beside], 0.85)  # covers only a quarter of it
    assert not hidden_behind(behind, [], 0.85)


def test_tracker_keeps_drawing_a_person_hidden_behind_another_only_while_hidden() -> None:
    tracker = Tracker(TrackerConfig(show_coast=0.0, occluded_coast=0.5))
    back = (300.0, 100.0, 340.0, 250.0)

    def front(k: int) -> Detection:  # nearer the camera (lower bottom edge), walking right, 10 px a frame
        return Detection((200.0 + 10 * k, 90.0, 260.0 + 10 * k, 280.0), 0.9)

    for k in range(10):
        people = tracker.update(k * 0.1, [Detection(back, 0.9), front(k)])
    assert len(people) == 2
    # the front person now covers the back one: the detector finds only the front one
    people = tracker.update(1.0, [front(10)])
    assert len(people) == 2 and [p.predicted for p in people] == [True, False]
    assert people[0].box == back  # it stood still
    # the front person has walked on: the back one is no longer covered enough, and not found: not drawn
    people = tracker.update(1.1, [front(11)])
    assert len(people) == 1 and not people[0].predicted
    # without occlusion coasting a hidden person disappears at once
    plain = Tracker(TrackerConfig(show_coast=0.0))
    for k in range(10):
        plain.update(k * 0.1, [Detection(back, 0.9), front(k)])
    assert len(plain.update(1.0, [front(10)])) == 1


def test_velocity_is_fitted_over_the_last_second_so_box_jitter_is_not_motion() -> None:
    # 25 sightings a second of a person standing still whose box jitters by 3 px each frame
    standing = Tracker(TrackerConfig())
    for k in range(25):
        jitter = 3.0 if k % 2 else -3.0
        standing.update(k / 25, [Detection((100 + jitter, 100, 140 + jitter, 230), 0.9)])
    assert abs(standing.tracks[0].velocity[0]) < 10  # the step between two frames says 150 px/s
    # a person walking 50 px/s to the right with the same jitter keeps their speed
    walking = Tracker(TrackerConfig())
    for k in range(25):
        jitter = 3.0 if k % 2 else -3.0
        x = 100 + 2 * k + jitter
        walking.update(k / 25, [Detection((x, 100, x + 40, 230), 0.9)])
    assert walking.tracks[0].velocity[0] == pytest.approx(50, abs=10)
    assert abs(walking.tracks[0].velocity[1]) < 1


def test_a_hidden_person_keeps_the_size_they_had_not_the_last_cut_short_box() -> None:
    tracker = Tracker(TrackerConfig(show_coast=0.0, occluded_coast=0.5))
    back = (300.0, 100.0, 340.0, 230.0)  # 40 x 130, standing still
    for k in range(20):
        tracker.update(k * 0.04, [Detection(back, 0.8)])
    # a passer-by nearer the camera steps in front: the last sighting is cut short from below
    front = Detection((280.0, 90.0, 360.0, 300.0), 0.9)
    tracker.update(0.8, [Detection((300.0, 100.0, 340.0, 190.0), 0.6), front])
    people = tracker.update(0.84, [front])
    hidden = [p for p in people if p.predicted]
    assert len(hidden) == 1
    assert hidden[0].box == pytest.approx(back, abs=1.0)  # the median size, hung from the top edge


def test_a_track_only_weak_boxes_kept_alive_is_not_drawn_while_hidden() -> None:
    tracker = Tracker(TrackerConfig(show_coast=0.0, occluded_coast=0.5, occluded_score=0.55))
    faint = (300.0, 100.0, 340.0, 230.0)
    tracker.update(0.0, [Detection(faint, 0.75)])  # one confident sighting confirms it
    for k in range(1, 10):
        tracker.update(k * 0.04, [Detection(faint, 0.3)])  # then only weak ones
    front = Detection((280.0, 90.0, 360.0, 300.0), 0.9)
    people = tracker.update(0.4, [front])
    assert [p.predicted for p in people] == [False]  # the front person only
