"""Where the camera's pictures come from: a video file (H.264, streamed without re-encoding) or a
generated scene, each loaded once into memory as a :class:`Clip` that the live streams loop."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from vakt.camera.media import (
    AudioTrack,
    MediaUnit,
    TrackKind,
    VideoTrack,
    access_unit_nals,
    parse_h264_extradata,
)

log = logging.getLogger(__name__)

GENERATED_SIZE = (640, 360)
GENERATED_FPS = 10
GENERATED_SECONDS = 12
TRANSCODE_VERSION = 2  # part of every cache key: bump when what a transcode produces changes


class SourceError(RuntimeError):
    """A video source that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Clip:
    """A whole H.264 clip in memory, units in decoding order, the first at time 0."""

    name: str
    video: VideoTrack
    audio: AudioTrack | None
    units: tuple[MediaUnit, ...]
    duration: float


def video_codec(path: Path) -> tuple[str, bool]:
    """The video codec's name and whether the stream uses B-frames."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise SourceError(f"{path} has no video stream")
            ctx = container.streams.video[0].codec_context
            return str(ctx.name), bool(ctx.has_b_frames)
    except av.FFmpegError as exc:
        raise SourceError(f"cannot open video {path}: {exc}") from exc


AUDIO_CODECS = ("aac", "opus")


def _audio_track(stream: Any) -> AudioTrack | None:
    ctx = stream.codec_context
    extradata = bytes(ctx.extradata or b"")
    if ctx.name == "aac":
        return AudioTrack(ctx.sample_rate, ctx.channels, extradata, "aac") if extradata else None
    return AudioTrack(48000, ctx.channels, extradata, "opus")  # RFC 7587: Opus RTP always runs at 48 kHz


def load_clip(path: Path) -> Clip:
    """Demux an H.264 file (with optional AAC or Opus audio) into memory, converting AVCC to Annex-B."""
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise SourceError(f"cannot open video {path}: {exc}") from exc
    with container:
        vstream = container.streams.video[0]
        if vstream.codec_context.name != "h264":
            raise SourceError(f"{path}: video codec {vstream.codec_context.name} is not H.264")
        params = parse_h264_extradata(bytes(vstream.codec_context.extradata or b""))
        fps = float(vstream.average_rate or vstream.guessed_rate or 25)
        ctx = vstream.codec_context
        video = VideoTrack(ctx.width, ctx.height, fps, params.sps, params.pps)
        astream = next((s for s in container.streams.audio if s.codec_context.name in AUDIO_CODECS), None)
        audio = _audio_track(astream) if astream is not None else None
        if audio is None and container.streams.audio:
            names = ", ".join(s.codec_context.name for s in container.streams.audio)
            log.warning("%s: audio (%s) is neither AAC nor Opus: streaming video only", path, names)
        streams = [vstream] + ([astream] if audio and astream is not None else [])
        units: list[MediaUnit] = []
        end = 0.0
        for packet in container.demux(streams):
            if packet.dts is None or packet.size == 0 or packet.time_base is None:
                continue
            tb = packet.time_base
            dts = float(packet.dts * tb)
            pts = float((packet.pts if packet.pts is not None else packet.dts) * tb)
            if packet.stream is vstream:
                nals = access_unit_nals(bytes(packet), params)
                frame = float(packet.duration * tb) if packet.duration else 1.0 / fps
                units.append(MediaUnit(TrackKind.VIDEO, dts, pts, packet.is_keyframe, nals))
            else:
                frame = float(packet.duration * tb) if packet.duration else 1024 / audio.sample_rate  # type: ignore[union-attr]
                units.append(MediaUnit(TrackKind.AUDIO, dts, pts, True, (bytes(packet),)))
            end = max(end, dts + frame)
    if not any(u.kind is TrackKind.VIDEO and u.keyframe for u in units):
        raise SourceError(f"{path}: no keyframe in the video")
    units.sort(key=lambda u: (u.dts, u.kind is TrackKind.AUDIO))
    start = units[0].dts
    # Begin at the first keyframe so every loop starts decodable.
    first_key = next(i for i, u in enumerate(units) if u.kind is TrackKind.VIDEO and u.keyframe)
    start = min(units[first_key].dts, units[first_key].pts)
    shifted = tuple(u.shifted(-start) for u in units[first_key:])
    return Clip(path.name, video, audio, shifted, end - start)


@contextlib.contextmanager
def _atomic_output(dst: Path) -> Iterator[Path]:
    """A private file beside ``dst``, renamed onto it only when complete (removed on failure), so
    two processes preparing the same file never share a half-written one."""
    tmp = dst.with_name(f".{dst.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp.mp4")
    try:
        yield tmp
        tmp.replace(dst)
    finally:
        tmp.unlink(missing_ok=True)


def cache_key(path: Path, *parts: object) -> str:
    stat = path.stat()
    text = "|".join(
        str(p) for p in (TRANSCODE_VERSION, path.resolve(), stat.st_size, stat.st_mtime_ns, *parts)
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def transcode_h264(
    src: Path, dst: Path, scale: float = 1.0, flip: bool = False, keep_audio: bool = False
) -> Path:
    """Encode ``src``'s video once to H.264 (libx264, no B-frames, 2 s GOP) at ``scale``; with
    ``keep_audio`` its AAC or Opus track is copied as it is, else audio is dropped."""
    with _atomic_output(dst) as tmp, av.open(str(src)) as inp, av.open(str(tmp), "w") as out:
        vin = inp.streams.video[0]
        fps = Fraction(vin.average_rate or vin.guessed_rate or 25).limit_denominator(1000)
        width = max(16, int(vin.codec_context.width * scale) // 2 * 2)
        height = max(16, int(vin.codec_context.height * scale) // 2 * 2)
        vout = out.add_stream("libx264", rate=fps)
        vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
        vout.options = {"preset": "ultrafast", "bf": "0", "g": str(max(1, round(2 * fps)))}
        ain = next((s for s in inp.streams.audio if s.codec_context.name in AUDIO_CODECS), None)
        aout = out.add_stream_from_template(ain) if keep_audio and ain is not None else None
        last = -1
        for packet in inp.demux([vin] + ([ain] if aout is not None and ain is not None else [])):
            if packet.stream is not vin:
                if packet.dts is not None and aout is not None:
                    packet.stream = aout
                    out.mux(packet)
                continue
            for frame in packet.decode():
                assert isinstance(frame, av.VideoFrame)
                # keep each frame's presentation time (audio stays in sync), strictly increasing
                pts, tb = frame.pts, frame.time_base
                wanted = round(pts * tb * fps) if pts is not None and tb is not None else last + 1
                last = max(wanted, last + 1)
                out.mux(vout.encode(_converted(frame, width, height, flip, last, fps)))
        out.mux(vout.encode(None))
    return dst


def _converted(frame: av.VideoFrame, width: int, height: int, flip: bool, pts: int, fps: Fraction) -> Any:
    """The frame scaled (and flipped) for the encoder, at ``pts`` in units of 1/fps."""
    new = frame.reformat(width=width, height=height, format="yuv420p")
    if flip:
        new = av.VideoFrame.from_ndarray(_rotated_yuv420p(new.to_ndarray(), height, width), format="yuv420p")
    new.pts, new.time_base = pts, 1 / fps
    return new


def _rotated_yuv420p(planes: np.ndarray, height: int, width: int) -> np.ndarray:
    """A yuv420p frame (Y rows, then U and V packed two rows per line) turned 180 degrees, plane by plane,
    without a round trip through RGB (four times cheaper)."""
    y = planes[:height]
    u = planes[height : height * 5 // 4].reshape(height // 2, width // 2)
    v = planes[height * 5 // 4 :].reshape(height // 2, width // 2)
    turned = [y[::-1, ::-1], u[::-1, ::-1].reshape(-1, width), v[::-1, ::-1].reshape(-1, width)]
    return np.ascontiguousarray(np.concatenate(turned))


def _scene_frame(index: int, width: int, height: int, fps: int) -> np.ndarray:
    """A moving figure walking across a yard, with the loop clock drawn in the corner."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:] = (90, 70, 40)
    image[height * 2 // 3 :] = (60, 110, 70)
    period = GENERATED_SECONDS * fps
    x = int((index % period) / period * (width + 60)) - 30
    ground = height * 2 // 3 + 30
    cv2.circle(image, (x, ground - 95), 12, (180, 200, 230), -1)
    cv2.rectangle(image, (x - 12, ground - 80), (x + 12, ground - 35), (40, 40, 160), -1)
    swing = 10 if (index // 3) % 2 else -10
    cv2.line(image, (x, ground - 35), (x + swing, ground), (30, 30, 30), 5)
    cv2.line(image, (x, ground - 35), (x - swing, ground), (30, 30, 30), 5)
    seconds = index / fps
    clock = f"{int(seconds) // 60:02d}:{seconds % 60:04.1f}"
    cv2.putText(image, "vakt camera (generated)", (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1)
    cv2.putText(image, clock, (width - 110, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1)
    return image


def generate_scene(dst: Path, size: tuple[int, int] = GENERATED_SIZE, fps: int = GENERATED_FPS) -> Path:
    """Encode the synthetic scene once to an H.264 MP4 (looped seamlessly by the live stream)."""
    width, height = size
    with _atomic_output(dst) as tmp, av.open(str(tmp), "w") as out:
        vout = out.add_stream("libx264", rate=fps)
        vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
        vout.options = {"preset": "ultrafast", "bf": "0", "g": str(2 * fps)}
        for index in range(GENERATED_SECONDS * fps):
            frame = av.VideoFrame.from_ndarray(_scene_frame(index, width, height, fps), format="bgr24")
            frame = frame.reformat(format="yuv420p")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            out.mux(vout.encode(frame))
        out.mux(vout.encode(None))
    return dst


@dataclass(frozen=True, slots=True)
class SourceFiles:
    main: Path
    sub: Path


def prepare_sources(video: Path | None, cache_dir: Path, sub_scale: float = 0.5) -> SourceFiles:
    """The main and sub-stream files, transcoding (once, cached) only what is not usable as is."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    if video is None:
        main = cache_dir / f"generated-v{TRANSCODE_VERSION}-{GENERATED_SIZE[0]}x{GENERATED_SIZE[1]}.mp4"
        if not main.exists():
            log.info("generating the synthetic scene into %s", main)
            generate_scene(main)
    else:
        if not video.is_file():
            raise SourceError(f"video file not found: {video}")
        codec, b_frames = video_codec(video)
        main = video
        # RTP carries no decoding timestamps and real cameras send no B-frames: such sources are
        # re-encoded once (cached), every other H.264 file is streamed as it is.
        why = f"{codec}, not H.264" if codec != "h264" else "H.264 with B-frames" if b_frames else None
        if why is not None:
            main = cache_dir / f"{video.stem}-{cache_key(video, 'h264')}-h264.mp4"
            if not main.exists():
                log.warning("source %s is %s: transcoding it once to %s", video, why, main)
                transcode_h264(video, main, keep_audio=True)
            else:
                log.info("source %s is %s: using the cached H.264 transcode %s", video, why, main)
    sub = cache_dir / f"{main.stem}-{cache_key(main, 'sub', sub_scale)}-sub.mp4"
    if not sub.exists():
        log.info("producing the sub-stream (scale %.2f) of %s into %s", sub_scale, main.name, sub)
        transcode_h264(main, sub, scale=sub_scale)
    return SourceFiles(main, sub)
