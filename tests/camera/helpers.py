"""Helpers for camera tests: an emulator running in its own thread, and a raw RTSP client."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import socket
import struct
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from vakt.camera.config import CameraConfig
from vakt.camera.emulator import CameraEmulator

T = TypeVar("T")


class ThreadedCamera:
    """A CameraEmulator on its own event loop in a thread, so blocking clients (ffmpeg) can use it."""

    def __init__(self, config: CameraConfig) -> None:
        self.emulator = CameraEmulator(config)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> ThreadedCamera:
        self._thread.start()
        self.call(self.emulator.start)
        return self

    def __exit__(self, *exc: object) -> None:
        self.call(self.emulator.stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    def call(self, fn: Callable[[], Awaitable[T]], timeout: float = 120) -> T:
        async def run() -> T:
            return await fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)

    def state(self) -> dict[str, Any]:
        async def get() -> dict[str, Any]:
            return self.emulator.state()

        return self.call(get)

    @property
    def port(self) -> int:
        assert self.emulator.rtsp is not None
        return self.emulator.rtsp.port

    def url(self, path: str = "live", password: str | None = None) -> str:
        code = self.emulator.config.code if password is None else password
        return f"rtsp://admin:{code}@127.0.0.1:{self.port}/{path}"


@dataclass
class RtspReply:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    raw_headers: list[tuple[str, str]] = field(default_factory=list)


class RawRtspClient:
    """A deliberately small RTSP client over a plain socket, to send exactly what a test wants."""

    def __init__(self, port: int, user: str = "admin", password: str | None = None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.port = port
        self.cseq = 0
        self.user, self.password = user, password
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buffer += chunk

    def read_reply(self) -> RtspReply:
        while True:
            while self.buffer[:1] == b"$":  # skip interleaved packets before the reply
                while len(self.buffer) < 4:
                    self._fill()
                size = struct.unpack("!H", self.buffer[2:4])[0]
                while len(self.buffer) < 4 + size:
                    self._fill()
                self.buffer = self.buffer[4 + size :]
            if b"\r\n\r\n" in self.buffer:
                break
            self._fill()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        raw = [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
        headers = {k.lower(): v for k, v in raw}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            self._fill()
            rest = self.buffer.partition(b"\r\n\r\n")[2]
        self.buffer = rest[length:]
        return RtspReply(status, headers, rest[:length], raw)

    def request(
        self, method: str, url: str, headers: dict[str, str] | None = None, auth: str = "basic"
    ) -> RtspReply:
        self.cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}"]
        if self.password is not None and auth == "basic":
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            lines.append(f"Authorization: Basic {token}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.send_raw(("\r\n".join(lines) + "\r\n\r\n").encode())
        return self.read_reply()

    def read_interleaved(self) -> tuple[int, bytes]:
        while len(self.buffer) < 4:
            self._fill()
        assert self.buffer[:1] == b"$", self.buffer[:40]
        channel = self.buffer[1]
        size = struct.unpack("!H", self.buffer[2:4])[0]
        while len(self.buffer) < 4 + size:
            self._fill()
        packet = self.buffer[4 : 4 + size]
        self.buffer = self.buffer[4 + size :]
        return channel, packet

    def play_tcp(self, path: str = "live") -> tuple[str, list[RtspReply]]:
        base = f"rtsp://127.0.0.1:{self.port}/{path}"
        replies = [self.request("DESCRIBE", base, {"Accept": "application/sdp"})]
        setup = self.request(
            "SETUP", f"{base}/trackID=0", {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
        )
        session = setup.headers["session"].split(";")[0]
        replies.append(setup)
        replies.append(self.request("PLAY", base, {"Session": session, "Range": "npt=0-"}))
        return session, replies


def digest_header(user: str, password: str, challenge: str, method: str, uri: str) -> str:
    realm = re.search(r'realm="([^"]+)"', challenge)
    nonce = re.search(r'nonce="([^"]+)"', challenge)
    assert realm and nonce
    ha1 = hashlib.md5(f"{user}:{realm[1]}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    response = hashlib.md5(f"{ha1}:{nonce[1]}:{ha2}".encode()).hexdigest()
    fields = f'username="{user}", realm="{realm[1]}", nonce="{nonce[1]}", uri="{uri}"'
    return f'Digest {fields}, response="{response}"'


@dataclass(frozen=True)
class RtpPacket:
    marker: bool
    payload_type: int
    seq: int
    timestamp: int
    ssrc: int
    payload: bytes


def parse_rtp(packet: bytes) -> RtpPacket:
    first, second, seq, ts, ssrc = struct.unpack("!BBHII", packet[:12])
    assert first >> 6 == 2, "RTP version 2"
    return RtpPacket(bool(second & 0x80), second & 0x7F, seq, ts, ssrc, packet[12:])
