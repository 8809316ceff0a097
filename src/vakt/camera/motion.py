"""The camera's own motion detection (C4.3: record to the card on detected motion), on the sub-stream.

``MotionDetector`` is pure (small grayscale frames in, motion or not out); ``watch_motion`` decodes
the sub-stream and tells the device when motion starts."""

from __future__ import annotations

import logging
from collections.abc import Callable

import av
import numpy as np

from vakt.camera.live import LiveStream
from vakt.camera.media import START_CODE, TrackKind

log = logging.getLogger(__name__)

ANALYSIS_SIZE = (160, 90)  # width, height: a distant person still spans a few pixels, cheap to compare
PIXEL_DELTA = 20  # grey levels a pixel must change by to count as changed


def changed_fraction_needed(sensitivity: int) -> float:
    """C8.2 style: the higher the sensitivity, the smaller the change that counts as motion."""
    return 0.0005 + 0.01 * (100 - sensitivity) / 99


class MotionDetector:
    def __init__(self, sensitivity: int = 50) -> None:
        self.sensitivity = sensitivity
        self._previous: np.ndarray | None = None

    def feed(self, gray: np.ndarray) -> bool:
        """True when ``gray`` differs enough from the previous frame."""
        previous, self._previous = self._previous, gray.astype(np.int16)
        if previous is None or previous.shape != gray.shape:
            return False
        changed = np.abs(self._previous - previous) > PIXEL_DELTA
        return float(changed.mean()) >= changed_fraction_needed(self.sensitivity)


async def watch_motion(
    stream: LiveStream, sensitivity: Callable[[], int], on_motion: Callable[[], None], every: int = 2
) -> None:
    """Decode ``stream``; call ``on_motion`` for each analysed frame that shows motion (until cancelled)."""
    subscription = stream.subscribe(audio=False)
    codec = av.CodecContext.create("h264", "r")
    codec.extradata = stream.clip.video.annexb_extradata
    detector = MotionDetector(sensitivity())
    count = 0
    try:
        while (unit := await subscription.get()) is not None:
            if unit.kind is not TrackKind.VIDEO:
                continue
            try:
                frames = codec.decode(av.Packet(b"".join(START_CODE + nal for nal in unit.payloads)))
            except av.FFmpegError as exc:
                log.debug("motion: undecodable frame skipped (%s)", exc)
                continue
            for frame in frames:
                count += 1
                if count % every:
                    continue
                small = frame.reformat(width=ANALYSIS_SIZE[0], height=ANALYSIS_SIZE[1], format="gray")
                detector.sensitivity = sensitivity()
                if detector.feed(small.to_ndarray()):
                    on_motion()
    finally:
        subscription.close()
