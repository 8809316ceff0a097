"""``vakt analyze VIDEO``: run the detection pipeline on a file and print JSON lines."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, TextIO

import av
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from vakt.detect.config import DEFAULT_SENSITIVITY, DetectConfig, NoDetectorConfig, OnnxYoloxConfig
from vakt.detect.detectors import ModelError
from vakt.detect.models import find_model
from vakt.detect.pipeline import Pipeline
from vakt.detect.types import PersonEvent
from vakt.detect.video import VideoError, iter_decoded


def frame_count(video: Path) -> int | None:
    """Frames in the file, as its header says (for the progress bar), if it says."""
    try:
        with av.open(str(video)) as container:
            frames = container.streams.video[0].frames if container.streams.video else 0
            return int(frames) or None
    except (av.FFmpegError, OSError):
        return None


def analyze_video(
    video: Path, config: DetectConfig, out: TextIO, progress: Progress | None = None
) -> list[PersonEvent]:
    """Write one JSON line per frame, then one per event; returns the events."""
    pipeline = Pipeline(config)
    events: list[PersonEvent] = []
    task = progress.add_task(f"analysing {video.name}", total=frame_count(video)) if progress else None
    for k, (decoded, pts) in enumerate(iter_decoded(video)):
        if progress is not None and task is not None:
            progress.update(task, advance=1)
        # only frames the pipeline analyses are converted to BGR
        frame = decoded.to_ndarray(format="bgr24") if pipeline.due(pts) else None
        result = pipeline.process(frame, pts)
        persons = [[round(v, 1) for v in p.box] + [round(p.score, 3)] for p in result.persons]
        out.write(json.dumps({"frame": k, "pts": round(pts, 4), "persons": persons}) + "\n")
        events.extend(result.events.ended)
    last = pipeline.finish()
    if last is not None:
        events.append(last)
    for event in events:
        out.write(
            json.dumps(
                {
                    "event": event.label,
                    "start": round(event.start, 3),
                    "end": round(event.end or event.start, 3),
                }
            )
            + "\n"
        )
    return events


def analyze_command(
    video: Annotated[Path, typer.Argument(help="video file to analyse", exists=True, dir_okay=False)],
    model: Annotated[Path | None, typer.Option(help="YOLOX ONNX model; default: the models folder")] = None,
    sensitivity: Annotated[int, typer.Option(min=1, max=100, help="C8.2 detection sensitivity")] = (
        DEFAULT_SENSITIVITY
    ),
    all_frames: Annotated[bool, typer.Option("--all-frames", help="analyse every full frame")] = False,
    fps: Annotated[float, typer.Option(min=0.1, max=30, help="analysis rate in live mode")] = 5.0,
    threads: Annotated[int, typer.Option(min=1, max=8, help="inference threads")] = 1,
) -> None:
    """Detect people in VIDEO: one JSON line per frame, then one per person event."""
    model_path = model if model is not None else find_model()
    detector: OnnxYoloxConfig | NoDetectorConfig
    if model_path is None:
        typer.echo("no person model found (run `vakt models fetch`): motion-only analysis", err=True)
        detector = NoDetectorConfig()
    else:
        detector = OnnxYoloxConfig(model_path=model_path, threads=threads)
    config = DetectConfig(detector=detector, sensitivity=sensitivity, all_frames=all_frames, fps=fps)
    # the JSON goes to stdout; the progress bar to stderr, and only to a terminal
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
            analyze_video(video, config, sys.stdout, progress)
    except (ModelError, VideoError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
