"""RTP packetisers (RFC 3550 header, RFC 6184 H.264, RFC 3640 AAC-hbr) and RTCP sender reports."""

from __future__ import annotations

import struct
import time

RTP_VERSION = 2
DEFAULT_MTU = 1400  # RTP payload budget that fits a 1500-byte Ethernet frame with headers
NAL_FU_A = 28
NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900-01-01 to 1970-01-01


def h264_payloads(nal: bytes, mtu: int = DEFAULT_MTU) -> list[bytes]:
    """RTP payloads for one NAL unit: a single NAL unit packet, or FU-A fragments when too big."""
    if len(nal) <= mtu:
        return [nal]
    header = nal[0]
    indicator = (header & 0xE0) | NAL_FU_A
    nal_type = header & 0x1F
    body = nal[1:]
    chunk = mtu - 2
    payloads = []
    for start in range(0, len(body), chunk):
        fu_header = nal_type
        if start == 0:
            fu_header |= 0x80  # S bit
        if start + chunk >= len(body):
            fu_header |= 0x40  # E bit
        payloads.append(bytes((indicator, fu_header)) + body[start : start + chunk])
    return payloads


def aac_payload(frame: bytes) -> bytes:
    """RFC 3640 AAC-hbr payload with one access unit: AU-headers-length 16, then size(13)|index(3)."""
    if len(frame) >= 1 << 13:
        raise ValueError(f"AAC frame of {len(frame)} bytes is too big for AAC-hbr")
    return struct.pack("!HH", 16, len(frame) << 3) + frame


class RtpPacketizer:
    """Builds RTP packets for one track of one session: its own SSRC and sequence numbers."""

    def __init__(self, payload_type: int, ssrc: int, first_seq: int) -> None:
        self.payload_type = payload_type
        self.ssrc = ssrc
        self.seq = first_seq & 0xFFFF
        self.packet_count = 0
        self.octet_count = 0
        self.last_rtp_ts: int | None = None

    def packet(self, payload: bytes, timestamp: int, marker: bool) -> bytes:
        first = RTP_VERSION << 6
        second = (0x80 if marker else 0) | self.payload_type
        header = struct.pack("!BBHII", first, second, self.seq, timestamp & 0xFFFFFFFF, self.ssrc)
        self.seq = (self.seq + 1) & 0xFFFF
        self.packet_count += 1
        self.octet_count += len(payload)
        self.last_rtp_ts = timestamp
        return header + payload


def ntp_timestamp(unix_time: float | None = None) -> int:
    """64-bit NTP time (RFC 3550 section 4)."""
    now = time.time() if unix_time is None else unix_time
    seconds = int(now) + NTP_EPOCH_OFFSET
    fraction = int((now % 1.0) * (1 << 32)) & 0xFFFFFFFF
    return (seconds << 32) | fraction


def sender_report(ssrc: int, ntp: int, rtp_ts: int, packets: int, octets: int) -> bytes:
    """An RTCP SR without report blocks (RFC 3550 section 6.4.1)."""
    return struct.pack(
        "!BBHIIIIII",
        RTP_VERSION << 6,
        200,
        6,  # length in 32-bit words minus one
        ssrc,
        ntp >> 32,
        ntp & 0xFFFFFFFF,
        rtp_ts & 0xFFFFFFFF,
        packets & 0xFFFFFFFF,
        octets & 0xFFFFFFFF,
    )
