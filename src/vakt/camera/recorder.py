"""Event clips on the micro SD card (C4.3, C9.1): the main stream remuxed to MP4, never re-encoded."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import av

from vakt.camera.live import LiveStream
from vakt.camera.media import START_CODE, MediaUnit, TrackKind
from vakt.camera.sd import Recording, SdError, SdFolder

log = logging.getLogger(__name__)

TIME_BASE = Fraction(1, 90000)
SIZE_CHECK_EVERY = 25  # units between loop-overwrite checks while writing


class ClipRecorder:
    """Writes one clip from the next keyframe until stopped; keeps the card's accounting current."""

    def __init__(self, stream: LiveStream, sd: SdFolder, reason: str, audio: bool) -> None:
        if not sd.card.writable:
            raise SdError(f"cannot record: SD card is {sd.card.status.value}")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        self.name = f"{stamp}-{reason}.mp4"
        self.path = sd.folder / self.name
        self.reason = reason
        self.stream = stream
        self.sd = sd
        self._units = 0
        self._origin: float | None = None
        self._container: Any = None
        self._video: Any = None
        self._audio: Any = None
        self._with_audio = audio and stream.clip.audio is not None
        self.failed: str | None = None
        self._bytes = 0
        sd.folder.mkdir(parents=True, exist_ok=True)
        sd.card.add(Recording(self.name, 0))
        for unit in list(stream.gop):  # pre-roll: the clip starts at the current GOP's keyframe
            self._on_unit(unit)
        stream.add_listener(self._on_unit)
        self.started_at = datetime.now(UTC)

    def _open(self) -> None:
        clip = self.stream.clip
        container = av.open(str(self.path), "w", format="mp4")
        video = container.add_stream("h264")
        video.width, video.height = clip.video.width, clip.video.height
        video.time_base = TIME_BASE
        video.codec_context.extradata = clip.video.annexb_extradata
        if self._with_audio and clip.audio is not None:
            audio = container.add_stream(clip.audio.codec, rate=clip.audio.sample_rate)
            audio.codec_context.extradata = clip.audio.config
            audio.time_base = Fraction(1, clip.audio.sample_rate)
            self._audio = audio
        self._container, self._video = container, video

    def _on_unit(self, unit: MediaUnit) -> None:
        if self.failed is not None:
            return
        try:
            self._write(unit)
        except (OSError, av.FFmpegError) as exc:
            self._give_up(f"write failed: {exc}")

    def _give_up(self, reason: str) -> None:
        """Stop writing (the file so far is kept); the device still calls stop() to close it."""
        self.failed = reason
        self.stream.remove_listener(self._on_unit)
        log.error("SD recording %s stopped: %s", self.name, reason)

    def _write(self, unit: MediaUnit) -> None:
        if self._origin is None:
            if unit.kind is not TrackKind.VIDEO or not unit.keyframe:
                return
            self._origin = unit.dts
            self._open()
        if unit.kind is TrackKind.VIDEO:
            payload = b"".join(START_CODE + nal for nal in unit.payloads)
            self._mux(self._video, payload, unit, TIME_BASE)
        elif self._audio is not None:
            self._mux(self._audio, unit.payloads[0], unit, self._audio.time_base)
        self._units += 1
        if self._units % SIZE_CHECK_EVERY == 0:
            self._account()

    def _mux(self, stream: Any, payload: bytes, unit: MediaUnit, time_base: Fraction) -> None:
        assert self._origin is not None
        packet = av.Packet(payload)
        packet.stream = stream
        packet.time_base = time_base
        packet.dts = round((unit.dts - self._origin) / time_base)
        packet.pts = round((unit.pts - self._origin) / time_base)
        packet.is_keyframe = unit.keyframe
        self._container.mux(packet)
        self._bytes += len(payload)

    def _account(self) -> None:
        on_disk = self.path.stat().st_size if self.path.exists() else 0
        size = max(on_disk, self._bytes)  # the muxer buffers: count what was handed to it
        self.sd.card.resize(self.name, size)
        self.sd.make_room(0, keep=self.name)
        if size > self.sd.card.capacity and self.failed is None:
            self._give_up("the clip alone fills the card")

    def stop(self) -> Recording:
        self.stream.remove_listener(self._on_unit)
        if self._container is not None:
            with contextlib.suppress(OSError, av.FFmpegError):
                self._container.close()
            self._container = None
        size = self.path.stat().st_size if self.path.exists() else 0
        self._bytes = size  # closed: the file size is now exact
        self._account()
        if size == 0:
            self.sd.card.recordings = [r for r in self.sd.card.recordings if r.name != self.name]
            self.path.unlink(missing_ok=True)
        log.info("SD recording %s finished (%d bytes)", self.name, size)
        return Recording(self.name, size)
