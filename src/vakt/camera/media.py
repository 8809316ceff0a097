"""Media units and H.264 bitstream helpers shared by the sources, the RTSP server and the recorder."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

START_CODE = b"\x00\x00\x00\x01"

# H.264 NAL unit types we treat specially (ITU-T H.264 table 7-1)
NAL_IDR = 5
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9


class TrackKind(StrEnum):
    VIDEO = "video"
    AUDIO = "audio"


@dataclass(frozen=True, slots=True)
class VideoTrack:
    """An H.264 video track: what the SDP and the decoders need to know."""

    width: int
    height: int
    fps: float
    sps: bytes
    pps: bytes

    @property
    def profile_level_id(self) -> str:
        return self.sps[1:4].hex().upper()

    @property
    def annexb_extradata(self) -> bytes:
        return START_CODE + self.sps + START_CODE + self.pps


@dataclass(frozen=True, slots=True)
class AudioTrack:
    """AAC (RFC 3640 mpeg4-generic; ``config`` is the AudioSpecificConfig) or Opus (RFC 7587;
    ``config`` is the OpusHead, if any)."""

    sample_rate: int
    channels: int
    config: bytes
    codec: str = "aac"


@dataclass(frozen=True, slots=True)
class MediaUnit:
    """One access unit (video: its NAL units without start codes; audio: one raw AAC or Opus frame)."""

    kind: TrackKind
    dts: float
    pts: float
    keyframe: bool
    payloads: tuple[bytes, ...]

    def shifted(self, offset: float) -> MediaUnit:
        return MediaUnit(self.kind, self.dts + offset, self.pts + offset, self.keyframe, self.payloads)

    @property
    def size(self) -> int:
        return sum(len(p) for p in self.payloads)


def nal_type(nal: bytes) -> int:
    return nal[0] & 0x1F if nal else -1


def split_annexb(data: bytes) -> list[bytes]:
    """NAL units of an Annex-B byte stream (3- or 4-byte start codes)."""
    nals: list[bytes] = []
    i, n = 0, len(data)
    start = -1
    while i + 3 <= n:
        if data[i] == 0 and data[i + 1] == 0 and data[i + 2] == 1:
            if start >= 0:
                nals.append(data[start:i].rstrip(b"\x00"))
            i += 3
            start = i
        else:
            i += 1
    if start >= 0:
        nals.append(data[start:])
    return [nal for nal in nals if nal]


def split_avcc(data: bytes, length_size: int) -> list[bytes]:
    """NAL units of a length-prefixed (AVCC / MP4) access unit."""
    nals: list[bytes] = []
    i = 0
    while i + length_size <= len(data):
        size = int.from_bytes(data[i : i + length_size], "big")
        i += length_size
        if size == 0 or i + size > len(data):
            break
        nals.append(data[i : i + size])
        i += size
    return nals


@dataclass(frozen=True, slots=True)
class ParameterSets:
    sps: bytes
    pps: bytes
    length_size: int  # 0 when the stream is already Annex-B


def parse_h264_extradata(extradata: bytes) -> ParameterSets:
    """SPS, PPS and NAL length size from an avcC record or Annex-B extradata."""
    if not extradata:
        raise ValueError("H.264 stream has no extradata (SPS/PPS)")
    if extradata[0] == 1:
        length_size = (extradata[4] & 0x03) + 1
        count = extradata[5] & 0x1F
        i = 6
        sps_list: list[bytes] = []
        for _ in range(count):
            size = int.from_bytes(extradata[i : i + 2], "big")
            sps_list.append(extradata[i + 2 : i + 2 + size])
            i += 2 + size
        pps_list: list[bytes] = []
        for _ in range(extradata[i]):
            size = int.from_bytes(extradata[i + 1 : i + 3], "big")
            pps_list.append(extradata[i + 3 : i + 3 + size])
            i += 2 + size
        if not sps_list or not pps_list:
            raise ValueError("avcC record without SPS or PPS")
        return ParameterSets(sps_list[0], pps_list[0], length_size)
    nals = split_annexb(extradata)
    sps = next((n for n in nals if nal_type(n) == NAL_SPS), None)
    pps = next((n for n in nals if nal_type(n) == NAL_PPS), None)
    if sps is None or pps is None:
        raise ValueError("Annex-B extradata without SPS or PPS")
    return ParameterSets(sps, pps, 0)


def access_unit_nals(data: bytes, params: ParameterSets) -> tuple[bytes, ...]:
    """The NAL units of one access unit, access-unit delimiters dropped, SPS/PPS put before an IDR."""
    nals = split_avcc(data, params.length_size) if params.length_size else split_annexb(data)
    nals = [n for n in nals if nal_type(n) != NAL_AUD]
    types = {nal_type(n) for n in nals}
    if NAL_IDR in types:
        # Every IDR carries its parameter sets so a client can join at any keyframe.
        nals = [n for n in nals if nal_type(n) not in (NAL_SPS, NAL_PPS)]
        nals = [params.sps, params.pps, *nals]
    return tuple(nals)
