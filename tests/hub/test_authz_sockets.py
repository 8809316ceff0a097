"""Issue 11 H3 on real parts: the camera emulator streams over RTSP and reports over Mosquitto, the real hub
(uvicorn) serves live view, talk and ``/api/ws``. Revoking a share, its expiry, losing a permission,
signing out and deleting the device close the sockets concerned within 2 s, with a code and a reason a
person understands (vakt.hub.authz.watch); ``/api/ws`` is told ``share.revoked`` and stays open."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import websockets
from sqlalchemy import update
from websockets.asyncio.client import ClientConnection

from tests.hub.conftest import Hub, Mosquitto, hub_settings, running_hub
from vakt.camera.config import CameraConfig
from vakt.camera.emulator import CameraEmulator
from vakt.hub.authz.watch import CLOSE_REMOVED, CLOSE_REVOKED, CLOSE_SIGNED_OUT
from vakt.hub.models.devices import Device
from vakt.hub.models.users import AuthSession
from vakt.protocol import DeviceLabel

pytestmark = [pytest.mark.timeout(180)]
WITHIN_S = 2.0  # issue 11: a socket no longer allowed is closed within 2 s
PCM_200MS = b"\x01\x00" * 3200  # 200 ms of s16le 16 kHz mono: one batch to the camera's speaker


@dataclass
class Socket:
    """A client socket read in the background: what arrived, and how and when it was closed."""

    ws: ClientConnection
    texts: list[dict[str, Any]] = field(default_factory=list)
    binary: int = 0
    code: int | None = None
    reason: str = ""
    closed_at: float | None = None
    reader: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                if isinstance(message, bytes):
                    self.binary += 1
                else:
                    self.texts.append(json.loads(message))
        except websockets.exceptions.ConnectionClosed:
            pass
        self.closed_at = time.monotonic()
        received = self.ws.protocol.close_rcvd
        self.code, self.reason = (received.code, received.reason) if received else (None, "")

    async def until(self, check: Any, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not check(self):
            assert time.monotonic() < deadline, f"not within {timeout} s: {self.texts[-3:]}, {self.code}"
            await asyncio.sleep(0.02)

    async def closed_within(self, since: float, seconds: float = WITHIN_S) -> tuple[int | None, str]:
        """Wait (generously) for the close, then hold it to the 2 s of the issue."""
        await self.until(lambda s: s.closed_at is not None, timeout=seconds + 10)
        assert self.closed_at is not None
        assert self.closed_at - since <= seconds, f"closed after {self.closed_at - since:.2f} s"
        return self.code, self.reason


@contextlib.asynccontextmanager
async def opened(hub: Hub, path: str, token: str) -> AsyncIterator[Socket]:
    url = hub.url.replace("http", "ws") + path
    ws = await websockets.connect(url, additional_headers={"Authorization": f"Bearer {token}"})
    socket = Socket(ws)
    socket.reader = asyncio.create_task(socket._read())
    try:
        yield socket
    finally:
        await ws.close()
        await socket.reader


@dataclass
class Home:
    hub: Hub
    emulator: CameraEmulator
    camera_id: int
    owner: str

    def speaker_seconds(self) -> float:
        return float(self.emulator.device.speaker.summary()["seconds"])  # type: ignore[arg-type]

    async def guest(self, name: str, permissions: list[str], **share: Any) -> tuple[str, int]:
        """A signed-in account the camera is shared with: (token, share id)."""
        _, token = await self.hub.user(name)
        async with self.hub.client(self.owner) as c:
            r = await c.post(
                f"/api/devices/{self.camera_id}/shares",
                json={"user": name, "permissions": permissions, **share},
            )
            assert r.status_code == 201, r.text
            return token, r.json()["id"]

    @contextlib.asynccontextmanager
    async def live(self, token: str) -> AsyncIterator[Socket]:
        async with opened(self.hub, f"/api/cameras/{self.camera_id}/live", token) as socket:
            await socket.until(lambda s: s.binary >= 3)  # video is flowing
            yield socket


@pytest.fixture(scope="module")
def camera_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("camera-cache")


@pytest.fixture
async def home(tmp_path: Path, mosquitto: Mosquitto, camera_cache: Path) -> AsyncIterator[Home]:
    async with running_hub(hub_settings(tmp_path, mosquitto), mosquitto) as hub:
        _, owner = await hub.user("alice")
        # a serial of its own: the broker keeps the last test's camera state (and RTSP port) retained
        camera = DeviceLabel(serial=f"VC3{secrets.token_hex(4).upper()}", code="AUTHZCODE1", model="VC-300")
        camera_id = (await hub.add_device(owner, camera, name="Front door"))["id"]
        emulator = CameraEmulator(
            CameraConfig(
                serial=camera.serial,
                code=camera.code,
                rtsp_port=0,
                http_port=0,
                mqtt_host="127.0.0.1",
                mqtt_port=mosquitto.port,
                data_dir=tmp_path / "camera",
                cache=camera_cache,
                boot_seconds=0,
            )
        )
        await emulator.start()
        try:
            deadline = time.monotonic() + 60
            while (live := hub.app.state.cameras.live_stream(camera_id, "main")) is None:
                assert time.monotonic() < deadline, "the hub never started the camera's stream"
                await asyncio.sleep(0.1)
            assert await live.wait_ready(60), "the camera's stream never became ready"
            yield Home(hub, emulator, camera_id, owner)
        finally:
            await emulator.stop()


async def test_h3_revoked_share_closes_live_and_talk_and_tells_the_app(home: Home) -> None:
    token, share_id = await home.guest("bob", ["live_view", "talk"])
    talk_path = f"/api/cameras/{home.camera_id}/talk"
    async with (
        opened(home.hub, "/api/ws", token) as events,
        home.live(token) as live,
        opened(home.hub, talk_path, token) as talk,
    ):
        for _ in range(5):
            await talk.ws.send(PCM_200MS)
        await _until(lambda: home.speaker_seconds() >= 0.8)  # the camera hears bob
        async with home.hub.client(home.owner) as c:
            r = await c.delete(f"/api/devices/{home.camera_id}/shares/{share_id}")
            assert r.status_code == 204
        revoked = time.monotonic()
        heard = home.speaker_seconds()
        assert await live.closed_within(revoked) == (CLOSE_REVOKED, "your access to this camera was revoked")
        assert await talk.closed_within(revoked) == (CLOSE_REVOKED, "your access to this camera was revoked")
        with contextlib.suppress(websockets.exceptions.ConnectionClosed):
            await talk.ws.send(PCM_200MS)
        await asyncio.sleep(0.5)
        assert home.speaker_seconds() == heard  # no audio reaches the camera once access is gone
        await events.until(lambda s: any(m["type"] == "share.revoked" for m in s.texts))
        notice = next(m for m in events.texts if m["type"] == "share.revoked")
        assert notice == {"type": "share.revoked", "device_id": home.camera_id, "reason": "revoked"}
        assert events.closed_at is None  # the account's socket stays; the app drops the device
    async with home.hub.client(token) as c:
        assert (await c.get(f"/api/devices/{home.camera_id}")).status_code == 404


async def test_h3_expired_share_closes_live_and_tells_the_app(home: Home) -> None:
    ends = datetime.now(UTC) + timedelta(seconds=4)
    token, _ = await home.guest("carol", ["live_view"], expires_at=ends.isoformat())
    async with opened(home.hub, "/api/ws", token) as events, home.live(token) as live:
        assert live.closed_at is None
        expired = time.monotonic() + (ends - datetime.now(UTC)).total_seconds()
        code, reason = await live.closed_within(expired)
        assert (code, reason) == (CLOSE_REVOKED, "your access to this camera has expired")
        await events.until(lambda s: any(m["type"] == "share.revoked" for m in s.texts), timeout=WITHIN_S)
        assert {"type": "share.revoked", "device_id": home.camera_id, "reason": "expired"} in events.texts


async def test_h3_losing_a_permission_closes_only_that_socket_and_sign_out_closes_all(home: Home) -> None:
    token, share_id = await home.guest("dave", ["live_view", "talk"])
    async with (
        opened(home.hub, "/api/ws", token) as events,
        home.live(token) as live,
        opened(home.hub, f"/api/cameras/{home.camera_id}/talk", token) as talk,
    ):
        async with home.hub.client(home.owner) as c:
            r = await c.patch(
                f"/api/devices/{home.camera_id}/shares/{share_id}", json={"permissions": ["talk"]}
            )
            assert r.status_code == 200
        changed = time.monotonic()
        code, reason = await live.closed_within(changed)
        assert (code, reason) == (CLOSE_REVOKED, "your access to this camera no longer includes live view")
        await talk.ws.send(PCM_200MS)  # talk is still allowed
        await asyncio.sleep(0.3)
        assert talk.closed_at is None and events.closed_at is None
        updated = next(m for m in events.texts if m["type"] == "share.updated")
        assert updated["permissions"] == ["talk"] and updated["expires_at"] is None

        async with home.hub.client(token) as c:
            assert (await c.post("/api/auth/logout")).status_code == 204
        signed_out = time.monotonic()
        for socket in (talk, events):
            assert await socket.closed_within(signed_out) == (
                CLOSE_SIGNED_OUT,
                "you were signed out; sign in again",
            )


async def test_h3_deleting_the_camera_closes_the_owners_live_view(home: Home) -> None:
    async with home.live(home.owner) as live:
        async with home.hub.client(home.owner) as c:
            assert (await c.delete(f"/api/devices/{home.camera_id}")).status_code == 204
        deleted = time.monotonic()
        code, reason = await live.closed_within(deleted)
        assert (code, reason) == (CLOSE_REMOVED, "this camera was removed from its account")


async def _until(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout} s"
        await asyncio.sleep(0.05)


async def test_h3_revoking_in_one_hub_process_closes_the_socket_held_by_another(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """Scale-out (one database, one data folder): hub b holds the talk socket, hub a revokes the share."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    async with contextlib.AsyncExitStack() as stack:
        a, b = [
            await stack.enter_async_context(
                running_hub(
                    hub_settings(tmp_path, mosquitto, url, mqtt_shared_group="hubs", mqtt_client_id=name),
                    mosquitto,
                )
            )
            for name in ("hub-a", "hub-b")
        ]
        _, owner = await a.user("alice")
        _, guest = await a.user("bob")
        camera = await a.add_device(
            owner, DeviceLabel(serial="VC3SCALE0001", code="SCALECODE1", model="VC-300")
        )
        async with a.app.state.sessionmaker() as s:  # as an emulated camera reports its speaker
            await s.execute(
                update(Device).where(Device.id == camera["id"]).values(state={"http": {"port": 9}})
            )
            await s.commit()
        async with a.client(owner) as c:
            r = await c.post(
                f"/api/devices/{camera['id']}/shares", json={"user": "bob", "permissions": ["talk"]}
            )
            share_id = r.json()["id"]
        async with opened(b, f"/api/cameras/{camera['id']}/talk", guest) as talk:
            async with a.client(owner) as c:
                assert (await c.delete(f"/api/devices/{camera['id']}/shares/{share_id}")).status_code == 204
            revoked = time.monotonic()
            assert await talk.closed_within(revoked) == (
                CLOSE_REVOKED,
                "your access to this camera was revoked",
            )


async def test_a1_a_session_that_expires_closes_its_sockets(hub: Hub) -> None:
    """The session's own end (VAKT_SESSION_TTL_S, at least a minute: brought forward here) closes 4401."""
    _, token = await hub.user("erin")
    async with opened(hub, "/api/ws", token) as events:
        await events.until(lambda s: any(m["type"] == "hello" for m in s.texts))
        ends = datetime.now(UTC) + timedelta(seconds=2)
        async with hub.app.state.sessionmaker() as s:
            await s.execute(update(AuthSession).values(expires_at=ends))
            await s.commit()
        expired = time.monotonic() + (ends - datetime.now(UTC)).total_seconds()
        code, reason = await events.closed_within(expired)
        assert (code, reason) == (CLOSE_SIGNED_OUT, "your session expired; sign in again")


async def test_a1_session_ended_on_the_bus_closes_at_once(hub: Hub) -> None:
    """A route that ends sessions can say so on the bus; the watch does not wait for its read-back."""
    from vakt.hub.authz.watch import SocketWatch

    user_id, token = await hub.user("frank")
    async with opened(hub, "/api/ws", token) as events:
        await events.until(lambda s: any(m["type"] == "hello" for m in s.texts))
        SocketWatch.of(hub.app).poll_s = 60.0  # only the message can wake it in time
        await asyncio.sleep(1.2)  # the watch is asleep on its (now long) poll
        async with hub.app.state.sessionmaker() as s:
            await s.execute(update(AuthSession).values(revoked_at=datetime.now(UTC)))
            await s.commit()
        await hub.app.state.bus.publish({"type": "session.ended"}, user_ids={user_id})
        ended = time.monotonic()
        assert await events.closed_within(ended, 0.5) == (
            CLOSE_SIGNED_OUT,
            "you were signed out; sign in again",
        )
