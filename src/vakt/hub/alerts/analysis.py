"""Per-camera analysis: reads the camera's low-resolution sub-stream with PyAV in a thread and runs the
detection pipeline on it; results are handed to the event loop."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import av

from vakt.detect import DetectConfig, FrameResult, Pipeline
from vakt.detect.detectors import Detector
from vakt.media.ingest import redact

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalysisResult:
    """One analysed frame worth telling the hub about, with the wall-clock time of the frame."""

    device_id: int
    frame: FrameResult
    wall_time: float  # seconds since the epoch at which the frame was shot
    stream_origin: float  # wall time of stream time 0, to turn event times into wall times


ResultHandler = Callable[[AnalysisResult], Coroutine[Any, Any, None]]


class CameraAnalysis:
    """Decodes ``url`` (RTSP over TCP), feeds every frame to a pipeline, reconnects with backoff."""

    def __init__(
        self,
        device_id: int,
        url: str,
        config: DetectConfig,
        detector: Detector,
        handler: ResultHandler,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.device_id = device_id
        self.url = url
        self.config = config
        self.detector = detector
        self.handler = handler
        self.loop = loop
        self.frames = 0
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"analysis-{device_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end; it notices at the next frame or read timeout (5 s). The container is
        never closed from this thread: FFmpeg contexts are not safe to close under a reader."""
        self._stop.set()

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self._analyse_stream()
            except Exception as exc:
                # FFmpeg's messages quote the URL, password included: never log or show that
                self.error = str(exc).replace(self.url, redact(self.url))
                if not self._stop.is_set():
                    log.warning(
                        "analysis of camera %d: %s; retrying in %.1f s", self.device_id, self.error, backoff
                    )
            if time.monotonic() - started > 30:
                backoff = 0.5
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 30.0)

    def _analyse_stream(self) -> None:
        pipeline = Pipeline(self.config, detector=self.detector)
        options = {"rtsp_transport": "tcp", "stimeout": "5000000", "timeout": "5000000"}
        container = av.open(self.url, options=options, timeout=(5.0, 5.0))
        try:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            origin: float | None = None
            first_pts: float | None = None
            for frame in container.decode(stream):
                if self._stop.is_set():
                    return
                if frame.pts is None or stream.time_base is None:
                    continue
                pts = float(frame.pts * stream.time_base)
                if first_pts is None:
                    first_pts, origin = pts, time.time()
                    self.error = None
                assert origin is not None
                t = pts - first_pts
                image = frame.to_ndarray(format="bgr24") if pipeline.due(t) else None
                result = pipeline.process(image, t)
                self.frames += 1
                if _worth_telling(result):
                    future = asyncio.run_coroutine_threadsafe(
                        self.handler(AnalysisResult(self.device_id, result, origin + t, origin)), self.loop
                    )
                    future.add_done_callback(_log_failure)
        finally:
            container.close()


def _worth_telling(result: FrameResult) -> bool:
    ev = result.events
    return bool(
        ev.started or ev.improved or ev.ended or (result.analysed and (result.persons or result.motion))
    )


def _log_failure(future: Future[None]) -> None:
    exc = None if future.cancelled() else future.exception()
    if exc is not None:
        log.error("handling an analysis result failed: %r", exc)
