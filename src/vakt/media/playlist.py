"""HLS playback (C7.2) from the segment index: fMP4 segments, each with its own init map by byte range."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from vakt.media.segments import SegmentInfo

DISCONTINUITY = timedelta(seconds=1.0)


def start_segment(segments: Sequence[SegmentInfo], instant: datetime) -> int | None:
    """Index of the segment containing `instant`, else of the first one after it."""
    for index, seg in enumerate(segments):
        if seg.end > instant:
            return index
    return None


def build_playlist(
    segments: Sequence[SegmentInfo],
    instant: datetime,
    url_for: Callable[[SegmentInfo], str],
    *,
    limit: int = 360,
) -> str | None:
    """A VOD playlist that starts playing at `instant` (EXT-X-START offset into the first segment)."""
    ordered = sorted(segments, key=lambda s: s.start)
    first = start_segment(ordered, instant)
    if first is None:
        return None
    chosen = ordered[first : first + limit]
    offset = max(0.0, (instant - chosen[0].start).total_seconds())
    target = max(1, math.ceil(max(s.duration for s in chosen)))
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f"#EXT-X-START:TIME-OFFSET={offset:.3f},PRECISE=YES",
    ]
    previous: SegmentInfo | None = None
    for seg in chosen:
        url = url_for(seg)
        if previous is not None and seg.start - previous.end > DISCONTINUITY:
            lines.append("#EXT-X-DISCONTINUITY")
        lines += [
            f"#EXT-X-PROGRAM-DATE-TIME:{seg.start.isoformat(timespec='milliseconds')}",
            f'#EXT-X-MAP:URI="{url}",BYTERANGE="{seg.init_size}@0"',
            f"#EXTINF:{seg.duration:.3f},",
            f"#EXT-X-BYTERANGE:{seg.size - seg.init_size}@{seg.init_size}",
            url,
        ]
        previous = seg
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
