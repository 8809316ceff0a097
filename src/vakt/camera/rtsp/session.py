"""One RTSP session: its tracks' transports (TCP interleaved or UDP) and the task that sends RTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from vakt.camera.live import LiveStream, Subscription
from vakt.camera.media import MediaUnit, TrackKind
from vakt.camera.rtsp.rtp import RtpPacketizer, aac_payload, h264_payloads, ntp_timestamp, sender_report
from vakt.camera.rtsp.sdp import TrackDescription

log = logging.getLogger(__name__)

SESSION_TIMEOUT = 60  # seconds without a request or RTCP before a UDP session is dropped
SR_INTERVAL = 5.0
WRITE_STALL_TIMEOUT = 20.0  # a TCP client that reads nothing for this long is disconnected


class _RtcpListener(asyncio.DatagramProtocol):
    """Receives the client's RTCP (receiver reports) on a UDP session: proof the client is alive."""

    def __init__(self, touch: Callable[[], None]) -> None:
        self._touch = touch

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self._touch()


@dataclass
class TrackTransport:
    track: TrackDescription
    packetizer: RtpPacketizer
    rtp_base: int
    interleaved: tuple[int, int] | None = None  # TCP channels (RTP, RTCP)
    client_ports: tuple[int, int] | None = None  # UDP destination ports (RTP, RTCP)
    server_ports: tuple[int, int] | None = None
    udp: list[asyncio.DatagramTransport] = field(default_factory=list)

    def rtp_timestamp(self, seconds: float) -> int:
        return (self.rtp_base + round(seconds * self.track.clock_rate)) & 0xFFFFFFFF


async def open_udp_pair(host: str, touch: Callable[[], None]) -> tuple[list[asyncio.DatagramTransport], int]:
    """Bind an even RTP port and the next odd one for RTCP (RFC 3550 convention)."""
    loop = asyncio.get_running_loop()
    for _ in range(20):
        rtp, _ = await loop.create_datagram_endpoint(lambda: _RtcpListener(touch), local_addr=(host, 0))
        port = rtp.get_extra_info("sockname")[1]
        if port % 2:
            rtp.close()
            continue
        try:
            rtcp, _ = await loop.create_datagram_endpoint(
                lambda: _RtcpListener(touch), local_addr=(host, port + 1)
            )
        except OSError:
            rtp.close()
            continue
        return [rtp, rtcp], port
    raise OSError("no free UDP port pair for RTP/RTCP")


class RtspSession:
    def __init__(self, path: str, stream: LiveStream, writer: asyncio.StreamWriter, client_host: str) -> None:
        self.id = secrets.token_hex(8).upper()
        self.path = path
        self.stream = stream
        self.writer = writer
        self.client_host = client_host
        self.recorder = False  # a recording client, not someone watching (C1)
        self.tracks: dict[int, TrackTransport] = {}
        self.last_seen = time.monotonic()
        self.closed = False
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self.on_close: Callable[[RtspSession], None] | None = None
        self.stopping: list[asyncio.Task[None]] = []  # cancelled sender tasks, awaited on shutdown

    @property
    def playing(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def uses_tcp(self) -> bool:
        return any(t.interleaved is not None for t in self.tracks.values())

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    def add_track(self, index: int, track: TrackDescription) -> TrackTransport:
        transport = TrackTransport(
            track,
            RtpPacketizer(track.payload_type, secrets.randbits(32), secrets.randbits(16)),
            secrets.randbits(32),
        )
        self.tracks[index] = transport
        return transport

    def rtp_info(self, base_url: str) -> str:
        """RTP-Info for PLAY: the first sequence number and RTP time of each track."""
        start = self.stream.gop[0].pts if self.stream.gop else self.stream.media_time()
        parts = [
            f"url={base_url}{t.track.control};seq={t.packetizer.seq};rtptime={t.rtp_timestamp(start)}"
            for t in self.tracks.values()
        ]
        return ",".join(parts)

    def play(self) -> None:
        if self.playing:
            return
        audio = any(t.track.kind == "audio" for t in self.tracks.values())
        self._subscription = self.stream.subscribe(audio=audio)
        self._task = asyncio.create_task(self._send_loop(self._subscription), name=f"rtsp-session-{self.id}")

    def pause(self) -> None:
        self._stop_sending()

    def _stop_sending(self) -> None:
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
            self.stopping.append(self._task)
        self._task = None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._stop_sending()
        for transport in self.tracks.values():
            for udp in transport.udp:
                udp.close()
        if self.on_close is not None:
            self.on_close(self)

    def _track_for(self, kind: TrackKind) -> TrackTransport | None:
        return next((t for t in self.tracks.values() if t.track.kind == kind.value), None)

    def _send(self, transport: TrackTransport, packet: bytes, rtcp: bool = False) -> None:
        if transport.interleaved is not None:
            channel = transport.interleaved[1 if rtcp else 0]
            self.writer.write(struct.pack("!cBH", b"$", channel, len(packet)) + packet)
        elif transport.client_ports is not None and transport.udp:
            sock = transport.udp[1 if rtcp else 0]
            sock.sendto(packet, (self.client_host, transport.client_ports[1 if rtcp else 0]))

    def _send_reports(self) -> None:
        media_now = self.stream.media_time()
        ntp = ntp_timestamp()
        for transport in self.tracks.values():
            p = transport.packetizer
            rtp_now = transport.rtp_timestamp(media_now)
            report = sender_report(p.ssrc, ntp, rtp_now, p.packet_count, p.octet_count)
            self._send(transport, report, rtcp=True)

    def _send_unit(self, unit: MediaUnit) -> None:
        transport = self._track_for(unit.kind)
        if transport is None:
            return
        timestamp = transport.rtp_timestamp(unit.pts)
        if unit.kind is TrackKind.VIDEO:
            payloads = [p for nal in unit.payloads for p in h264_payloads(nal)]
        elif self.stream.clip.audio is not None and self.stream.clip.audio.codec == "opus":
            payloads = [unit.payloads[0]]  # RFC 7587: one Opus packet per RTP packet, as is
        else:
            payloads = [aac_payload(unit.payloads[0])]
        last = len(payloads) - 1
        for i, payload in enumerate(payloads):
            self._send(transport, transport.packetizer.packet(payload, timestamp, marker=i == last))

    async def _send_loop(self, subscription: Subscription) -> None:
        next_report = 0.0
        try:
            while True:
                unit = await subscription.get()
                if unit is None or self.writer.is_closing():
                    break
                now = time.monotonic()
                if now >= next_report:
                    self._send_reports()
                    next_report = now + SR_INTERVAL
                self._send_unit(unit)
                if self.uses_tcp:
                    async with asyncio.timeout(WRITE_STALL_TIMEOUT):
                        await self.writer.drain()
        except (ConnectionError, TimeoutError) as exc:
            log.info("RTSP session %s: client gone (%s), closing", self.id, type(exc).__name__)
            with contextlib.suppress(Exception):
                self.writer.close()
            self.close()
        finally:
            subscription.close()
