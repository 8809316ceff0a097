"""RTSP ingest (C5, C7): demux a camera's stream over TCP without decoding, reconnecting with backoff."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from typing import Protocol

import av
import av.container

from vakt.media.session import MediaPacket, StreamSet

log = logging.getLogger(__name__)
USER_AGENT = "vakt-hub-recorder/1"


class PacketSink(Protocol):
    def open_session(self, streams: StreamSet) -> None: ...
    def write(self, packet: MediaPacket) -> None: ...
    def close_session(self) -> None: ...


@dataclass
class Backoff:
    """Exponential reconnect delay, capped; reset once a session delivers packets."""

    initial: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    give_up_after: int = 0  # failed connections in a row before giving up; 0: never
    current: float = field(default=0.0, init=False)
    attempts: int = field(default=0, init=False)

    def next_delay(self) -> float:
        self.current = self.initial if self.current == 0 else min(self.cap, self.current * self.factor)
        self.attempts += 1
        return self.current

    def reset(self) -> None:
        self.current = 0.0
        self.attempts = 0

    @property
    def exhausted(self) -> bool:
        return 0 < self.give_up_after <= self.attempts


@dataclass
class IngestStats:
    sessions: int = 0
    packets: int = 0
    bytes: int = 0
    failures: int = 0
    last_packet_at: datetime | None = None


StatusCallback = Callable[[str, datetime, str], None]  # ("up" | "lost", when, detail)


def redact(url: str) -> str:
    """The URL without its password, for logs."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


class Ingest:
    """One camera's reader thread; feeds every packet to its sinks (recorder, live fan-out, ...)."""

    def __init__(
        self,
        url: str,
        sinks: list[PacketSink],
        *,
        name: str = "camera",
        audio: bool = True,
        on_status: StatusCallback | None = None,
        open_timeout: float = 5.0,
        read_timeout: float = 5.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.url = url
        self.sinks = sinks
        self.name = name
        self.audio = audio
        self.on_status = on_status
        self.timeouts = (open_timeout, read_timeout)
        self.backoff = backoff or Backoff()
        self.gave_up: str | None = None  # why it stopped dialing (give_up_after failures in a row)
        self.stats = IngestStats()
        self.connected = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"ingest-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        reason = "stream ended"
        while not self._stop.is_set():
            try:
                self._session()
            except Exception as exc:  # never let a broken stream kill the thread
                self.stats.failures += 1
                # PyAV's message repeats the URL: never log the camera's password
                reason = str(exc).replace(self.url, redact(self.url))
                log.warning("%s: stream %s failed: %s", self.name, redact(self.url), reason)
            if self.connected:
                self.connected = False
                # a frozen camera's gap starts at its last packet, not read_timeout later when noticed
                self._status("lost", "stream ended", at=self.stats.last_packet_at)
            if self._stop.is_set():
                break
            delay = self.backoff.next_delay()
            if self.backoff.exhausted:  # a camera that never answers is not dialed forever
                self.gave_up = f"gave up after {self.backoff.attempts} failed connections: {reason}"[:300]
                log.warning("%s: %s", self.name, self.gave_up)
                self._status("gave_up", self.gave_up)
                break
            log.info("%s: reconnecting in %.1fs", self.name, delay)
            self._stop.wait(delay)

    def _open(self) -> av.container.InputContainer:
        # the User-Agent tells a camera this is the recorder, not someone watching live (C1 solid blue)
        options = {"rtsp_transport": "tcp", "user_agent": USER_AGENT} if self.url.startswith("rtsp") else {}
        return av.open(self.url, options=options, timeout=self.timeouts)

    def _session(self) -> None:
        with self._open() as container:
            if not container.streams.video:
                raise ValueError("no video stream")
            video = container.streams.video[0]
            audio = container.streams.audio[0] if self.audio and container.streams.audio else None
            streams = [video] if audio is None else [video, audio]
            normalizer: _Normalizer | None = None
            try:
                for packet in container.demux(streams):
                    if self._stop.is_set():
                        break
                    if normalizer is None:
                        if packet.stream.index != video.index or not packet.is_keyframe or packet.pts is None:
                            continue
                        normalizer = _Normalizer(packet)
                        self._open_sinks(StreamSet(video, audio, datetime.now(UTC)))
                    media = normalizer.normalize(packet, packet.stream.index == video.index)
                    if media is not None:
                        self._deliver(media)
            finally:
                if normalizer is not None:
                    self._close_sinks()

    def _open_sinks(self, streams: StreamSet) -> None:
        self.stats.sessions += 1
        self.backoff.reset()
        self.connected = True
        log.info("%s: streaming from %s (%s)", self.name, redact(self.url), streams.video.codec_context.name)
        for sink in self.sinks:
            sink.open_session(streams)
        self._status("up", "")

    def _close_sinks(self) -> None:
        for sink in self.sinks:
            try:
                sink.close_session()
            except Exception:
                log.exception("%s: closing a sink failed", self.name)

    def _deliver(self, media: MediaPacket) -> None:
        self.stats.packets += 1
        self.stats.bytes += media.packet.size
        self.stats.last_packet_at = datetime.now(UTC)
        for sink in self.sinks:
            try:
                sink.write(media)
            except Exception:
                log.exception("%s: a sink failed on a packet", self.name)

    def _status(self, kind: str, detail: str, at: datetime | None = None) -> None:
        if self.on_status is not None:
            self.on_status(kind, at or datetime.now(UTC), detail)


class _Normalizer:
    """Shifts timestamps so the session's first keyframe is 0; repairs missing or non-monotonic dts."""

    def __init__(self, first: av.Packet) -> None:
        assert first.pts is not None
        dts = first.dts if first.dts is not None else first.pts
        self.origin = Fraction(dts) * Fraction(first.time_base)
        self.last_dts: dict[int, int] = {}

    def normalize(self, packet: av.Packet, is_video: bool) -> MediaPacket | None:
        if packet.pts is None or packet.size == 0:
            return None
        time_base = Fraction(packet.time_base)
        offset = round(self.origin / time_base)
        pts = packet.pts - offset
        dts = (packet.dts if packet.dts is not None else packet.pts) - offset
        if dts < 0:
            return None  # from before the first keyframe
        index = packet.stream.index
        last = self.last_dts.get(index)
        if last is not None and dts <= last:
            dts = last + 1
        pts = max(pts, dts)
        self.last_dts[index] = dts
        packet.pts, packet.dts = pts, dts
        return MediaPacket(packet, is_video, bool(packet.is_keyframe and is_video), pts)
