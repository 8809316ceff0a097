"""Live fan-out (C5.1) for the web app's MSE player: fMP4 init + per-frame fragments, never transcoded."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import av
import av.container

from vakt.media.fmp4 import avc_codec_string, iter_boxes
from vakt.media.session import MediaPacket, StreamSet

log = logging.getLogger(__name__)

LIVE_OPTIONS = {"movflags": "frag_every_frame+empty_moov+default_base_moof+skip_trailer"}


class _BoxCollector(io.RawIOBase):
    """File object the MP4 muxer writes into; complete top-level boxes are taken out as they finish."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.buffer += data
        return len(data)

    def take_boxes(self) -> list[tuple[str, bytes]]:
        boxes = [(b.kind, bytes(self.buffer[b.offset : b.offset + b.size])) for b in iter_boxes(self.buffer)]
        consumed = sum(len(data) for _, data in boxes)
        del self.buffer[:consumed]
        return boxes


@dataclass
class LiveChunk:
    kind: str  # "init" or "fragment"
    data: bytes
    keyframe: bool = False
    codec: str = ""


class LiveMuxer:
    """Runs in the ingest thread: remuxes the video packets of a session into live fMP4 chunks."""

    def __init__(self, publish: Callable[[LiveChunk], None]) -> None:
        self.publish = publish
        self._writer: _BoxCollector | None = None
        self._container: av.container.OutputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None
        self._codec = ""
        self._init = bytearray()
        self._init_sent = False
        self._pending_key = False
        self._fragment = bytearray()

    def open_session(self, streams: StreamSet) -> None:
        self._writer = _BoxCollector()
        self._container = av.open(self._writer, "w", format="mp4", options=LIVE_OPTIONS)
        self._stream = self._container.add_stream_from_template(streams.video)
        self._codec = avc_codec_string(streams.video.codec_context.extradata)
        self._init = bytearray()
        self._init_sent = False
        self._pending_key = False

    def write(self, packet: MediaPacket) -> None:
        if not packet.is_video or self._container is None or self._stream is None:
            return
        try:
            packet.packet.stream = self._stream
            self._container.mux(packet.packet)
        except Exception as exc:  # a bad packet must not stop recording
            log.warning("live fan-out dropped a packet: %s", exc)
            return
        # frag_every_frame: what comes out of mux(P) is the fragment of the packet before P.
        self._emit(self._pending_key)
        self._pending_key = packet.is_keyframe

    def _emit(self, keyframe: bool) -> None:
        assert self._writer is not None
        for kind, data in self._writer.take_boxes():
            if kind in ("ftyp", "moov"):
                self._init += data
                if kind == "moov":
                    self.publish(LiveChunk("init", bytes(self._init), codec=self._codec))
                    self._init_sent = True
            elif kind == "moof":
                self._fragment = bytearray(data)
            elif kind == "mdat" and self._init_sent:
                self.publish(LiveChunk("fragment", bytes(self._fragment) + data, keyframe=keyframe))

    def close_session(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
                self._emit(self._pending_key)
            except Exception as exc:
                log.debug("closing the live muxer: %s", exc)
        self._container = None
        self._stream = None


class SlowSubscriber(Exception):
    """This subscriber fell too far behind and was dropped (the others were not held back)."""


@dataclass(eq=False)
class _Subscriber:
    queue: asyncio.Queue[bytes | None]
    dropped: bool = False


@dataclass
class LiveStream:
    """Fan-out on the event loop: every subscriber gets the init segment, then fragments from a keyframe."""

    queue_size: int = 120
    codec: str | None = None
    init: bytes | None = None
    gop: list[bytes] = field(default_factory=list)
    _subscribers: set[_Subscriber] = field(default_factory=set)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    latest_keyframe: bytes | None = None

    def publish(self, chunk: LiveChunk) -> None:
        if chunk.kind == "init":
            self._restart(chunk.codec, chunk.data)
            return
        if chunk.keyframe:
            self.gop = []
            self.latest_keyframe = chunk.data
        if not self.gop and not chunk.keyframe:
            return  # nothing decodable before the first keyframe
        self.gop.append(chunk.data)
        for sub in list(self._subscribers):
            self._offer(sub, chunk.data)

    def _restart(self, codec: str, init: bytes) -> None:
        for sub in list(self._subscribers):
            self._close(sub)  # the client must rebuild its SourceBuffer for the new session
        self.codec, self.init, self.gop = codec, init, []
        self._ready.set()

    def stop(self) -> None:
        for sub in list(self._subscribers):
            self._close(sub)
        self.init = None
        self._ready.clear()

    def _offer(self, sub: _Subscriber, data: bytes) -> None:
        try:
            sub.queue.put_nowait(data)
        except asyncio.QueueFull:
            log.warning("live subscriber too slow; dropped")
            sub.dropped = True
            self._close(sub)

    def _close(self, sub: _Subscriber) -> None:
        self._subscribers.discard(sub)
        while not sub.queue.empty():
            sub.queue.get_nowait()
        sub.queue.put_nowait(None)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def wait_ready(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            return False
        return self.init is not None

    async def subscribe(self) -> AsyncIterator[bytes]:
        """Init segment, then the current GOP from its keyframe, then live fragments.

        Ends when the stream restarts (a new init follows); raises SlowSubscriber when dropped."""
        await self._ready.wait()
        assert self.init is not None
        sub = _Subscriber(asyncio.Queue(maxsize=self.queue_size + len(self.gop)))
        sub.queue.put_nowait(self.init)
        for data in self.gop:
            sub.queue.put_nowait(data)
        self._subscribers.add(sub)
        try:
            while True:
                item = await sub.queue.get()
                if item is None:
                    if sub.dropped:
                        raise SlowSubscriber("live viewer too slow; dropped")
                    return
                yield item
        finally:
            self._subscribers.discard(sub)
