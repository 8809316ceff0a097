"""One camera's pipeline: ingest thread -> recorder + live fan-out, bridged to the asyncio loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from vakt.media.ingest import Backoff, Ingest
from vakt.media.live import LiveChunk, LiveMuxer, LiveStream
from vakt.media.recorder import SegmentRecorder
from vakt.media.segments import SegmentInfo

log = logging.getLogger(__name__)

SegmentHandler = Callable[[SegmentInfo], Awaitable[None]]
StatusHandler = Callable[[str, datetime, str], Awaitable[None]]


@dataclass
class PipelineConfig:
    camera_id: int
    url: str
    media_dir: Path
    audio: bool = True
    continuous: bool = True
    segment_seconds: float = 10.0
    read_timeout: float = 5.0
    backoff_cap: float = 30.0
    give_up_after: int = 0  # failed connections in a row before the ingest stops; 0: never


class CameraPipeline:
    """Ingest + recorder + live stream for one camera; callbacks run on the event loop."""

    def __init__(
        self,
        config: PipelineConfig,
        on_segment: SegmentHandler,
        on_status: StatusHandler | None = None,
        on_disk_full: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.config = config
        self._on_segment = on_segment
        self._on_status = on_status
        self._on_disk_full = on_disk_full
        self._loop: asyncio.AbstractEventLoop | None = None
        self.live = LiveStream()
        self.manual = False
        self._manual_in_segment = False
        self._pending: set[concurrent.futures.Future[None]] = set()
        self.recorder = SegmentRecorder(
            config.media_dir,
            config.camera_id,
            self._segment_done,
            segment_seconds=config.segment_seconds,
            audio=config.audio,
            on_disk_full=self._disk_full,
        )
        self.recorder.enabled = config.continuous
        self.ingest = Ingest(
            config.url,
            [self.recorder, LiveMuxer(self._live_chunk)],
            name=f"camera-{config.camera_id}",
            audio=config.audio,
            on_status=self._status,
            read_timeout=config.read_timeout,
            backoff=Backoff(cap=config.backoff_cap, give_up_after=config.give_up_after),
        )

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.ingest.start()

    async def stop(self) -> None:
        await asyncio.to_thread(self.ingest.stop)
        self.live.stop()
        # the last segment, closed by the stop, is indexed before we return
        pending = [asyncio.wrap_future(f) for f in self._pending if not f.done()]
        if pending:
            await asyncio.wait(pending, timeout=10)

    def set_manual(self, on: bool) -> None:
        """C5.1 manual recording: records even when continuous is off; marks its segments as events."""
        self.manual = on
        self._manual_in_segment = self._manual_in_segment or on
        self.recorder.enabled = self.config.continuous or on

    def set_continuous(self, on: bool) -> None:
        self.config.continuous = on
        self.recorder.enabled = on or self.manual

    # -- called from the ingest thread --------------------------------------------------------------
    def _call(self, func: Callable[..., object], *args: object) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(func, *args)

    def _spawn(self, coro: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await coro
            except Exception:
                log.exception("camera %s: handler failed", self.config.camera_id)

        if self._loop is not None and not self._loop.is_closed():
            future = asyncio.run_coroutine_threadsafe(guarded(), self._loop)
            self._pending = {f for f in self._pending if not f.done()} | {future}

    def _live_chunk(self, chunk: LiveChunk) -> None:
        self._call(self.live.publish, chunk)

    def _segment_done(self, info: SegmentInfo) -> None:
        if self._manual_in_segment:
            info = info.flagged(event=True)
        self._manual_in_segment = self.manual
        self._spawn(self._on_segment(info))

    def _status(self, kind: str, at: datetime, detail: str) -> None:
        if self._on_status is not None:
            self._spawn(self._on_status(kind, at, detail))

    def _disk_full(self) -> None:
        if self._on_disk_full is not None:
            self._spawn(self._on_disk_full())
