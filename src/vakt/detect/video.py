"""Decoded frames of a video file or stream, with their presentation time in seconds (PyAV)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np


class VideoError(RuntimeError):
    """The video cannot be opened or decoded."""


def iter_frames(
    source: str | Path, options: dict[str, str] | None = None
) -> Iterator[tuple[np.ndarray, float]]:
    """BGR frames and their pts (seconds from the first frame) of the first video stream."""
    for frame, t in iter_decoded(source, options):
        yield frame.to_ndarray(format="bgr24"), t


def iter_decoded(
    source: str | Path, options: dict[str, str] | None = None
) -> Iterator[tuple[av.VideoFrame, float]]:
    """Decoded frames (not yet converted to BGR: that costs) and their pts from the first frame."""
    try:
        container = av.open(str(source), options=options or {})
    except (av.FFmpegError, OSError) as exc:
        raise VideoError(f"cannot open video {source}: {exc}") from exc
    with container:
        if not container.streams.video:
            raise VideoError(f"{source} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = float(stream.average_rate or 25)
        first: float | None = None
        try:
            for index, frame in enumerate(container.decode(stream)):
                known = frame.pts is not None and stream.time_base is not None
                t = float(frame.pts * stream.time_base) if known else index / rate  # type: ignore[operator]
                first = t if first is None else first
                yield frame, t - first
        except av.FFmpegError as exc:
            raise VideoError(f"decoding {source} failed: {exc}") from exc
