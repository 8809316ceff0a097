"""One connection's streams and packets, with timestamps made relative to the session's first keyframe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

import av


@dataclass
class StreamSet:
    """Input streams of one RTSP session; pts 0 is the first keyframe, seen at `wall_start` (UTC)."""

    video: av.video.stream.VideoStream
    audio: av.audio.stream.AudioStream | None
    wall_start: datetime

    @property
    def time_base(self) -> Fraction:
        return Fraction(self.video.time_base or Fraction(1, 90000))

    def wall_time(self, video_pts: int) -> datetime:
        return self.wall_start + timedelta(seconds=float(video_pts * self.time_base))

    def frame_pts(self) -> int:
        """One frame's duration in video time-base units (the stream's rate, else 10 fps)."""
        rate = self.video.average_rate or self.video.guessed_rate or Fraction(10)
        return max(1, round(1 / (Fraction(rate) * self.time_base)))


@dataclass
class MediaPacket:
    packet: av.Packet
    is_video: bool
    is_keyframe: bool
    pts: int
