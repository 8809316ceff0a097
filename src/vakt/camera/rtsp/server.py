"""The RTSP 1.0 server (RFC 2326) on asyncio: request parsing, authentication and the methods."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from vakt.camera.live import LiveStream
from vakt.camera.rtsp.auth import Authenticator
from vakt.camera.rtsp.sdp import TrackDescription, build_sdp, tracks_for
from vakt.camera.rtsp.session import SESSION_TIMEOUT, RtspSession, open_udp_pair

log = logging.getLogger(__name__)

SERVER_NAME = "vakt-camera/1.0"
STOP_TIMEOUT = 5.0
MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
RECORDER_AGENT = "-recorder/"  # the hub's recorder says so (vakt-hub-recorder/1): it does not light C1 blue
PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    459: "Aggregate Operation Not Allowed",
    461: "Unsupported Transport",
    500: "Internal Server Error",
    501: "Not Implemented",
    551: "Option Not Supported",
    503: "Service Unavailable",
    505: "RTSP Version Not Supported",
}
# Hikvision-style paths that real cameras of this family also answer to.
ALIASES = {"h264/ch1/main/av_stream": "live", "h264/ch1/sub/av_stream": "sub"}


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def cseq(self) -> str | None:
        return self.headers.get("cseq")


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    extra: list[tuple[str, str]] = field(default_factory=list)

    def encode(self, cseq: str | None) -> bytes:
        lines = [f"RTSP/1.0 {self.status} {REASONS.get(self.status, 'Error')}"]
        if cseq is not None:
            lines.append(f"CSeq: {cseq}")
        lines.append(f"Server: {SERVER_NAME}")
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        lines += [f"{k}: {v}" for k, v in self.extra]
        if self.body:
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


def split_url(url: str) -> tuple[str, str]:
    """(stream name, control suffix) of an RTSP URL or path, e.g. ("live", "trackID=0")."""
    path = urlsplit(url).path if "://" in url else url.split("?")[0]
    path = path.strip("/")
    for alias, name in ALIASES.items():
        if path == alias or path.startswith(alias + "/"):
            path = name + path[len(alias) :]
    name, _, control = path.partition("/")
    return name, control.strip("/")


def parse_transport(header: str) -> dict[str, str]:
    spec, *params = [p.strip() for p in header.split(",")[0].split(";")]
    fields = {"spec": spec.upper()}
    for param in params:
        key, _, value = param.partition("=")
        fields[key.strip().lower()] = value.strip()
    return fields


def _pair(value: str) -> tuple[int, int]:
    first, _, second = value.partition("-")
    a = int(first)
    b = int(second) if second else a + 1
    if not (0 <= a <= 65535 and 0 <= b <= 65535):
        raise ValueError(value)
    return a, b


class RtspServer:
    """Serves named live streams (``/live``, ``/sub``) to any number of RTSP clients."""

    def __init__(
        self,
        streams: dict[str, LiveStream],
        auth: Authenticator | None,
        host: str = "0.0.0.0",
        port: int = 554,
        on_watchers: Callable[[], None] | None = None,
        session_timeout: float = SESSION_TIMEOUT,
    ) -> None:
        self.session_timeout = session_timeout
        self.streams = streams
        self.auth = auth
        self.host = host
        self.port = port
        self.sessions: dict[str, RtspSession] = {}
        self.on_watchers = on_watchers
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._reaper: asyncio.Task[None] | None = None
        self._stopping: set[asyncio.Task[None]] = set()  # sender tasks being cancelled

    def watchers(self, path: str = "live") -> int:
        """People playing ``path``; a recorder that says so in its User-Agent is no viewer (C1)."""
        return sum(1 for s in self.sessions.values() if s.path == path and s.playing and not s.recorder)

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve_connection, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._reaper = asyncio.create_task(self._reap_sessions(), name="rtsp-reaper")
        log.info("RTSP server listening on %s:%d (paths %s)", self.host, self.port, ", ".join(self.streams))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        for session in list(self.sessions.values()):
            session.close()
        for writer in list(self._writers):
            writer.close()  # the handlers see EOF and end by themselves
        pending = self._stopping | self._connections
        if pending:
            _, stuck = await asyncio.wait(pending, timeout=STOP_TIMEOUT)
            for task in stuck:
                task.cancel()
        self._stopping.clear()

    async def _reap_sessions(self) -> None:
        while True:
            await asyncio.sleep(min(5.0, self.session_timeout / 2))
            now = time.monotonic()
            for session in list(self.sessions.values()):
                if not session.uses_tcp and now - session.last_seen > self.session_timeout:
                    log.info("RTSP session %s timed out", session.id)
                    session.close()

    def _session_closed(self, session: RtspSession) -> None:
        self.sessions.pop(session.id, None)
        self._stopping = {t for t in self._stopping if not t.done()} | set(session.stopping)
        if self.on_watchers is not None:
            self.on_watchers()

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self._writers.add(writer)
        peer = writer.get_extra_info("peername") or ("?", 0)
        owned: set[str] = set()
        try:
            while True:
                first = await reader.read(1)
                if not first:
                    break
                if first == b"$":  # interleaved data from the client (RTCP receiver reports)
                    header = await reader.readexactly(3)
                    await reader.readexactly(int.from_bytes(header[1:3], "big"))
                    for sid in owned:
                        if sid in self.sessions:
                            self.sessions[sid].touch()
                    continue
                try:
                    request = await self._read_request(first, reader)
                except BadRequest as exc:
                    log.warning("RTSP %s:%s: bad request: %s", peer[0], peer[1], exc)
                    writer.write(Response(exc.status).encode(None))
                    await writer.drain()
                    break
                response = await self._dispatch(request, writer, owned)
                writer.write(response.encode(request.cseq))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            log.debug("RTSP %s:%s: connection ended: %s", peer[0], peer[1], exc)
        finally:
            for sid in owned:
                session = self.sessions.get(sid)
                if session is not None:
                    session.close()
            with contextlib.suppress(Exception):
                writer.close()
            self._connections.discard(task)
            self._writers.discard(writer)

    async def _read_request(self, first: bytes, reader: asyncio.StreamReader) -> Request:
        raw = first
        while b"\r\n\r\n" not in raw and b"\n\n" not in raw:
            if len(raw) > MAX_HEADER_BYTES:
                raise BadRequest(400, "header too large")
            chunk = await reader.readline()
            if not chunk:
                raise BadRequest(400, "connection closed mid-request")
            raw += chunk
            if raw in (b"\r\n", b"\n"):
                raw = b""
        text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
        lines = text.strip("\n").split("\n")
        parts = lines[0].split()
        if len(parts) != 3 or not parts[2].startswith("RTSP/"):
            raise BadRequest(400, f"not an RTSP request line: {lines[0][:80]!r}")
        if parts[2] != "RTSP/1.0":
            raise BadRequest(505, f"unsupported version {parts[2]}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            key, sep, value = line.partition(":")
            if not sep:
                raise BadRequest(400, f"malformed header line {line[:80]!r}")
            headers[key.strip().lower()] = value.strip()
        body = b""
        length = headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            raise BadRequest(413 if length.isdigit() else 400, f"bad Content-Length {length!r}")
        if int(length):
            body = await reader.readexactly(int(length))
        return Request(parts[0].upper(), parts[1], headers, body)

    async def _dispatch(self, request: Request, writer: asyncio.StreamWriter, owned: set[str]) -> Response:
        if request.cseq is None:
            return Response(400, {"Content-Type": "text/plain"}, b"missing CSeq")
        handlers = {
            "OPTIONS": self._options,
            "DESCRIBE": self._describe,
            "SETUP": self._setup,
            "PLAY": self._play,
            "PAUSE": self._pause,
            "TEARDOWN": self._teardown,
            "GET_PARAMETER": self._keepalive,
            "SET_PARAMETER": self._keepalive,
        }
        handler = handlers.get(request.method)
        if handler is None:
            return Response(501, {"Public": PUBLIC})
        if "require" in request.headers:  # RFC 2326 12.32: we support no extension option
            return Response(551, {"Unsupported": request.headers["require"]})
        auth = self.auth
        credentials = request.headers.get("authorization")
        if request.method != "OPTIONS" and auth and not auth.check(credentials, request.method):
            return Response(401, extra=[("WWW-Authenticate", c) for c in auth.challenges()])
        try:
            return await handler(request, writer, owned)
        except BadRequest as exc:
            log.info("RTSP %s %s -> %d %s", request.method, request.url, exc.status, exc)
            return Response(exc.status, {"Content-Type": "text/plain"}, str(exc).encode())
        except OSError as exc:  # e.g. no UDP port pair left: this request fails, the server goes on
            log.error("RTSP %s %s failed: %s", request.method, request.url, exc)
            return Response(503, {"Content-Type": "text/plain"}, str(exc).encode())

    def _stream(self, url: str) -> tuple[str, LiveStream, str]:
        name, control = split_url(url)
        stream = self.streams.get(name)
        if stream is None:
            raise BadRequest(404, f"no stream at /{name}")
        return name, stream, control

    def _session(self, request: Request, owned: set[str]) -> RtspSession:
        header = request.headers.get("session")
        if header is None:
            raise BadRequest(455, f"{request.method} needs a session: SETUP first")
        session = self.sessions.get(header.split(";")[0].strip())
        if session is None:
            raise BadRequest(454, "unknown session")
        session.touch()
        return session

    @staticmethod
    def _tracks(stream: LiveStream) -> list[TrackDescription]:
        audio = stream.clip.audio if stream.audio_enabled else None
        return tracks_for(stream.clip.video, audio)

    async def _options(self, request: Request, writer: asyncio.StreamWriter, owned: set[str]) -> Response:
        return Response(200, {"Public": PUBLIC})

    async def _describe(self, request: Request, writer: asyncio.StreamWriter, owned: set[str]) -> Response:
        name, stream, _ = self._stream(request.url)
        host = writer.get_extra_info("sockname")[0]
        audio = stream.clip.audio if stream.audio_enabled else None
        sdp = build_sdp(int(time.time()), host, f"vakt camera {name}", stream.clip.video, audio)
        base = request.url.split("?")[0].rstrip("/") + "/"
        return Response(200, {"Content-Type": "application/sdp", "Content-Base": base}, sdp.encode())

    async def _setup(self, request: Request, writer: asyncio.StreamWriter, owned: set[str]) -> Response:
        name, stream, control = self._stream(request.url)
        tracks = self._tracks(stream)
        index = next((i for i, t in enumerate(tracks) if t.control == control), None)
        if index is None and control == "" and len(tracks) == 1:
            index = 0
        if index is None:
            raise BadRequest(404, f"no track {control!r} in /{name}")
        header = request.headers.get("transport")
        if not header:
            raise BadRequest(461, "missing Transport header")
        spec = parse_transport(header)
        if "multicast" in spec or not spec["spec"].startswith("RTP/AVP"):
            raise BadRequest(461, f"unsupported transport {spec['spec']}")
        if "session" in request.headers:
            session = self._session(request, owned)
            if session.path != name:
                raise BadRequest(459, "a session serves one stream")
        else:
            peer = writer.get_extra_info("peername")
            session = RtspSession(name, stream, writer, peer[0])
            session.recorder = RECORDER_AGENT in request.headers.get("user-agent", "")
            session.on_close = self._session_closed
        transport = session.add_track(index, tracks[index])
        ssrc = f"{transport.packetizer.ssrc:08X}"
        try:
            if spec["spec"].endswith("/TCP"):
                channels = _pair(spec.get("interleaved", f"{2 * index}-{2 * index + 1}"))
                transport.interleaved = channels
                reply = f"RTP/AVP/TCP;unicast;interleaved={channels[0]}-{channels[1]};ssrc={ssrc}"
            else:
                if "client_port" not in spec:
                    raise BadRequest(461, "UDP transport needs client_port")
                transport.client_ports = _pair(spec["client_port"])
                local = writer.get_extra_info("sockname")[0]
                transport.udp, port = await open_udp_pair(local, session.touch)
                transport.server_ports = (port, port + 1)
                client = f"{transport.client_ports[0]}-{transport.client_ports[1]}"
                reply = f"RTP/AVP;unicast;client_port={client};server_port={port}-{port + 1};ssrc={ssrc}"
        except ValueError as exc:
            session.tracks.pop(index, None)
            raise BadRequest(400, f"bad Transport header {header!r}") from exc
        self.sessions[session.id] = session
        owned.add(session.id)
        session_header = f"{session.id};timeout={self.session_timeout:g}"
        return Response(200, {"Transport": reply, "Session": session_header})

    async def _play(self, request: Request, writer: asyncio.StreamWriter, owned: set[str]) -> Response:
        session = self._session(request, owned)
        if not session.tracks:
            raise BadRequest(455, "no track set up")
        base = request.url.split("?")[0].rstrip("/") + "/"
        info = session.rtp_info(base)
        session.play()
        if self.on_watchers is not None:
            self.on_watchers()
        return Response(200, {"Session": session.id, "Range": "npt=0.000-", "RTP-Info": info})

    async def _pause(self, request: Request, writer: asyncio.StreamWriter, owned: set[str]) -> Response:
        session = self._session(request, owned)
        session.pause()
        if self.on_watchers is not None:
            self.on_watchers()
        return Response(200, {"Session": session.id})

    async def _teardown(self, request: Request, writer: asyncio.StreamWriter, owned: set[str]) -> Response:
        session = self._session(request, owned)
        session.close()
        owned.discard(session.id)
        return Response(200, {"Session": session.id})

    async def _keepalive(self, request: Request, writer: asyncio.StreamWriter, owned: set[str]) -> Response:
        headers = {}
        if "session" in request.headers:
            headers["Session"] = self._session(request, owned).id
        return Response(200, headers)
