"""Live fan-out (C5.1) for the web app's MSE player: fMP4 init + per-frame fragments, never transcoded.

The camera's audio (C5.3) is carried as it comes (AAC or Opus passthrough) when the session has it, which
it has only while the camera's Audio setting is on (C6: the ingest then asks for it)."""

from __future__ import annotations

import asyncio
import io
import logging
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import av
import av.container

from vakt.media.fmp4 import avc_codec_string, iter_boxes
from vakt.media.session import MediaPacket, StreamSet

log = logging.getLogger(__name__)

LIVE_OPTIONS = {
    "movflags": "frag_every_frame+empty_moov+default_base_moof+skip_trailer",
    # with audio, the muxer waits for both tracks; a camera that announces audio but sends none must not
    # hold video back for the default 10 s
    "max_interleave_delta": "200000",
}
AUDIO_CODECS = {"aac", "opus"}  # what MSE in browsers plays from fMP4
NON_SYNC_SAMPLE = 0x10000  # ISO/IEC 14496-12 sample_flags: sample_is_non_sync_sample


def _children(data: bytes, start: int, end: int) -> list[tuple[str, int, int]]:
    """(kind, payload start, box end) of the boxes inside ``data[start:end]``."""
    out = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size < 8 or pos + size > end:
            break
        out.append((kind.decode("latin-1"), pos + 8, pos + size))
        pos += size
    return out


def fragment_starts_with_keyframe(moof: bytes, video_track: int) -> bool:
    """Whether this moof's run of ``video_track`` starts with a sync sample (an IDR); a moof with audio only,
    or with a non-sync first video sample, is not a place to start decoding."""
    for kind, start, end in _children(moof, 8, len(moof)):
        if kind != "traf":
            continue
        boxes = {k: (s, e) for k, s, e in _children(moof, start, end)}
        if "tfhd" not in boxes or "trun" not in boxes:
            continue
        s = boxes["tfhd"][0]
        tf_flags = int.from_bytes(moof[s + 1 : s + 4], "big")
        if int.from_bytes(moof[s + 4 : s + 8], "big") != video_track:
            continue
        pos = s + 8 + (8 if tf_flags & 0x1 else 0) + sum(4 for bit in (0x2, 0x8, 0x10) if tf_flags & bit)
        flags = int.from_bytes(moof[pos : pos + 4], "big") if tf_flags & 0x20 else 0
        t = boxes["trun"][0]
        tr_flags = int.from_bytes(moof[t + 1 : t + 4], "big")
        pos = t + 8 + (4 if tr_flags & 0x1 else 0)
        if tr_flags & 0x4:
            flags = int.from_bytes(moof[pos : pos + 4], "big")
        elif tr_flags & 0x400:
            pos += (4 if tr_flags & 0x100 else 0) + (4 if tr_flags & 0x200 else 0)
            flags = int.from_bytes(moof[pos : pos + 4], "big")
        return not flags & NON_SYNC_SAMPLE
    return False


def audio_codec_string(stream: av.audio.stream.AudioStream) -> str:
    """``mp4a.40.<object type>`` for AAC (from its AudioSpecificConfig), ``opus`` for Opus."""
    ctx = stream.codec_context
    if ctx.name == "opus":
        return "opus"
    extradata = bytes(ctx.extradata or b"")
    object_type = extradata[0] >> 3 if extradata else 2
    return f"mp4a.40.{object_type or 2}"


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
        self._audio: av.audio.stream.AudioStream | None = None
        self._codec = ""
        self._init = bytearray()
        self._init_sent = False
        self._fragment = bytearray()

    def open_session(self, streams: StreamSet) -> None:
        self._writer = _BoxCollector()
        self._container = av.open(self._writer, "w", format="mp4", options=LIVE_OPTIONS)
        self._stream = self._container.add_stream_from_template(streams.video)
        self._codec = avc_codec_string(streams.video.codec_context.extradata)
        self._audio = None
        if streams.audio is not None and streams.audio.codec_context.name in AUDIO_CODECS:
            self._audio = self._container.add_stream_from_template(streams.audio)
            self._codec += "," + audio_codec_string(streams.audio)
        self._init = bytearray()
        self._init_sent = False

    def write(self, packet: MediaPacket) -> None:
        out = self._stream if packet.is_video else self._audio
        if self._container is None or out is None:
            return
        try:
            packet.packet.stream = out
            self._container.mux(packet.packet)
        except Exception as exc:  # a bad packet must not stop recording
            log.warning("live fan-out dropped a packet: %s", exc)
            return
        self._emit()

    def _emit(self) -> None:
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
                video_track = 1  # the first stream added
                keyframe = fragment_starts_with_keyframe(bytes(self._fragment), video_track)
                self.publish(LiveChunk("fragment", bytes(self._fragment) + data, keyframe=keyframe))

    def close_session(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
                self._emit()
            except Exception as exc:
                log.debug("closing the live muxer: %s", exc)
        self._container = None
        self._stream = None
        self._audio = None


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
