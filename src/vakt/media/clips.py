"""Clip export (X1, C7.2) as one MP4 remuxed from the index, and a JPEG snapshot at any instant."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import av.container
import cv2

from vakt.media.durable import publish
from vakt.media.segments import SegmentInfo, overlapping

log = logging.getLogger(__name__)


class NoFootage(LookupError):
    """No recorded footage covers the requested time."""


@dataclass(frozen=True)
class ClipInfo:
    path: Path
    start: datetime
    end: datetime
    frames: int
    duration: float


def _seconds(value: int, time_base: Fraction) -> Fraction:
    return value * time_base


class _ClipWriter:
    """Remuxes packets from consecutive segments into one MP4 with timestamps starting at 0."""

    def __init__(self, path: Path, template: av.container.InputContainer) -> None:
        self.container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        self.video_in = template.streams.video[0]
        self.video = self.container.add_stream_from_template(self.video_in)
        self.audio = None
        if template.streams.audio:
            self.audio = self.container.add_stream_from_template(template.streams.audio[0])
        self.extradata = self.video_in.codec_context.extradata
        self.shift: Fraction | None = None  # seconds added to source time
        self.last_out = Fraction(-1)
        self.frames = 0

    def begin_segment(self, first_dts: Fraction, frame: Fraction) -> None:
        """Keep the session's own shift when contiguous; bridge a discontinuity (gap, new session)."""
        if self.shift is None:
            self.shift = -first_dts
        elif abs(first_dts + self.shift - (self.last_out + frame)) > Fraction(1):
            self.shift = self.last_out + frame - first_dts

    def write(self, packet: av.Packet, is_video: bool) -> None:
        assert self.shift is not None and packet.pts is not None and packet.dts is not None
        time_base = Fraction(packet.time_base)
        out_stream = self.video if is_video else self.audio
        if out_stream is None:
            return
        dts = _seconds(packet.dts, time_base) + self.shift
        if dts < 0:
            return
        pts = _seconds(packet.pts, time_base) + self.shift
        packet.dts = round(dts / time_base)
        packet.pts = round(pts / time_base)
        packet.stream = out_stream
        self.container.mux(packet)
        if is_video:
            self.frames += 1
            self.last_out = max(self.last_out, dts)


def export_clip(segments: Sequence[SegmentInfo], start: datetime, end: datetime, out: Path) -> ClipInfo:
    """One MP4 of [start, end): begins at the keyframe at or before `start`, ends at `end`."""
    chosen = overlapping(list(segments), start, end)
    if not chosen:
        raise NoFootage(f"no footage between {start.isoformat()} and {end.isoformat()}")
    writer: _ClipWriter | None = None
    clip_start: datetime | None = None
    partial = out.with_name(out.name + ".part")  # the clip appears under its name only when whole
    try:
        for seg in chosen:
            try:
                source = av.open(str(seg.path))
            except (av.error.FFmpegError, OSError) as exc:
                log.warning("clip skips segment %s: it cannot be read (%s)", seg.path.name, exc)
                continue
            with source:
                if writer is None:
                    writer = _ClipWriter(partial, source)
                elif source.streams.video[0].codec_context.extradata != writer.extradata:
                    log.warning("clip stops at %s: the stream's parameters changed", seg.start.isoformat())
                    break
                began = _copy_segment(source, seg, start, end, writer)
                clip_start = clip_start or began
    finally:
        if writer is not None:
            writer.container.close()
    if writer is None or writer.frames == 0 or clip_start is None:
        partial.unlink(missing_ok=True)
        raise NoFootage("the footage in that range has no decodable frames")
    publish(partial, out)
    duration = float(writer.last_out) + 0.1
    return ClipInfo(out, clip_start, end, writer.frames, duration)


def _copy_segment(
    source: av.container.InputContainer, seg: SegmentInfo, start: datetime, end: datetime, writer: _ClipWriter
) -> datetime | None:
    """Copy one segment's packets in [start, end); before the clip begins, hold from the last keyframe."""
    video = source.streams.video[0]
    streams = [video, *source.streams.audio[:1]] if writer.audio is not None else [video]
    frame = Fraction(1, 10) if not video.average_rate else 1 / Fraction(video.average_rate)
    origin: Fraction | None = None
    pending: list[tuple[av.Packet, bool]] = []
    began: datetime | None = None
    segment_begun = False
    for packet in source.demux(streams):
        if packet.pts is None or packet.dts is None:
            continue
        is_video = packet.stream.index == video.index
        seconds = _seconds(packet.pts, Fraction(packet.time_base))
        if origin is None:
            if not is_video:
                continue
            origin = seconds
        wall = seg.start + timedelta(seconds=float(seconds - origin))
        if wall >= end:
            if is_video:
                break
            continue
        if writer.shift is None:
            keyframe = is_video and packet.is_keyframe
            if keyframe and (wall <= start or not pending):
                pending, began = [], wall
            if not pending and not keyframe:
                continue
            pending.append((packet, is_video))
            if wall < start:
                continue
            writer.begin_segment(min(_seconds(p.dts or 0, Fraction(p.time_base)) for p, _ in pending), frame)
            for held, held_video in pending:
                writer.write(held, held_video)
            pending, segment_begun = [], True
            continue
        if not segment_begun:
            writer.begin_segment(_seconds(packet.dts, Fraction(packet.time_base)), frame)
            segment_begun = True
        writer.write(packet, is_video)
    return began


def encode_jpeg(frame: av.VideoFrame, quality: int = 85) -> bytes:
    image = frame.to_ndarray(format="bgr24")
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(data.tobytes())


def snapshot_at(segments: Sequence[SegmentInfo], instant: datetime) -> bytes:
    """Decode from the segment's keyframes up to `instant` and return that frame as JPEG."""
    seg = next((s for s in sorted(segments, key=lambda s: s.start) if s.end > instant), None)
    if seg is None or seg.start - instant > timedelta(seconds=2):
        raise NoFootage(f"no footage at {instant.isoformat()}")
    target = max(0.0, (instant - seg.start).total_seconds())
    with av.open(str(seg.path), "r") as source:
        video = source.streams.video[0]
        origin: float | None = None
        chosen: av.VideoFrame | None = None
        for frame in source.decode(video):
            if frame.time is None:
                continue
            origin = frame.time if origin is None else origin
            chosen = frame
            if frame.time - origin >= target:
                break
    if chosen is None:
        raise NoFootage(f"segment {seg.path.name} has no decodable frame")
    return encode_jpeg(chosen)


def decode_fragment_jpeg(init: bytes, fragment: bytes) -> bytes:
    """Live snapshot (C5.1): decode the keyframe fragment of the live stream."""
    with av.open(io.BytesIO(init + fragment), "r", format="mp4") as source:
        for frame in source.decode(source.streams.video[0]):
            return encode_jpeg(frame)
    raise NoFootage("live stream has no decodable frame yet")
