"""The S3 tier and Image Encryption through the real hub (uvicorn, SQLite), a real RTSP camera and a real
S3 server (moto): C6 (encryption, password, Change Encryption Password), C7.1 (cloud tier), C7.2."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from sqlalchemy import select

from tests.hub.conftest import Hub, Mosquitto, hub_settings, running_hub
from tests.media.camera_process import CameraProcess
from tests.media.helpers import PEOPLE, needs_assets
from tests.media.s3_server import KEY_ID, REGION, SECRET, S3Server, s3_server  # noqa: F401
from vakt.broker.embedded import free_port
from vakt.hub.models.cameras import Segment
from vakt.hub.models.devices import DeviceEvent
from vakt.hub.routers import cameras

pytestmark = [needs_assets, pytest.mark.slow, pytest.mark.mosquitto]
PASSWORD = "our secret footage"


@pytest.fixture
async def camera(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[CameraProcess]:
    cam = CameraProcess(PEOPLE, tmp_path_factory.mktemp("cam"), free_port())
    await cam.astart()
    yield cam
    cam.kill()


@pytest.fixture
async def bucket(s3_server: S3Server) -> str:  # noqa: F811
    return s3_server.new_bucket()


@pytest.fixture
async def hub(
    tmp_path: Path,
    mosquitto: Mosquitto,
    monkeypatch: pytest.MonkeyPatch,
    s3_server: S3Server,  # noqa: F811
    bucket: str,
) -> AsyncIterator[Hub]:
    for name, value in {
        "VAKT_MEDIA_SEGMENT_SECONDS": "2",
        "VAKT_MEDIA_RECONCILE_INTERVAL_S": "1",
        "VAKT_MEDIA_RETENTION_INTERVAL_S": "3600",  # the test runs retention itself
        "VAKT_MEDIA_UPLOAD_RETRY_CAP_S": "0.5",
        "VAKT_S3_ENDPOINT_URL": s3_server.endpoint,
        "VAKT_S3_BUCKET": bucket,
        "VAKT_S3_REGION": REGION,
        "VAKT_S3_ACCESS_KEY_ID": KEY_ID,
        "VAKT_S3_SECRET_ACCESS_KEY": SECRET,
        "VAKT_S3_PART_SIZE": "65536",  # several parts per segment: the multipart path in the real hub
    }.items():
        monkeypatch.setenv(name, value)
    async with running_hub(
        hub_settings(tmp_path, mosquitto), mosquitto, services=[cameras.service]
    ) as running:
        yield running


async def sealed_segments(hub: Hub, device_id: int) -> list[Segment]:
    async with hub.app.state.sessionmaker() as s:
        rows = await s.scalars(
            select(Segment)
            .where(Segment.device_id == device_id, Segment.sealed.is_(True))
            .order_by(Segment.start)
        )
        return list(rows.all())


async def poll(client: httpx.AsyncClient, url: str, check: Any, timeout: float = 30.0) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            r = await client.get(url)
            if r.status_code == 200 and check(r.json()):
                return r.json()
            await asyncio.sleep(0.2)


def frames(data: bytes) -> int:
    with av.open(io.BytesIO(data), "r", format="mp4") as container:
        return sum(1 for _ in container.decode(video=0))


async def test_encrypted_camera_played_from_the_cloud_only_with_the_password(
    hub: Hub,
    camera: CameraProcess,
    s3_server: S3Server,  # noqa: F811
    bucket: str,
) -> None:
    _, owner = await hub.user("owner")
    async with hub.client() as c:  # a second sign-in of the same person: its own session memory
        other = await c.post("/api/auth/login", json={"login": "owner", "password": "correct horse battery"})
        other_token = other.json()["token"]
    async with hub.client(owner) as c, hub.client(other_token) as c2:
        r = await c.post("/api/cameras", json={"name": "Porch", "url": camera.url})
        assert r.status_code == 201, r.text
        device_id = r.json()["device_id"]
        enc = f"/api/cameras/{device_id}/encryption"
        assert (await c.put(enc, json={"enabled": True, "password": "short"})).status_code == 422
        r = await c.put(enc, json={"enabled": True, "password": PASSWORD})
        assert r.status_code == 200 and r.json() == {"enabled": True, "has_key": True, "unlocked_for_s": None}

        # segments recorded from now on leave for the bucket sealed; wait for more than 1 MB of them
        async with asyncio.timeout(90):
            while sum(s.size for s in await sealed_segments(hub, device_id) if s.cloud_key) < 1.3 * 2**20:
                await asyncio.sleep(0.3)
        # C10.1 in the camera's status: the link to the store goes down and comes back
        s3_server.relay.down()
        try:
            status = await poll(c, f"/api/cameras/{device_id}", lambda j: j["cloud_error"] is not None)
            assert "cannot be reached" in status["cloud_error"] and status["recording"]
        finally:
            s3_server.relay.up()
        await poll(
            c, f"/api/cameras/{device_id}", lambda j: j["cloud_error"] is None and j["image_encryption"]
        )
        objects = s3_server.objects(bucket)
        for row in await sealed_segments(hub, device_id):
            local = Path(row.path).read_bytes()
            stored = s3_server.client().get_object(Bucket=bucket, Key="vakt/" + row.cloud_key)["Body"].read()  # type: ignore[attr-defined]
            assert local[row.init_size : row.init_size + 256] not in stored, "no plaintext leaves the hub"
            assert objects["vakt/" + row.cloud_key] == row.cloud_size

        # local retention removes the oldest files: those already in the cloud keep their rows
        r = await c.patch(f"/api/cameras/{device_id}/recording-settings", json={"retention_max_mb": 1})
        assert r.status_code == 200, r.text
        await hub.app.state.cameras.run_retention()
        gone = [s for s in await sealed_segments(hub, device_id) if not s.local]
        assert gone, "retention left every file on the local disk"
        target = gone[0]
        assert not Path(target.path).exists() and target.cloud_key is not None
        base = f"/api/cameras/{device_id}/history"
        seg_url = f"{base}/segments/{target.id}.mp4"
        at = (target.start + timedelta(milliseconds=200)).isoformat()

        # locked: refused, in words; a wrong password says nothing more than "wrong"
        r = await c.get(seg_url)
        assert r.status_code == 423 and "encryption password" in r.json()["message"]
        assert (await c.get(f"{base}/playlist.m3u8", params={"at": at})).status_code == 423
        r = await c.post(f"{enc}/unlock", json={"password": PASSWORD + "x"})
        assert r.status_code == 403 and r.json()["message"] == "the encryption password is wrong"
        r = await c.post(f"{enc}/unlock", json={"password": PASSWORD})
        assert r.status_code == 200 and r.json()["unlocked_for_s"] > 500

        # unlocked: from the cloud through the hub, by range and whole; the other session stays locked
        r = await c.get(seg_url, headers={"Range": "bytes=0-99"})
        assert r.status_code == 206 and r.content[4:8] == b"ftyp"
        assert r.headers["content-range"] == f"bytes 0-99/{target.size}"
        whole = await c.get(seg_url)
        assert whole.status_code == 200 and len(whole.content) == target.size and frames(whole.content) > 10
        assert (await c2.get(seg_url)).status_code == 423
        pl = await c.get(f"{base}/playlist.m3u8", params={"at": at})
        assert pl.status_code == 200 and f"segments/{target.id}.mp4" in pl.text
        end = (target.start + timedelta(seconds=1.5)).isoformat()
        clip = await c.get(f"{base}/clip", params={"start": at, "end": end})
        assert clip.status_code == 200 and frames(clip.content) > 10
        snap = await c.get(f"{base}/snapshot", params={"at": at})
        assert snap.status_code == 200 and snap.content[:2] == b"\xff\xd8"

        # Change Encryption Password: needs the old one; every session must unlock again, with the new one
        pw = f"{enc}/password"
        r = await c.post(pw, json={"old_password": "not the password", "new_password": "a brand new one"})
        assert r.status_code == 403
        r = await c.post(pw, json={"old_password": PASSWORD, "new_password": "a brand new one"})
        assert r.status_code == 200 and r.json()["unlocked_for_s"] is None
        assert (await c.get(seg_url)).status_code == 423
        assert (await c.post(f"{enc}/unlock", json={"password": PASSWORD})).status_code == 403
        assert (await c.post(f"{enc}/unlock", json={"password": "a brand new one"})).status_code == 200
        assert (await c.get(seg_url)).content == whole.content, "the footage was not sealed again"

        # a chunk changed in the bucket fails authentication: a damaged segment (410, a gap), not garbage
        client = s3_server.client()
        key = "vakt/" + str(target.cloud_key)
        tampered = bytearray(client.get_object(Bucket=bucket, Key=key)["Body"].read())  # type: ignore[attr-defined]
        tampered[len(tampered) // 2] ^= 0x20
        client.put_object(Bucket=bucket, Key=key, Body=bytes(tampered))  # type: ignore[attr-defined]
        r = await c.get(seg_url)
        assert r.status_code == 410 and "authentication" in r.json()["message"]
        day = target.start.date().isoformat()
        timeline = (await c.get(f"{base}/timeline", params={"day": day})).json()
        assert any("cloud copy" in g["reason"] for g in timeline["gaps"])

        # guessing is slowed: after 5 wrong passwords (3 above) the camera's unlock waits, with Retry-After
        answers = [
            (await c2.post(f"{enc}/unlock", json={"password": f"guess {i}"})).status_code for i in range(3)
        ]
        assert answers == [403, 403, 429]

        async with hub.app.state.sessionmaker() as s:
            kinds = set(await s.scalars(select(DeviceEvent.type).where(DeviceEvent.device_id == device_id)))
        assert {"camera.encryption_on", "camera.encryption_password_changed"} <= kinds, "in the audit trail"

        # a deleted camera's footage goes from the cloud tier too
        assert (await c.delete(f"/api/devices/{device_id}")).status_code == 204
        async with asyncio.timeout(20):
            while s3_server.objects(bucket):
                await asyncio.sleep(0.3)
