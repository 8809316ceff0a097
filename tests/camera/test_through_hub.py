"""A real RTSP camera streaming the parking-lot clip (H.264 + AAC) through the real hub (issue 15).

C5.3 (item 15): the live WebSocket's init names both codecs and the fMP4 it sends decodes to video and AAC
audio; with Audio off (C6) the live view carries video only. Item 18 (decided): deleting a camera deletes
its footage at once, after the app asks, and no segment is indexed for a camera that is gone."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import av
import pytest

from tests.hub.conftest import Hub, Mosquitto, hub_settings, mosquitto, running_hub
from tests.media.camera_process import CameraProcess
from tests.media.helpers import CARS, needs_assets
from tests.media.test_hub_cameras import CAMERA_ONLY, live_frames, poll
from vakt.broker.embedded import free_port

__all__ = ["mosquitto"]  # the fixture this module uses from the hub's conftest
pytestmark = [needs_assets, pytest.mark.slow, pytest.mark.mosquitto]


@pytest.fixture
async def camera(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[CameraProcess]:
    cam = CameraProcess(CARS, tmp_path_factory.mktemp("cam"), free_port())
    await cam.astart()
    yield cam
    cam.kill()


@pytest.fixture
async def hub(tmp_path: Path, mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hub]:
    monkeypatch.setenv("VAKT_MEDIA_SEGMENT_SECONDS", "1")
    async with running_hub(hub_settings(tmp_path, mosquitto), mosquitto, services=CAMERA_ONLY) as running:
        yield running


def streams_of(data: bytes) -> dict[str, int]:
    """Decoded frames per codec of an fMP4 init + fragments."""
    counts: dict[str, int] = {}
    for kind in ("video", "audio"):
        with av.open(io.BytesIO(data), "r", format="mp4") as container:
            streams = getattr(container.streams, kind)
            if streams:
                frames = sum(1 for _ in container.decode(streams[0]))
                counts[streams[0].codec_context.name] = frames
    return counts


async def test_c5_3_live_view_carries_the_cameras_aac_and_honours_audio_off(
    hub: Hub, camera: CameraProcess
) -> None:
    _, owner = await hub.user("owner")
    async with hub.client(owner) as c:
        r = await c.post("/api/cameras", json={"name": "Drive", "url": camera.url})
        assert r.status_code == 201, r.text
        device_id = r.json()["device_id"]
        await poll(c, f"/api/cameras/{device_id}", lambda j: j["streaming"])
        hello, data = await live_frames(hub, device_id, owner, fragments=40)
        assert hello["codec"].startswith("avc1.") and hello["codec"].endswith(",mp4a.40.2"), hello
        counts = streams_of(data)
        assert counts.get("aac", 0) > 0 and counts.get("h264", 0) > 0, counts

        r = await c.patch(f"/api/cameras/{device_id}/recording-settings", json={"audio": False})
        assert r.status_code == 200 and r.json()["audio"] is False
        await poll(
            c, f"/api/cameras/{device_id}", lambda j: j["streaming"] and j["codec"] and "," not in j["codec"]
        )
        hello, data = await live_frames(hub, device_id, owner, fragments=20)
        assert "mp4a" not in hello["codec"]
        assert "aac" not in streams_of(data)


async def test_deleting_a_camera_deletes_its_footage_and_nothing_is_orphaned(
    hub: Hub, camera: CameraProcess, caplog: pytest.LogCaptureFixture
) -> None:
    _, owner = await hub.user("owner")
    async with hub.client(owner) as c:
        r = await c.post("/api/cameras", json={"name": "Drive", "url": camera.url})
        device_id = r.json()["device_id"]
        await poll(c, f"/api/cameras/{device_id}", lambda j: j["streaming"] and j["recording"])
        folder = hub.app.state.settings.media_dir / f"camera-{device_id}"
        async with asyncio.timeout(30):
            while not any(folder.rglob("*.mp4")):
                await asyncio.sleep(0.2)
        assert (await c.delete(f"/api/devices/{device_id}")).status_code == 204
        assert not folder.exists(), "the deleted camera's footage is still on disk"
        await asyncio.sleep(2.5)  # a segment the pipeline finished while it stopped is not indexed
        assert not folder.exists()
        problems = [r.getMessage() for r in caplog.records if "FOREIGN KEY" in r.getMessage().upper()]
        assert not problems, problems


async def test_v4_test_connection_tells_what_streams_or_why_not(hub: Hub, camera: CameraProcess) -> None:
    """V4 (issue 15): before adding a camera by RTSP URL the app can test it: codec and size, or a reason."""
    _, owner = await hub.user("owner")
    async with hub.client(owner) as c:
        good = (await c.post("/api/cameras/probe", json={"url": camera.url})).json()
        expected = {"ok": True, "codec": "h264", "width": 768, "height": 432, "audio": "aac", "error": None}
        assert good == expected
        wrong = camera.url.replace(camera.code, "WRONG123")
        refused = (await c.post("/api/cameras/probe", json={"url": wrong})).json()
        assert not refused["ok"] and "password" in refused["error"]
        nobody = (
            await c.post("/api/cameras/probe", json={"url": f"rtsp://127.0.0.1:{free_port()}/live"})
        ).json()
        assert not nobody["ok"] and "nothing answered" in nobody["error"]
        bad = await c.post("/api/cameras/probe", json={"url": "http://example.org/"})
        assert bad.status_code == 422
    async with hub.client() as anonymous:
        assert (await anonymous.post("/api/cameras/probe", json={"url": camera.url})).status_code == 401
