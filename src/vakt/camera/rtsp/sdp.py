"""Session descriptions (RFC 4566) for a camera stream: H.264 (RFC 6184), AAC (RFC 3640), Opus (RFC 7587)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from vakt.camera.media import AudioTrack, VideoTrack

VIDEO_PT = 96
AUDIO_PT = 97
VIDEO_CLOCK = 90000


@dataclass(frozen=True, slots=True)
class TrackDescription:
    control: str  # the path suffix a client SETUPs, e.g. "trackID=0"
    kind: str
    payload_type: int
    clock_rate: int


def tracks_for(video: VideoTrack, audio: AudioTrack | None) -> list[TrackDescription]:
    tracks = [TrackDescription("trackID=0", "video", VIDEO_PT, VIDEO_CLOCK)]
    if audio is not None:
        tracks.append(TrackDescription("trackID=1", "audio", AUDIO_PT, audio.sample_rate))
    return tracks


def build_sdp(session_id: int, host: str, name: str, video: VideoTrack, audio: AudioTrack | None) -> str:
    sprop = ",".join(base64.b64encode(ps).decode() for ps in (video.sps, video.pps))
    lines = [
        "v=0",
        f"o=- {session_id} 1 IN IP4 {host}",
        f"s={name}",
        f"c=IN IP4 {host}" if ":" not in host else f"c=IN IP6 {host}",
        "t=0 0",
        "a=control:*",
        "a=range:npt=now-",
        f"m=video 0 RTP/AVP {VIDEO_PT}",
        f"a=rtpmap:{VIDEO_PT} H264/{VIDEO_CLOCK}",
        f"a=fmtp:{VIDEO_PT} packetization-mode=1;profile-level-id={video.profile_level_id};"
        f"sprop-parameter-sets={sprop}",
        f"a=cliprect:0,0,{video.height},{video.width}",
        f"a=framesize:{VIDEO_PT} {video.width}-{video.height}",
        f"a=framerate:{video.fps:g}",
        "a=control:trackID=0",
    ]
    if audio is not None and audio.codec == "opus":
        lines += [
            f"m=audio 0 RTP/AVP {AUDIO_PT}",
            f"a=rtpmap:{AUDIO_PT} opus/48000/2",
            f"a=fmtp:{AUDIO_PT} sprop-stereo={1 if audio.channels > 1 else 0}",
            "a=control:trackID=1",
        ]
    elif audio is not None:
        lines += [
            f"m=audio 0 RTP/AVP {AUDIO_PT}",
            f"a=rtpmap:{AUDIO_PT} mpeg4-generic/{audio.sample_rate}/{audio.channels}",
            f"a=fmtp:{AUDIO_PT} streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;"
            f"indexlength=3;indexdeltalength=3;config={audio.config.hex().upper()}",
            "a=control:trackID=1",
        ]
    return "\r\n".join(lines) + "\r\n"
