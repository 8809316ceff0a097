"""Recorder (C7.1): remux packets into ~10 s fragmented-MP4 segments, cut on keyframes, never re-encoded."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import av
import av.container

from vakt.media.durable import make_dirs, publish
from vakt.media.fmp4 import scan_file
from vakt.media.recovery import recover_part_file
from vakt.media.segments import PART_SUFFIX, SegmentInfo, segment_path
from vakt.media.session import MediaPacket, StreamSet

log = logging.getLogger(__name__)

# A fragment per GOP and at least every second (long GOPs), so a file cut mid-write stays playable up to
# its last fragment; keep session timestamps (frag_discont, no shifting): continuous across segments.
FMP4_OPTIONS = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof+frag_discont+skip_trailer",
    "frag_duration": "1000000",
    "avoid_negative_ts": "disabled",
    "use_editlist": "0",
    "flush_packets": "1",  # each fragment reaches the file when it is complete, not 32 KiB later
}


def is_disk_full(exc: BaseException) -> bool:
    return getattr(exc, "errno", None) == errno.ENOSPC


@dataclass
class _OpenSegment:
    part: Path
    final: Path
    container: av.container.OutputContainer
    video: av.video.stream.VideoStream
    audio: av.audio.stream.AudioStream | None
    start_pts: int
    start: datetime
    frames: int = 0
    last_pts: int = 0


class SegmentRecorder:
    """Writes one camera's packets into segment files; reports each finished one through `on_segment`."""

    def __init__(
        self,
        media_dir: Path,
        camera_id: int,
        on_segment: Callable[[SegmentInfo], None],
        *,
        segment_seconds: float = 10.0,
        audio: bool = True,
        on_disk_full: Callable[[], None] | None = None,
        disk_full_pause: float = 5.0,
    ) -> None:
        self.media_dir = media_dir
        self.camera_id = camera_id
        self.on_segment = on_segment
        self.segment_seconds = segment_seconds
        self.audio = audio
        self.on_disk_full = on_disk_full
        self.disk_full_pause = disk_full_pause
        self.enabled = True
        self.error: str | None = None
        self._streams: StreamSet | None = None
        self._current: _OpenSegment | None = None
        self._paused_until = 0.0
        self.finished = 0  # segments handed to `on_segment` (fault tests compare it with the index)

    # -- session (one RTSP connection) ------------------------------------------------------------
    def open_session(self, streams: StreamSet) -> None:
        self._streams = streams

    def close_session(self) -> None:
        self._finish(end_pts=None)
        self._streams = None

    # -- packets ----------------------------------------------------------------------------------
    def write(self, packet: MediaPacket) -> None:
        streams = self._streams
        if streams is None:
            return
        if packet.is_video and packet.is_keyframe and self._should_cut(packet.pts):
            self._finish(end_pts=packet.pts)
            if self.enabled and time.monotonic() >= self._paused_until:
                self._start(streams, packet)
        current = self._current
        if current is None:
            return
        out_stream = current.video if packet.is_video else current.audio
        if out_stream is None:
            return
        try:
            packet.packet.stream = out_stream
            current.container.mux(packet.packet)
        except Exception as exc:
            self._write_failed(exc)
            return
        if packet.is_video:
            current.frames += 1
            current.last_pts = max(current.last_pts, packet.pts)

    def _should_cut(self, pts: int) -> bool:
        current = self._current
        if current is None:
            return True
        assert self._streams is not None
        elapsed = (pts - current.start_pts) * self._streams.time_base
        return not self.enabled or float(elapsed) >= self.segment_seconds

    def _start(self, streams: StreamSet, packet: MediaPacket) -> None:
        start = streams.wall_time(packet.pts)
        final = segment_path(self.media_dir, self.camera_id, start)
        part = final.with_name(final.name + PART_SUFFIX)
        try:
            make_dirs(part.parent)
            container = av.open(str(part), "w", format="mp4", options=FMP4_OPTIONS)
            video = container.add_stream_from_template(streams.video)
            audio = None
            if self.audio and streams.audio is not None:
                audio = container.add_stream_from_template(streams.audio)
        except Exception as exc:
            self._write_failed(exc)
            return
        self._current = _OpenSegment(part, final, container, video, audio, packet.pts, start)
        self.error = None

    def _finish(self, end_pts: int | None) -> None:
        current, self._current = self._current, None
        if current is None or self._streams is None:
            return
        try:
            current.container.close()
        except Exception as exc:  # buffered writes report a full disk only here
            self._current = current
            self._write_failed(exc)
            return
        if current.frames == 0:
            current.part.unlink(missing_ok=True)
            return
        if end_pts is None:
            end_pts = current.last_pts + self._streams.frame_pts()
        duration = float((end_pts - current.start_pts) * self._streams.time_base)
        self._index(current, current.start + timedelta(seconds=duration))

    def _index(self, current: _OpenSegment, end: datetime) -> None:
        try:
            init_size, playable = scan_file(current.part)
            if playable <= init_size:
                log.error("camera %s: %s has no whole fragment; removed", self.camera_id, current.part)
                current.part.unlink(missing_ok=True)
                return
            if playable < current.part.stat().st_size:
                os.truncate(current.part, playable)  # the index row's size is the file's size
            # durable before indexed: a power cut after the row is committed cannot lose the file
            publish(current.part, current.final)
        except OSError as exc:
            log.error(
                "camera %s: cannot finish segment %s (%s); it is recovered at the next start",
                self.camera_id,
                current.part.name,
                exc,
            )
            if is_disk_full(exc) and self.on_disk_full is not None:
                self.on_disk_full()
            return
        self.finished += 1
        info = SegmentInfo(
            camera_id=self.camera_id,
            path=current.final,
            start=current.start,
            end=end,
            size=playable,
            init_size=init_size,
            frames=current.frames,
            has_audio=current.audio is not None,
        )
        self.on_segment(info)

    def _write_failed(self, exc: BaseException) -> None:
        current, self._current = self._current, None
        if current is not None:
            with contextlib.suppress(Exception):  # already failed: closing may fail the same way
                current.container.close()
        # set before retention is asked: its `resume()` may come back before this function returns
        self._paused_until = time.monotonic() + self.disk_full_pause
        if is_disk_full(exc):
            self.error = "disk full: recording paused until retention frees space"
            log.error(
                "camera %s: disk full (ENOSPC) while recording; pausing %.1fs and running retention",
                self.camera_id,
                self.disk_full_pause,
            )
            if current is not None:
                # Keep what is playable: the part file is recovered like one cut by a crash.
                info = recover_part_file(current.part, self.camera_id, discard_empty=True)
                if info is not None:
                    self.finished += 1
                    self.on_segment(info)
            if self.on_disk_full is not None:
                self.on_disk_full()
        else:
            self.error = f"recording error: {exc}"
            log.error("camera %s: recording failed: %s; retrying at the next keyframe", self.camera_id, exc)
            if current is not None:
                current.part.unlink(missing_ok=True)

    def resume(self) -> None:
        """Space was freed: record again from the next keyframe instead of waiting out the pause."""
        self._paused_until = 0.0

    @property
    def recording(self) -> bool:
        return self._current is not None
