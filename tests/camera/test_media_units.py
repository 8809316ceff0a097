"""RTP/SDP/auth building blocks and the live fan-out policy, as pure unit tests."""

from __future__ import annotations

import asyncio
import base64
import itertools
import struct

from vakt.camera.live import LiveStream
from vakt.camera.media import (
    AudioTrack,
    MediaUnit,
    TrackKind,
    VideoTrack,
    access_unit_nals,
    parse_h264_extradata,
    split_annexb,
)
from vakt.camera.rtsp.auth import Authenticator
from vakt.camera.rtsp.rtp import RtpPacketizer, aac_payload, h264_payloads, sender_report
from vakt.camera.rtsp.sdp import build_sdp
from vakt.camera.rtsp.server import split_url
from vakt.camera.source import Clip

SPS = bytes.fromhex("6742c01e95a0")
PPS = bytes.fromhex("68ce3c80")


def test_rfc6184_small_nal_is_a_single_packet_and_big_nal_is_fu_a() -> None:
    small = b"\x41" + b"x" * 100
    assert h264_payloads(small) == [small]
    big = b"\x65" + bytes(range(256)) * 20
    parts = h264_payloads(big, mtu=1400)
    assert len(parts) > 1 and all(len(p) <= 1400 for p in parts)
    assert all(p[0] & 0x1F == 28 and p[0] & 0x60 == 0x60 for p in parts)  # FU-A, NRI kept
    assert parts[0][1] & 0x80 and not parts[0][1] & 0x40  # S
    assert parts[-1][1] & 0x40 and not parts[-1][1] & 0x80  # E
    rebuilt = bytes([(parts[0][0] & 0xE0) | (parts[0][1] & 0x1F)]) + b"".join(p[2:] for p in parts)
    assert rebuilt == big


def test_rfc3640_aac_hbr_header() -> None:
    payload = aac_payload(b"\x01" * 300)
    assert struct.unpack("!HH", payload[:4]) == (16, 300 << 3)
    assert payload[4:] == b"\x01" * 300


def test_rtp_header_and_sequence_wrap() -> None:
    p = RtpPacketizer(96, 0x12345678, 0xFFFF)
    first = p.packet(b"a", 1000, marker=True)
    second = p.packet(b"b", 1000, marker=False)
    assert first[0] == 0x80 and first[1] == 0x80 | 96
    assert struct.unpack("!H", first[2:4])[0] == 0xFFFF and struct.unpack("!H", second[2:4])[0] == 0
    assert struct.unpack("!I", first[8:12])[0] == 0x12345678


def test_rtcp_sender_report_layout() -> None:
    sr = sender_report(7, (5 << 32) | 9, 1234, 10, 2000)
    assert len(sr) == 28 and sr[1] == 200
    assert struct.unpack("!IIIIII", sr[4:]) == (7, 5, 9, 1234, 10, 2000)


def test_avcc_extradata_and_access_units_become_annexb_with_parameter_sets_before_idr() -> None:
    avcc = bytes([1, 0x42, 0xC0, 0x1E, 0xFF, 0xE1]) + struct.pack("!H", len(SPS)) + SPS
    avcc += bytes([1]) + struct.pack("!H", len(PPS)) + PPS
    params = parse_h264_extradata(avcc)
    assert (params.sps, params.pps, params.length_size) == (SPS, PPS, 4)
    idr = b"\x65\x88\x84"
    aud = b"\x09\xf0"
    unit = struct.pack("!I", len(aud)) + aud + struct.pack("!I", len(idr)) + idr
    assert access_unit_nals(unit, params) == (SPS, PPS, idr)
    annexb = b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x01" + PPS
    assert split_annexb(annexb) == [SPS, PPS]
    assert parse_h264_extradata(annexb).length_size == 0


def test_sdp_carries_profile_and_sprop_and_audio_config() -> None:
    video = VideoTrack(640, 360, 10.0, SPS, PPS)
    sdp = build_sdp(1, "127.0.0.1", "t", video, AudioTrack(48000, 2, b"\x11\x90"))
    sprop = f"{base64.b64encode(SPS).decode()},{base64.b64encode(PPS).decode()}"
    assert f"profile-level-id=42C01E;sprop-parameter-sets={sprop}" in sdp
    assert "a=control:trackID=1" in sdp and "config=1190" in sdp
    assert "m=audio" not in build_sdp(1, "127.0.0.1", "t", video, None)


def test_split_url_knows_tracks_and_hikvision_aliases() -> None:
    assert split_url("rtsp://h:1/live/trackID=0") == ("live", "trackID=0")
    assert split_url("rtsp://h:1/sub/") == ("sub", "")
    assert split_url("rtsp://h:1/h264/ch1/main/av_stream/trackID=1") == ("live", "trackID=1")
    assert split_url("/live?x=1") == ("live", "")


def test_auth_basic_and_digest() -> None:
    auth = Authenticator("admin", "ABCDEF", "r")
    token = base64.b64encode(b"admin:ABCDEF").decode()
    assert auth.check(f"Basic {token}", "DESCRIBE")
    assert not auth.check("Basic " + base64.b64encode(b"admin:x").decode(), "DESCRIBE")
    assert not auth.check(None, "DESCRIBE") and not auth.check("Bearer x", "DESCRIBE")
    assert not auth.check('Digest username="admin"', "DESCRIBE")


def _clip(n_frames: int, gop: int) -> Clip:
    units = tuple(
        MediaUnit(TrackKind.VIDEO, i / 100, i / 100, i % gop == 0, (b"\x65" if i % gop == 0 else b"\x41",))
        for i in range(n_frames)
    )
    return Clip("t", VideoTrack(16, 16, 100.0, SPS, PPS), None, units, n_frames / 100)


def test_subscriber_starts_at_a_keyframe_and_a_full_queue_drops_to_the_next_keyframe() -> None:
    stream = LiveStream("t", _clip(10, 5))
    slow = stream.subscribe()
    slow.queue = asyncio.Queue(3)
    units = _clip(20, 5).units
    for unit in units[1:12]:  # joins mid-GOP: waits for frame 5; frame 8 overflows; resyncs at 10
        stream._publish(unit)
    kept = [slow.queue.get_nowait() for _ in range(slow.queue.qsize())]
    assert kept == [units[10], units[11]] and kept[0].keyframe
    assert slow.dropped == 4 + 3 + 2  # 1-4 before the first keyframe, 5-7 flushed, 8-9 skipped


def test_timestamps_keep_increasing_across_loops() -> None:
    async def run() -> list[float]:
        now = [0.0]
        stream = LiveStream("t", _clip(10, 5), clock=lambda: now[0])
        sub = stream.subscribe()
        stream.start()
        seen: list[float] = []
        while len(seen) < 35:
            now[0] += 0.01
            await asyncio.sleep(0)
            while not sub.queue.empty():
                seen.append(sub.queue.get_nowait().dts)
        await stream.stop()
        return seen

    dts = asyncio.run(run())
    assert all(b > a for a, b in itertools.pairwise(dts))
    assert dts[-1] >= 0.3


def test_a_starved_stream_resumes_in_real_time_instead_of_bursting() -> None:
    async def run() -> int:
        now = [0.0]
        stream = LiveStream("t", _clip(1000, 5), clock=lambda: now[0])
        published: list[MediaUnit] = []
        stream.add_listener(published.append)
        stream.start()
        for _ in range(20):
            now[0] += 0.01
            await asyncio.sleep(0)
        before = len(published)
        now[0] += 10.0  # ten seconds without running (a stalled process)
        await asyncio.sleep(0.2)  # the pacing task wakes up (its sleeps run on the real loop clock)
        await stream.stop()
        return len(published) - before

    assert asyncio.run(run()) < 50  # not the ~1000 units ten seconds of backlog would be
