"""RTSP 1.0 behaviour seen on the wire: errors for bad requests, authentication, RTP packetisation
(RFC 6184), and isolation between clients (a vanished or stalled client does not hurt the others)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import socket
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.camera.conftest import CODE
from tests.camera.helpers import RawRtspClient, ThreadedCamera, digest_header, parse_rtp
from vakt.camera.live import LiveStream
from vakt.camera.rtsp.server import RtspServer
from vakt.camera.source import load_clip, prepare_sources

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def client(cars_camera: ThreadedCamera) -> RawRtspClient:
    c = RawRtspClient(cars_camera.port, password=CODE)
    yield c
    c.close()


def still_serves(camera: ThreadedCamera) -> None:
    probe = RawRtspClient(camera.port, password=CODE)
    try:
        assert probe.request("DESCRIBE", f"rtsp://127.0.0.1:{camera.port}/live").status == 200
    finally:
        probe.close()


def test_options_lists_methods_without_auth(cars_camera: ThreadedCamera) -> None:
    c = RawRtspClient(cars_camera.port)
    reply = c.request("OPTIONS", "*")
    c.close()
    assert reply.status == 200
    assert {"DESCRIBE", "SETUP", "PLAY", "TEARDOWN", "GET_PARAMETER"} <= {
        m.strip() for m in reply.headers["public"].split(",")
    }


def test_missing_or_wrong_credentials_get_401_with_digest_and_basic(cars_camera: ThreadedCamera) -> None:
    url = f"rtsp://127.0.0.1:{cars_camera.port}/live"
    anonymous = RawRtspClient(cars_camera.port)
    reply = anonymous.request("DESCRIBE", url)
    assert reply.status == 401
    challenges = [v for k, v in reply.raw_headers if k.lower() == "www-authenticate"]
    assert any(c.startswith("Digest ") for c in challenges) and any(
        c.startswith("Basic ") for c in challenges
    )
    wrong = RawRtspClient(cars_camera.port, password="WRONG1")
    assert wrong.request("DESCRIBE", url).status == 401
    digest = digest_header(
        "admin", CODE, next(c for c in challenges if c.startswith("Digest")), "DESCRIBE", url
    )
    ok = anonymous.request("DESCRIBE", url, {"Authorization": digest})
    assert ok.status == 200
    bad = digest_header(
        "admin", "WRONG1", next(c for c in challenges if c.startswith("Digest")), "DESCRIBE", url
    )
    assert anonymous.request("DESCRIBE", url, {"Authorization": bad}).status == 401
    forged = bad.replace('nonce="', 'nonce="0')
    assert anonymous.request("DESCRIBE", url, {"Authorization": forged}).status == 401
    anonymous.close()
    wrong.close()


def test_describe_gives_sdp_with_parameter_sets_and_audio(client: RawRtspClient) -> None:
    reply = client.request("DESCRIBE", f"rtsp://127.0.0.1:{client.port}/live")
    sdp = reply.body.decode()
    assert reply.headers["content-type"] == "application/sdp"
    assert "a=rtpmap:96 H264/90000" in sdp
    assert (
        "profile-level-id=428016" in sdp and "sprop-parameter-sets=" in sdp and "packetization-mode=1" in sdp
    )
    assert "mpeg4-generic/48000/2" in sdp and "config=1190" in sdp and "mode=AAC-hbr" in sdp


def test_unknown_path_is_404(client: RawRtspClient) -> None:
    assert client.request("DESCRIBE", f"rtsp://127.0.0.1:{client.port}/nothing").status == 404


def test_setup_of_a_track_that_does_not_exist_is_404(client: RawRtspClient) -> None:
    reply = client.request(
        "SETUP",
        f"rtsp://127.0.0.1:{client.port}/live/trackID=7",
        {"Transport": "RTP/AVP/TCP;interleaved=0-1"},
    )
    assert reply.status == 404


def test_play_without_setup_is_455_and_unknown_session_454(client: RawRtspClient) -> None:
    url = f"rtsp://127.0.0.1:{client.port}/live"
    assert client.request("PLAY", url).status == 455
    assert client.request("PLAY", url, {"Session": "DEADBEEF"}).status == 454


def test_multicast_transport_is_461_and_unknown_method_501(client: RawRtspClient) -> None:
    url = f"rtsp://127.0.0.1:{client.port}/live/trackID=0"
    assert client.request("SETUP", url, {"Transport": "RTP/AVP;multicast"}).status == 461
    assert client.request("RECORD", url).status == 501
    unsupported = client.request("DESCRIBE", url, {"Require": "com.example.magic"})
    assert unsupported.status == 551 and unsupported.headers["unsupported"] == "com.example.magic"


@pytest.mark.parametrize(
    "garbage",
    [b"HELLO\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\xff\xfe\x00garbage\r\n\r\n",
     b"DESCRIBE rtsp://x/live RTSP/2.0\r\nCSeq: 1\r\n\r\n", b"DESCRIBE rtsp://x/live RTSP/1.0\r\n\r\n"],
)  # fmt: skip
def test_garbage_gets_an_rtsp_error_and_the_server_keeps_serving(
    cars_camera: ThreadedCamera, garbage: bytes
) -> None:
    c = RawRtspClient(cars_camera.port)
    c.send_raw(garbage)
    reply = c.read_reply()
    c.close()
    assert reply.status in (400, 505)
    still_serves(cars_camera)


def test_rtp_over_tcp_follows_rfc_6184(client: RawRtspClient) -> None:
    """Sequence numbers step by one, SPS and PPS precede each IDR, big NALs are FU-A fragmented,
    the marker bit ends each access unit, timestamps are 90 kHz (12.5 fps: 7200 ticks per frame)."""
    session, replies = client.play_tcp()
    assert [r.status for r in replies] == [200, 200, 200]
    ssrc = int(replies[1].headers["transport"].split("ssrc=")[1], 16)
    packets = []
    while len(packets) < 400:
        channel, data = client.read_interleaved()
        if channel == 0:
            packets.append(parse_rtp(data))
    assert {p.ssrc for p in packets} == {ssrc}
    assert all((b.seq - a.seq) % 65536 == 1 for a, b in itertools.pairwise(packets))
    first_types = [p.payload[0] & 0x1F for p in packets[:3]]
    assert first_types[:2] == [7, 8], "a stream starts with SPS, PPS"
    fu = [p for p in packets if p.payload[0] & 0x1F == 28]
    assert fu and fu[0].payload[1] & 0x80, "large NALs are FU-A fragmented, first with the S bit"
    assert all(len(p.payload) <= 1400 for p in packets)
    frame_ends = [p.timestamp for p in packets if p.marker]
    steps = {(b - a) % 2**32 for a, b in itertools.pairwise(frame_ends)}
    assert steps == {7200}
    assert (
        client.request("TEARDOWN", f"rtsp://127.0.0.1:{client.port}/live", {"Session": session}).status == 200
    )


def test_client_vanishing_mid_stream_is_cleaned_up(cars_camera: ThreadedCamera) -> None:
    before = len(cars_camera.emulator.rtsp.sessions)  # type: ignore[union-attr]
    c = RawRtspClient(cars_camera.port, password=CODE)
    c.play_tcp()
    c.read_interleaved()
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.sock.close()  # abrupt reset, no TEARDOWN
    deadline = time.monotonic() + 5
    while len(cars_camera.emulator.rtsp.sessions) > before and time.monotonic() < deadline:  # type: ignore[union-attr]
        time.sleep(0.05)
    assert len(cars_camera.emulator.rtsp.sessions) == before  # type: ignore[union-attr]
    still_serves(cars_camera)


def test_a_stalled_client_does_not_stall_another(cars_camera: ThreadedCamera) -> None:
    """A client that stops reading leaves the other at its real-time pace. (On loopback the kernel
    buffers absorb this clip's bitrate; the queue overflow policy itself is unit-tested in
    test_media_units: a full queue drops to the next keyframe, never blocks the stream.)"""
    stalled = RawRtspClient(cars_camera.port, password=CODE)
    stalled.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.play_tcp()  # and then never reads again
    healthy = RawRtspClient(cars_camera.port, password=CODE)
    healthy.play_tcp()
    start = time.monotonic()
    markers = 0
    while markers < 30:  # 30 frames, about 2.4 s of live video after the GOP burst
        channel, data = healthy.read_interleaved()
        if channel == 0 and parse_rtp(data).marker:
            markers += 1
    assert time.monotonic() - start < 15
    healthy.close()
    stalled.close()


def test_basic_auth_header_that_is_not_base64_is_401(cars_camera: ThreadedCamera) -> None:
    c = RawRtspClient(cars_camera.port)
    url = f"rtsp://127.0.0.1:{cars_camera.port}/live"
    assert c.request("DESCRIBE", url, {"Authorization": "Basic !!!notbase64"}).status == 401
    token = base64.b64encode(f"root:{CODE}".encode()).decode()
    assert c.request("DESCRIBE", url, {"Authorization": f"Basic {token}"}).status == 401
    c.close()


def test_pause_play_and_get_parameter_keep_alive(cars_camera: ThreadedCamera, client: RawRtspClient) -> None:
    url = f"rtsp://127.0.0.1:{client.port}/live"
    before = cars_camera.state()["watching"]
    session, _ = client.play_tcp()
    assert cars_camera.state()["watching"] == before + 1
    assert client.request("PAUSE", url, {"Session": session}).status == 200
    assert cars_camera.state()["watching"] == before
    keep_alive = client.request("GET_PARAMETER", url, {"Session": session})
    assert keep_alive.status == 200 and keep_alive.headers["session"] == session
    assert client.request("PLAY", url, {"Session": session}).status == 200
    assert cars_camera.state()["watching"] == before + 1
    channel, data = client.read_interleaved()
    while channel != 0:
        channel, data = client.read_interleaved()
    assert parse_rtp(data).payload[0] & 0x1F in (7, 8, 1, 5, 28)
    assert client.request("TEARDOWN", url, {"Session": session}).status == 200


async def test_rtp_over_udp_with_sender_reports_and_a_silent_session_is_reaped(camera_cache: Path) -> None:
    """UDP: RTP to the client's even port, RTCP SR to the odd one; no RTCP or request for the
    session timeout and the session is dropped (the server does not stream to nobody forever)."""
    files = prepare_sources(None, camera_cache)
    stream = LiveStream("live", load_clip(files.main))
    stream.start()
    server = RtspServer({"live": stream}, None, "127.0.0.1", 0, session_timeout=1)
    await server.start()
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", 0))
    rtcp.bind(("127.0.0.1", rtp.getsockname()[1] + 1))
    rtp.settimeout(5)
    rtcp.settimeout(5)
    client = RawRtspClient(server.port)
    try:
        url = f"rtsp://127.0.0.1:{server.port}/live"
        ports = f"{rtp.getsockname()[1]}-{rtcp.getsockname()[1]}"
        setup = await asyncio.to_thread(
            client.request, "SETUP", f"{url}/trackID=0", {"Transport": f"RTP/AVP;unicast;client_port={ports}"}
        )
        assert setup.status == 200 and "server_port=" in setup.headers["transport"]
        session = setup.headers["session"].split(";")[0]
        assert (await asyncio.to_thread(client.request, "PLAY", url, {"Session": session})).status == 200
        packet = parse_rtp((await asyncio.to_thread(rtp.recvfrom, 2048))[0])
        assert packet.payload_type == 96
        report = (await asyncio.to_thread(rtcp.recvfrom, 2048))[0]
        assert report[1] == 200 and int.from_bytes(report[4:8], "big") == packet.ssrc  # an SR for that SSRC
        for _ in range(50):
            if not server.sessions:
                break
            await asyncio.sleep(0.1)
        assert not server.sessions, "a silent UDP session must time out"
    finally:
        client.close()
        rtp.close()
        rtcp.close()
        await server.stop()
        await stream.stop()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.binary(min_size=1, max_size=300),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "replace") + b"\r\n\r\n"),
        st.builds(
            lambda m, u, h: f"{m} {u} RTSP/1.0\r\nCSeq: 1\r\n{h}\r\n\r\n".encode("utf-8", "replace"),
            st.sampled_from(["DESCRIBE", "SETUP", "PLAY", "TEARDOWN", "OPTIONS", "FOO"]),
            st.text(min_size=1, max_size=40).filter(lambda u: not any(c in u for c in " \r\n")),
            st.text(max_size=60).filter(lambda h: "\r" not in h and "\n" not in h),
        ),
    )
)
def test_fuzzed_requests_never_crash_or_hang_the_server(cars_camera: ThreadedCamera, data: bytes) -> None:
    sock = socket.create_connection(("127.0.0.1", cars_camera.port), timeout=10)
    try:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)  # then the server sees the end of the stream
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    finally:
        sock.close()
    if reply:
        assert reply.startswith(b"RTSP/1.0 "), reply[:80]
        assert int(reply[9:12]) in (200, 400, 401, 404, 413, 454, 455, 459, 461, 501, 505, 551)
    still_serves(cars_camera)
