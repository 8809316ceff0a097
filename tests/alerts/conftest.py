"""Alerts test fixtures: the real hub (uvicorn, Mosquitto, SQLite), a fake browser for Web Push, and a
local HTTP server playing the push service / webhook receiver."""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import update

from tests.hub.conftest import (  # fixtures re-exported in __all__
    Hub,
    Mosquitto,
    hub_settings,
    label,
    mosquitto,
    postgres_url,
    running_hub,
)
from vakt.detect.types import PersonEvent
from vakt.hub.models.devices import Device


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class FakeBrowser:
    """What a browser's PushManager holds: a P-256 key pair and an auth secret."""

    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self, endpoint: str) -> dict[str, Any]:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": endpoint, "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)}}

    def decrypt(self, body: bytes) -> bytes:
        import http_ece

        return bytes(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Endpoint:
    """A local HTTP server answering POSTs with the next status of ``statuses`` (the last one repeats)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.received: list[Received] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                headers = {k.lower(): v for k, v in self.headers.items()}
                endpoint.received.append(Received(self.path, headers, self.rfile.read(length)))
                code = endpoint.statuses.pop(0) if len(endpoint.statuses) > 1 else endpoint.statuses[0]
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Endpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
async def hub(tmp_path: Path, mosquitto: Mosquitto) -> AsyncIterator[Hub]:
    """The hub, with the local push service / webhook receiver allowed by its owner (plain http, loopback)."""
    settings = hub_settings(tmp_path, mosquitto, outbound_allowed_hosts=["127.0.0.1"])
    async with running_hub(settings, mosquitto) as running:
        yield running


@pytest.fixture
def endpoint_factory() -> Iterator[Any]:
    started: list[Endpoint] = []

    def make(statuses: list[int]) -> Endpoint:
        ep = Endpoint(statuses).__enter__()
        started.append(ep)
        return ep

    yield make
    for ep in started:
        ep.__exit__()


async def set_state(hub: Hub, device_id: int, state: dict[str, Any], online: bool | None = None) -> None:
    """Store a device's reported state as if it had arrived over MQTT."""
    values: dict[str, Any] = {"state": state}
    if online is not None:
        values["online"] = online
    async with hub.app.state.sessionmaker() as session:
        await session.execute(update(Device).where(Device.id == device_id).values(**values))
        await session.commit()


def camera_state(**settings: Any) -> dict[str, Any]:
    base = {"alarm_notification": True, "offline_notification": False, "intelligent_human_detection": True,
            "detection_sensitivity": 50, "location": "Front door"}  # fmt: skip
    base.update(settings)
    return {"kind": "camera", "settings": base}


def person_event(start: float = 1.0, score: float = 0.9) -> PersonEvent:
    import cv2

    frame = np.full((120, 160, 3), 90, np.uint8)
    cv2.rectangle(frame, (60, 20), (100, 110), (255, 255, 255), -1)
    ok, jpeg = cv2.imencode(".jpg", frame)
    assert ok
    return PersonEvent(start=start, score=score, box=(60, 20, 100, 110), snapshot_pts=start,
                       snapshot_jpeg=jpeg.tobytes())  # fmt: skip


__all__ = ["Endpoint", "FakeBrowser", "Hub", "camera_state", "hub", "label", "mosquitto", "person_event",
           "postgres_url", "set_state"]  # fmt: skip
