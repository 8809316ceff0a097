"""Issue 11, web hardening: foreign web pages cannot change state or open WebSockets (CSRF), every response
carries security headers, request bodies are bounded, ``vakt hub`` serves HTTPS with Secure cookies and
keeps its files private (A1)."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import signal
import ssl
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.routing import APIRoute, APIWebSocketRoute

from tests.hub.conftest import Hub, Mosquitto, hub_settings, running_hub
from vakt.broker.embedded import free_port
from vakt.hub.app import ROUTERS

EVIL = "http://evil.example"
HOST = "127.0.0.1"
VAKT = Path(sys.executable).with_name("vakt")


@pytest.fixture
async def web_hub(tmp_path: Path, mosquitto: Mosquitto) -> AsyncIterator[Hub]:
    settings = hub_settings(
        tmp_path, mosquitto, mqtt_enabled=False, allowed_origins=["https://app.example:8443"]
    )
    async with running_hub(settings, mosquitto, services=[]) as hub:
        yield hub


async def test_a1_foreign_origin_cannot_change_state_with_the_cookie(web_hub: Hub) -> None:
    await web_hub.user("alice")
    async with httpx.AsyncClient(base_url=web_hub.url, timeout=15) as c:  # signed in by the cookie only
        r = await c.post("/api/auth/login", json={"login": "alice", "password": "correct horse battery"})
        assert r.status_code == 200 and c.cookies.get("vakt_session")
        r = await c.post("/api/locks/2/lock", headers={"Origin": EVIL})
        assert r.status_code == 403 and "another web origin" in r.json()["detail"]
        r = await c.post("/api/auth/logout", headers={"Origin": EVIL})
        assert r.status_code == 403
        r = await c.post("/api/auth/logout", headers={"Origin": "null"})  # sandboxed frame, data: URL
        assert r.status_code == 403 and "opaque origin" in r.json()["detail"]
        r = await c.post("/api/auth/logout", headers={"Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 403 and "another site" in r.json()["detail"]
        assert (await c.get("/api/auth/me", headers={"Origin": EVIL})).status_code == 200  # reads: no change
        assert (await c.get("/api/auth/me")).status_code == 200  # every refusal above left the session
        # the hub's own origin (the Host it is reached at) and configured origins are let through
        r = await c.put("/api/auth/unlock-pin", json={"password": "x", "pin": "1"}, headers={"Origin": EVIL})
        assert r.status_code == 403
        r = await c.put(
            "/api/auth/unlock-pin", json={"password": "x", "pin": "1"}, headers={"Origin": web_hub.url}
        )
        assert r.status_code == 422
        r = await c.post(
            "/api/auth/logout",
            headers={"Origin": "https://app.example:8443", "Sec-Fetch-Site": "cross-site"},
        )
        assert r.status_code == 204


async def test_a1_websocket_from_a_foreign_origin_is_refused(web_hub: Hub) -> None:
    _, token = await web_hub.user("alice")
    url = web_hub.url.replace("http", "ws") + f"/api/ws?token={token}"
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with websockets.connect(url, origin=websockets.Origin(EVIL)):
            pass
    assert refused.value.response.status_code == 403
    async with websockets.connect(url, origin=websockets.Origin(web_hub.url)) as ws:
        assert "hello" in await ws.recv()


async def test_a1_security_headers_on_pages_api_and_errors(web_hub: Hub) -> None:
    async with web_hub.client() as c:
        for path in ("/", "/static/js/main.js", "/api/health", "/api/devices"):
            r = await c.get(path)
            csp = r.headers["content-security-policy"]
            assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
            assert "'unsafe-inline'" not in csp.split("style-src-attr")[0], path  # no inline script
            assert r.headers["x-frame-options"] == "DENY"
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["referrer-policy"] == "no-referrer"
            assert "microphone=(self), camera=(self)" in r.headers["permissions-policy"]
            assert "strict-transport-security" not in r.headers  # plain HTTP: HSTS would mean nothing
        docs = await c.get("/docs")
        assert "cdn.jsdelivr.net" in docs.headers["content-security-policy"]  # Swagger UI still loads


async def _raw_request(hub: Hub, head: bytes, body: bytes = b"") -> tuple[bytes, float]:
    """Send a raw HTTP request; returns the status line and how long the answer took."""
    reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
    started = time.monotonic()
    writer.write(head + body)
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 10)
    elapsed = time.monotonic() - started
    writer.close()
    return status_line, elapsed


async def test_a1_huge_bodies_are_refused_with_413_before_being_read(web_hub: Hub) -> None:
    # 200 MiB announced, nothing sent: the answer comes at once, so nothing was waited for or read
    head = (
        b"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 209715200\r\n\r\n"
    )
    status_line, elapsed = await _raw_request(web_hub, head)
    assert b" 413 " in status_line and elapsed < 5
    # without a length (chunked), reading stops at the limit
    chunk = b"x" * 65536
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    head = (
        b"POST /api/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    status_line, _ = await _raw_request(web_hub, head, chunks)
    assert b" 413 " in status_line
    async with web_hub.client() as c:
        r = await c.post("/api/auth/login", content=b"{" + b" " * 2_000_000 + b"}")
        assert r.status_code == 413 and "larger than 1048576 bytes" in r.json()["detail"]
        # a body under the limit is read as usual
        r = await c.post("/api/auth/login", json={"login": "a" * 300, "password": "p"})
        assert r.status_code == 422


async def test_a1_cookie_is_secure_behind_a_proxy_that_says_https(web_hub: Hub) -> None:
    await web_hub.user("alice")
    async with web_hub.client() as c:
        body = {"login": "alice", "password": "correct horse battery"}
        plain = await c.post("/api/auth/login", json=body)
        proxied = await c.post("/api/auth/login", json=body, headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in plain.headers["set-cookie"].lower()
    assert "secure" in proxied.headers["set-cookie"].lower()
    assert proxied.headers["strict-transport-security"].startswith("max-age=")


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "hub.crt", folder / "hub.key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a1_vakt_hub_serves_https_with_secure_cookies_and_private_files(tmp_path: Path) -> None:
    """`vakt hub --tls-cert --tls-key`: HTTPS, Secure cookie, HSTS; the data folder 0700 and every file
    it writes (database, WAL, key) 0600 whatever the caller's umask."""
    cert, key = _self_signed(tmp_path)
    port, data = free_port(), tmp_path / "data"
    env = {**os.environ, "VAKT_MQTT_ENABLED": "false", "VAKT_ARGON2_MEMORY_KIB": "1024"}
    command = [str(VAKT), "hub", "--port", str(port), "--data", str(data)]
    command += ["--tls-cert", str(cert), "--tls-key", str(key)]
    old_umask = os.umask(0o022)  # the usual default: files world-readable unless the hub says otherwise
    try:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    finally:
        os.umask(old_umask)
    url = f"https://127.0.0.1:{port}"
    verify = ssl.create_default_context(cafile=str(cert))
    try:
        with httpx.Client(base_url=url, verify=verify, timeout=5) as c:
            for _ in range(150):
                try:
                    if c.get("/api/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            user = {"email": "a@example.org", "username": "alice", "password": "correct horse battery"}
            assert c.post("/api/auth/register", json=user).status_code == 201
            r = c.post("/api/auth/login", json={"login": "alice", "password": user["password"]})
            assert r.status_code == 200 and "secure" in r.headers["set-cookie"].lower()
            assert r.headers["strict-transport-security"].startswith("max-age=")
        with pytest.raises(httpx.HTTPError):  # no plain HTTP on the TLS port
            httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
        assert _mode(data) == 0o700
        files = [p for p in data.rglob("*") if p.is_file()]
        assert {p.name for p in files} >= {"vakt.db", "vakt.db-wal", "hub.key"}
        assert {p.name: oct(_mode(p)) for p in files if _mode(p) & 0o077} == {}
        assert all(_mode(p) == 0o700 for p in data.rglob("*") if p.is_dir())
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0, out
    assert f"https://127.0.0.1:{port}" in out


async def test_a1_every_state_changing_route_and_every_websocket_checks_the_origin(web_hub: Hub) -> None:
    """The check sits in front of the router, so a route added later cannot forget it."""

    def concrete(path: str) -> str:
        return "/".join("1" if part.startswith("{") else part for part in path.split("/"))

    routes = [route for router in ROUTERS for route in router.routes]
    changes = [
        (method, concrete(r.path))
        for r in routes
        if isinstance(r, APIRoute)
        for method in sorted(r.methods - {"GET", "HEAD", "OPTIONS"})
    ]
    sockets = [concrete(r.path) for r in routes if isinstance(r, APIWebSocketRoute)]
    assert len(changes) > 30 and "/api/ws" in sockets
    async with web_hub.client() as c:
        for method, path in changes:
            r = await c.request(method, path, json={}, headers={"Origin": EVIL})
            assert r.status_code == 403 and "another web origin" in r.json()["detail"], (method, path)
    for path in sockets:
        url = web_hub.url.replace("http", "ws") + path
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with websockets.connect(url, origin=websockets.Origin(EVIL)):
                pass
        assert refused.value.response.status_code == 403, path
