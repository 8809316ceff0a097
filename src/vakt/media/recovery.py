"""Start-up recovery: segment files without an index row (killed mid-write) are indexed or quarantined."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import av

from vakt.media.durable import fsync_path, publish
from vakt.media.fmp4 import scan_file
from vakt.media.segments import PART_SUFFIX, SegmentInfo, camera_dir, start_from_name

log = logging.getLogger(__name__)
QUARANTINE_SUFFIX = ".corrupt"


def quarantine(path: Path, reason: str) -> None:
    target = path.with_name(path.name + QUARANTINE_SUFFIX)
    log.error("segment %s is unreadable (%s); moved aside as %s", path, reason, target.name)
    os.replace(path, target)
    fsync_path(path.parent)


def probe_segment(path: Path, camera_id: int, init_size: int, size: int) -> SegmentInfo | None:
    """Read a segment's video packets to learn its real duration and frame count."""
    start = start_from_name(path)
    if start is None:
        return None
    with av.open(str(path)) as container:
        if not container.streams.video:
            return None
        stream = container.streams.video[0]
        first: int | None = None
        last = 0
        frames = 0
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            first = packet.pts if first is None else min(first, packet.pts)
            last = max(last, packet.pts + (packet.duration or 0))
            frames += 1
        has_audio = bool(container.streams.audio)
        time_base = Fraction(stream.time_base or Fraction(1, 90000))
    if first is None or frames == 0:
        return None
    end = start + timedelta(seconds=float((last - first) * time_base))
    return SegmentInfo(camera_id, path, start, end, size, init_size, frames=frames, has_audio=has_audio)


def has_segment_name(path: Path) -> bool:
    """True for `<UTC start>.mp4[.part]`; anything else is reported (and left alone) by its name."""
    if start_from_name(path) is not None:
        return True
    log.warning(
        "unexpected file name %r in %s: not a vakt segment (named <UTC start>.mp4); left alone",
        path.name,
        str(path.parent),
    )
    return False


def recover_part_file(path: Path, camera_id: int, discard_empty: bool = False) -> SegmentInfo | None:
    """Truncate a cut segment to its last whole fragment, index it, or quarantine it.

    `discard_empty`: a file with no whole fragment is deleted instead (a full disk needs the space)."""
    if not has_segment_name(path):
        return None
    try:
        init_size, playable = scan_file(path)
    except OSError as exc:
        log.error("cannot read segment %s: %s", path, exc)
        return None
    if init_size == 0 or playable <= init_size:
        if discard_empty:
            log.warning("segment %s has no whole fragment; deleted", path.name)
            path.unlink(missing_ok=True)
        else:
            quarantine(path, "no complete fragment")
        return None
    final = path.with_name(path.name.removesuffix(PART_SUFFIX)) if path.name.endswith(PART_SUFFIX) else path
    if final != path and final.exists():
        quarantine(path, f"a finished segment {final.name} already exists")  # never two rows for one start
        return None
    if playable < path.stat().st_size:
        os.truncate(path, playable)
    try:
        info = probe_segment(path, camera_id, init_size, playable)
    except (av.error.FFmpegError, OSError) as exc:
        quarantine(path, str(exc))
        return None
    if info is None:
        quarantine(path, "no video frames")
        return None
    # durable before indexed (the caller commits the row next)
    if final != path:
        publish(path, final)
    else:
        fsync_path(path)
        fsync_path(path.parent)
    log.warning(
        "recovered segment %s (%.1fs, %d frames) after an interrupted write",
        final.name,
        info.duration,
        info.frames,
    )
    return SegmentInfo(
        camera_id, final, info.start, info.end, info.size, info.init_size, info.frames, info.has_audio
    )


def recover_orphans(media_dir: Path, camera_id: int, indexed: set[Path]) -> list[SegmentInfo]:
    """Recover every file of a camera that the index does not know (`.part` or finished but unindexed).

    A valid one is adopted (returned, for the caller to index), an unreadable one moved aside
    (`*.corrupt`); a file whose name is not a segment name is reported and left alone."""
    root = camera_dir(media_dir, camera_id)
    if not root.exists():
        return []
    found: list[SegmentInfo] = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path in indexed:
            continue
        if not (path.name.endswith(PART_SUFFIX) or path.suffix == ".mp4"):
            continue
        if not has_segment_name(path):
            continue
        log.warning("camera %s: %s has no index row (cut by a crash?); checking it", camera_id, path.name)
        info = recover_part_file(path, camera_id)
        if info is not None:
            found.append(info)
    return found
