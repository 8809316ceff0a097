"""C5.3 (issue 15 item 15): the camera's microphone is heard in live view. A real RTSP camera streaming the
parking-lot clip (H.264 + AAC) through the real hub: the live WebSocket's init names both codecs and the
fMP4 it sends decodes to video and AAC audio; with Audio off (C6) the live view carries video only."""

from __future__ import annotations

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
async def hub(tmp_path: Path, mosquitto: Mosquitto) -> AsyncIterator[Hub]:
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
