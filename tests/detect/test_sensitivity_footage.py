"""C8.2 on real footage: higher sensitivity finds more and smaller/farther people; cars are not people."""

from __future__ import annotations

from pathlib import Path

from tests.detect.conftest import frames
from vakt.detect import DetectConfig, OnnxYoloxConfig, Pipeline
from vakt.detect.types import box_area


def _run(
    video: Path, model: Path, start: int, stop: int, sensitivity: int, all_frames: bool = False
) -> tuple[int, float, list]:
    config = DetectConfig(
        detector=OnnxYoloxConfig(model_path=model), sensitivity=sensitivity, all_frames=all_frames
    )
    pipeline = Pipeline(config)
    boxes, events = 0, []
    smallest = float("inf")
    for frame, pts in frames(video, start, stop):
        result = pipeline.process(frame, pts)
        boxes += len(result.persons)
        smallest = min([smallest, *(box_area(p.box) for p in result.persons)])
        events += result.events.ended
    last = pipeline.finish()
    return boxes, smallest, events + ([last] if last else [])


def test_c8_2_high_sensitivity_finds_more_and_smaller_people_on_tud_stadtmitte(
    assets: Path, model_path: Path
) -> None:
    video = assets / "video" / "TUD-Stadtmitte_640x480.mp4"
    low_boxes, low_smallest, _ = _run(video, model_path, 0, 30, 10, all_frames=True)
    high_boxes, high_smallest, _ = _run(video, model_path, 0, 30, 90, all_frames=True)
    assert high_boxes > low_boxes
    assert high_smallest < low_smallest  # a farther (smaller) person counts only at high sensitivity


def test_c8_2_high_sensitivity_sees_the_person_entering_people_indoor_sooner(
    assets: Path, model_path: Path
) -> None:
    video = assets / "video" / "people_indoor_768x432.mp4"
    _, _, low = _run(video, model_path, 40, 90, 10)
    _, _, high = _run(video, model_path, 40, 90, 90)
    assert len(low) == len(high) == 1
    assert high[0].start < low[0].start


def test_c8_2_cars_in_a_parking_lot_raise_no_person_event_at_default_sensitivity(
    assets: Path, model_path: Path
) -> None:
    video = assets / "video" / "cars_parking_768x432.mp4"
    _, _, events = _run(video, model_path, 0, 150, 50)
    assert events == []
