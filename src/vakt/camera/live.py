"""A live stream: one clip looped forever in real time and fanned out to subscribers.

Every subscriber has a bounded queue; one that falls behind loses frames up to the next keyframe
instead of slowing the stream or the other subscribers down."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from vakt.camera.media import MediaUnit, TrackKind
from vakt.camera.source import Clip

log = logging.getLogger(__name__)

QUEUE_UNITS = 600  # enough for a whole GOP burst plus a few seconds of backlog
MAX_LAG = 2.0  # seconds behind schedule before the stream stops catching up


class Subscription:
    """One consumer's view of a live stream: a bounded queue with a keyframe-resync drop policy."""

    def __init__(self, stream: LiveStream, audio: bool, maxsize: int = QUEUE_UNITS) -> None:
        self.stream = stream
        self.audio = audio
        self.queue: asyncio.Queue[MediaUnit | None] = asyncio.Queue(maxsize)
        self.dropped = 0
        self.closed = False
        self._await_keyframe = True

    def offer(self, unit: MediaUnit) -> None:
        if self.closed:
            return
        if unit.kind is TrackKind.AUDIO and not (self.audio and self.stream.audio_enabled):
            return
        if self._await_keyframe:
            if unit.kind is not TrackKind.VIDEO or not unit.keyframe:
                self.dropped += 1
                return
            self._await_keyframe = False
        if self.queue.full():
            # A consumer that cannot keep up restarts cleanly at the next keyframe.
            self.dropped += self.queue.qsize() + 1
            while not self.queue.empty():
                self.queue.get_nowait()
            self._await_keyframe = True
            return
        self.queue.put_nowait(unit)

    async def get(self) -> MediaUnit | None:
        """The next unit, or None once the subscription is closed."""
        return await self.queue.get()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.stream.unsubscribe(self)
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)  # wakes a consumer waiting in get()


class LiveStream:
    """Plays ``clip`` in a loop paced by its timestamps; timestamps keep increasing across loops."""

    def __init__(self, name: str, clip: Clip, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.clip = clip
        self.audio_enabled = True
        self.subscribers: set[Subscription] = set()
        self.gop: list[MediaUnit] = []  # units since the last video keyframe (fast start, snapshot)
        self.gop_clip = clip  # the clip the units in ``gop`` come from (a swap lands at a keyframe)
        self.loops = 0
        self._clock = clock
        self._started_at = clock()
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[MediaUnit], None]] = []
        self._pending: Clip | None = None

    def swap_clip(self, clip: Clip) -> None:
        """Continue with ``clip`` (same timing, e.g. a flipped variant) from its next aligned keyframe."""
        self._pending = clip

    @property
    def started_at(self) -> float:
        """Clock reading at media time 0 (media time t is played at ``started_at + t``)."""
        return self._started_at

    def media_time(self) -> float:
        return self._clock() - self._started_at

    def start(self) -> None:
        if self._task is None:
            self._started_at = self._clock()
            self._task = asyncio.create_task(self._run(), name=f"live-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def subscribe(self, audio: bool = True) -> Subscription:
        """A new subscriber, primed with the current GOP so it can start decoding at once."""
        sub = Subscription(self, audio)
        for unit in self.gop:
            sub.offer(unit)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self.subscribers.discard(sub)

    def add_listener(self, listener: Callable[[MediaUnit], None]) -> None:
        """A synchronous callback for every unit (the SD recorder)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[MediaUnit], None]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _publish(self, unit: MediaUnit) -> None:
        if unit.kind is TrackKind.VIDEO and unit.keyframe:
            self.gop = []
            self.gop_clip = self.clip
        self.gop.append(unit)
        for sub in list(self.subscribers):
            sub.offer(unit)
        for listener in list(self._listeners):
            try:
                listener(unit)
            except Exception:
                log.exception("stream %s: listener failed", self.name)

    def _maybe_swap(self, index: int) -> None:
        pending = self._pending
        if pending is None or len(pending.units) != len(self.clip.units):
            return  # clips of different shape swap at the loop point instead
        unit = pending.units[index]
        if unit.kind is TrackKind.VIDEO and unit.keyframe:
            self.clip, self._pending = pending, None
            log.info("stream %s switched to %s", self.name, pending.name)

    async def _run(self) -> None:
        offset = 0.0
        while True:
            index = 0
            while index < len(self.clip.units):
                self._maybe_swap(index)
                unit = self.clip.units[index]
                due = self._started_at + offset + unit.dts
                delay = due - self._clock()
                if delay < -MAX_LAG:
                    # The process was starved: carry on in real time instead of bursting the backlog.
                    log.warning("stream %s fell %.1f s behind; resuming in real time", self.name, -delay)
                    self._started_at -= delay
                    delay = 0
                if delay > 0:
                    await asyncio.sleep(delay)
                self._publish(unit.shifted(offset))
                index += 1
            offset += self.clip.duration
            if self._pending is not None:
                self.clip, self._pending = self._pending, None
            self.loops += 1
            log.debug("stream %s looped (%d)", self.name, self.loops)
