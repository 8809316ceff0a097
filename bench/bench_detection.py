"""Detection benchmark (C8): accuracy, false alarms, analysis cost and alert latency of the vakt pipeline
against the same YOLOX-nano model run naively (every full frame, score 0.3, NMS 0.45) in the same run.

    .venv/bin/python bench/bench_detection.py [--assets ../shared/assets] [--frames N]

``--frames`` limits every video to its first N frames (a quick smoke run).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vakt.detect import DetectConfig, OnnxYoloxConfig, Pipeline
from vakt.detect.detectors import OnnxYoloxDetector
from vakt.detect.types import Box, PersonEvent, iou_matrix
from vakt.detect.video import iter_decoded, iter_frames

REPO = Path(__file__).resolve().parents[1]
NAIVE_SCORE, NAIVE_NMS = 0.3, 0.45
THREADS = 1  # the development machine has 2 shared cores


@dataclass
class Accuracy:
    recall: float
    precision: float
    tp: int
    fp: int
    fn: int


def load_gt(path: Path) -> dict[int, list[tuple[Box, bool]]]:
    """MOT ground truth: video frame (0-based) -> [(box, considered)]."""
    gt: dict[int, list[tuple[Box, bool]]] = {}
    for line in path.read_text().splitlines():
        p = line.split(",")
        k, x, y, w, h = int(p[0]) - 1, float(p[2]), float(p[3]), float(p[4]), float(p[5])
        gt.setdefault(k, []).append(((x, y, x + w, y + h), p[6].strip() != "0"))
    return gt


def evaluate(frames: list[list[Box]], gt: dict[int, list[tuple[Box, bool]]]) -> Accuracy:
    """Greedy IoU >= 0.5 matching per frame; detections on "ignore" boxes count neither way."""
    tp = fp = fn = 0
    for k, boxes in enumerate(frames):
        care = np.array([b for b, c in gt.get(k, []) if c]).reshape(-1, 4)
        ignore = np.array([b for b, c in gt.get(k, []) if not c]).reshape(-1, 4)
        dets = np.array(boxes).reshape(-1, 4)
        ious = iou_matrix(dets, care)
        used: set[int] = set()
        for i in range(len(dets)):
            order: Any = np.argsort(-ious[i]) if len(care) else []
            j = next((int(j) for j in order if ious[i, j] >= 0.5 and int(j) not in used), None)
            if j is not None:
                used.add(j)
                tp += 1
            elif len(ignore) and iou_matrix(dets[i : i + 1], ignore).max() >= 0.5:
                continue
            else:
                fp += 1
        fn += len(care) - len(used)
    return Accuracy(tp / max(1, tp + fn), tp / max(1, tp + fp), tp, fp, fn)


def limited(video: Path, limit: int | None) -> Iterator[tuple[np.ndarray, float]]:
    for k, item in enumerate(iter_frames(video)):
        if limit is not None and k >= limit:
            return
        yield item


def limited_decoded(video: Path, limit: int | None) -> Iterator[tuple[Any, float]]:
    for k, item in enumerate(iter_decoded(video)):
        if limit is not None and k >= limit:
            return
        yield item


def naive(
    video: Path, detector: OnnxYoloxDetector, limit: int | None
) -> tuple[list[tuple[float, list[Box]]], float]:
    """The baseline: the model on every full frame. Returns per-frame boxes and CPU seconds."""
    cpu = time.process_time()
    out = [
        (pts, [d.box for d in detector.detect(f, NAIVE_SCORE, NAIVE_NMS)]) for f, pts in limited(video, limit)
    ]
    return out, time.process_time() - cpu


def pipeline_run(
    video: Path, model: Path, limit: int | None, **config: Any
) -> tuple[list[tuple[float, list[Box]]], list[PersonEvent], float, Pipeline]:
    pipeline = Pipeline(DetectConfig(detector=OnnxYoloxConfig(model_path=model, threads=THREADS), **config))
    cpu = time.process_time()
    frames, events = [], []
    for decoded, pts in limited_decoded(video, limit):
        frame = decoded.to_ndarray(format="bgr24") if pipeline.due(pts) else None
        result = pipeline.process(frame, pts)
        frames.append((pts, [p.box for p in result.persons]))
        events += result.events.ended
    last = pipeline.finish()
    return frames, events + ([last] if last else []), time.process_time() - cpu, pipeline


def stretches(
    frames: list[tuple[float, list[Box]]], gap: float = 1.0, min_len: float = 0.5
) -> list[tuple[float, float]]:
    """Spans of stream time in which the baseline sees someone (gaps under ``gap`` s bridged)."""
    spans: list[list[float]] = []
    for pts, boxes in frames:
        if not boxes:
            continue
        if spans and pts - spans[-1][1] <= gap:
            spans[-1][1] = pts
        else:
            spans.append([pts, pts])
    return [(a, b) for a, b in spans if b - a >= min_len]


def decode_cpu(video: Path, limit: int | None) -> float:
    cpu = time.process_time()
    for _ in limited(video, limit):
        pass
    return time.process_time() - cpu


async def bus_latency(
    video: Path, model: Path, limit: int | None, spans: list[tuple[float, float]]
) -> list[float]:
    """Alert latency through the pipeline and the hub's EventBus, frames fed at the video's own rate (real
    time) from a thread: from the first frame of each person stretch (baseline) to the bus message. Each
    stretch is replayed from 3 s before it, with a fresh pipeline, as a camera would send it."""
    from vakt.hub.bus import EventBus

    # no database: messages are addressed to users, so the bus never looks up a device audience
    bus = EventBus(None)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    windows = [(start, [(f, t) for f, t in limited(video, limit) if start - 3.0 <= t <= start + 3.0])
               for start, _ in spans]  # fmt: skip
    received: list[tuple[float, float]] = []  # (monotonic time the frame was played, delivered)

    async def consume() -> None:
        async with bus.subscribe(1) as sub:
            while True:
                message = await sub.queue.get()
                received.append((message["shot"], time.monotonic()))

    def produce() -> None:
        for start, window in windows:
            pipeline = Pipeline(DetectConfig(detector=OnnxYoloxConfig(model_path=model, threads=THREADS)))
            origin = time.monotonic() - window[0][1]  # monotonic time at which stream time 0 plays
            for frame, pts in window:
                delay = origin + pts - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                started = pipeline.process(frame, pts).events.started
                if started is not None and started.start < start - 0.5:
                    break  # a person the baseline saw only briefly before the stretch: not this one's alert
                if started is not None:
                    message = {"type": "notification", "shot": origin + start}
                    asyncio.run_coroutine_threadsafe(bus.publish(message, user_ids={1}), loop).result()
                    break

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0)
    await asyncio.to_thread(produce)
    await asyncio.sleep(0.05)
    consumer.cancel()
    return [delivered - shot for shot, delivered in received]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assets", type=Path, default=REPO.parent / "shared" / "assets")
    parser.add_argument("--frames", type=int, default=None, help="only the first N frames of each video")
    parser.add_argument("--only", choices=["accuracy", "false-alarms", "cost", "hub"], help="run one part")
    parser.add_argument(
        "--hub-seconds", type=float, default=150.0, help="streaming time of the hub latency run"
    )
    args = parser.parse_args()
    model = args.assets / "models" / "yolox_nano" / "yolox_nano_416x416.onnx"
    videos = args.assets / "video"
    detector = OnnxYoloxDetector(model, threads=THREADS)
    limit = args.frames

    if args.only in (None, "accuracy"):
        accuracy(args.assets, model, detector, limit)
    if args.only in (None, "false-alarms"):
        print("== false alarms: cars_parking, live settings, default sensitivity ==")
        _, car_events, _, _ = pipeline_run(videos / "cars_parking_768x432.mp4", model, limit)
        print(f"person events: {len(car_events)}")
    if args.only in (None, "cost"):
        cost_and_latency(videos / "people_indoor_768x432.mp4", model, detector, limit)
    if args.only in (None, "hub") and limit is None:
        hub_latency(videos / "people_indoor_768x432.mp4", model, detector, args.hub_seconds)


def hub_latency(indoor: Path, model: Path, detector: OnnxYoloxDetector, seconds: float) -> None:
    from hub_latency import measure  # the hub, broker and camera emulator are only needed here

    print(
        f"== alert latency through the real hub: camera emulator (RTSP) -> hub analysis -> WebSocket, "
        f"{seconds:.0f} s of people_indoor =="
    )
    base_frames, _ = naive(indoor, detector, None)
    appearances = [start for start, _ in stretches(base_frames)]
    lat = sorted(asyncio.run(measure(indoor, model.parent, appearances, seconds)))
    print("latencies (s):", [round(v, 2) for v in lat])
    if lat:
        p95 = lat[min(len(lat) - 1, round(0.95 * len(lat) + 0.5) - 1)]  # nearest rank
        print(f"notifications {len(lat)}: p50 {statistics.median(lat):.2f} s  p95 {p95:.2f} s")


def accuracy(assets: Path, model: Path, detector: OnnxYoloxDetector, limit: int | None) -> None:
    print("== accuracy: TUD-Stadtmitte, IoU 0.5 ==")
    tud = assets / "video" / "TUD-Stadtmitte_640x480.mp4"
    gt = load_gt(assets / "groundtruth" / "TUD-Stadtmitte" / "gt.txt")
    base, _ = naive(tud, detector, limit)
    a_base = evaluate([b for _, b in base], gt)
    print(
        f"naive every frame         recall {a_base.recall:.3f}  precision {a_base.precision:.3f}  "
        f"(tp {a_base.tp} fp {a_base.fp} fn {a_base.fn})"
    )
    for sensitivity in (50, 80):
        ours, _, _, _ = pipeline_run(tud, model, limit, all_frames=True, sensitivity=sensitivity)
        a = evaluate([b for _, b in ours], gt)
        print(
            f"vakt --all-frames, s={sensitivity}  recall {a.recall:.3f}  precision {a.precision:.3f}  "
            f"(tp {a.tp} fp {a.fp} fn {a.fn})"
        )


def cost_and_latency(indoor: Path, model: Path, detector: OnnxYoloxDetector, limit: int | None) -> None:
    print("== cost: people_indoor, live settings vs naive every frame (CPU seconds, decode included) ==")
    dec = decode_cpu(indoor, limit)
    base_frames, base_cpu = naive(indoor, detector, limit)
    live_frames, live_events, live_cpu, pipe = pipeline_run(indoor, model, limit)
    spans = stretches(base_frames)
    covered = 0
    for start, _end in spans:
        if any(e.start <= start + 1.0 and (e.end or e.start) >= start for e in live_events):
            covered += 1
    print(
        f"decode alone {dec:.1f} s; naive {base_cpu:.1f} s; vakt live {live_cpu:.1f} s "
        f"= {100 * live_cpu / base_cpu:.0f} % of naive ({pipe.frames_analysed} of {len(live_frames)} frames "
        f"analysed, {pipe.detector_runs} detector runs)"
    )
    print(
        f"person stretches (naive): {len(spans)}; with a vakt event starting within 1 s: {covered}; "
        f"vakt events: {[(round(e.start, 1), round(e.end or 0, 1)) for e in live_events]}"
    )

    print("== alert latency: frame with a new person -> EventBus message (pipeline + bus, real-time feed) ==")
    lat = sorted(asyncio.run(bus_latency(indoor, model, limit, spans)))
    if lat:
        p95 = lat[min(len(lat) - 1, round(0.95 * len(lat) + 0.5) - 1)]  # nearest rank
        print("latencies (s):", [round(v, 2) for v in lat])
        print(f"events {len(lat)}: p50 {statistics.median(lat):.2f} s  p95 {p95:.2f} s  max {lat[-1]:.2f} s")
    else:
        print("no events to time")


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
