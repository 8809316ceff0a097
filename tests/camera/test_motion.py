"""The camera's own motion detection (C4.3, sensitivity as in C8.2) and its network-exception LED (C1)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import numpy as np
import pytest

from tests.camera.conftest import camera_config
from vakt.camera.emulator import CameraEmulator
from vakt.camera.motion import MotionDetector


def frame_with_block(x: int, size: int = 10) -> np.ndarray:
    image = np.full((90, 160), 80, np.uint8)
    image[40 : 40 + size, x : x + size] = 220
    return image


def test_still_scene_is_not_motion_and_a_moving_block_is() -> None:
    detector = MotionDetector(50)
    assert not detector.feed(frame_with_block(10))
    assert not detector.feed(frame_with_block(10))
    noise = frame_with_block(10).astype(np.int16) + np.random.default_rng(1).integers(-8, 8, (90, 160))
    assert not detector.feed(noise.clip(0, 255).astype(np.uint8))  # compression-like noise
    assert detector.feed(frame_with_block(30))


def test_c8_2_higher_sensitivity_sees_smaller_changes() -> None:
    small_move = [frame_with_block(10, size=4), frame_with_block(14, size=4)]  # 32 px of 14400
    low, high = MotionDetector(1), MotionDetector(100)
    assert [low.feed(f) for f in small_move] == [False, False]
    assert [high.feed(f) for f in small_move] == [False, True]


@pytest.mark.timeout(60)
async def test_c4_3_motion_in_the_scene_records_a_clip_to_the_card(
    tmp_path: Path, camera_cache: Path
) -> None:
    """The generated scene has a figure walking across: the camera records a "motion" clip by itself."""
    config = camera_config(tmp_path / "cam", camera_cache, motion_detection=True, http_port=None)
    async with CameraEmulator(config) as camera:
        for _ in range(100):
            if camera.device.recorder is not None:
                break
            await asyncio.sleep(0.1)
        recorder = camera.device.recorder
        assert recorder is not None and recorder.reason == "motion"
        assert any(e.type == "Motion" for e in camera._outbox)  # kept for the hub until it connects
        assert (await camera.device.handle("camera.settings", {"motion_recording": False}))["settings"]
        await camera.device.stop_recording()
        camera.device._motion_until = 0  # a new motion episode, now with recording off
        await asyncio.sleep(1.5)
        assert camera.device.recorder is None
    assert any(p.name.endswith("-motion.mp4") for p in (tmp_path / "cam" / "sd").iterdir())


@pytest.mark.timeout(60)
async def test_c1_unreachable_broker_is_a_network_exception(tmp_path: Path, camera_cache: Path) -> None:
    """Slow red while the camera cannot reach its server; RTSP keeps serving meanwhile."""
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = camera_config(
        tmp_path / "cam", camera_cache, mqtt_host="127.0.0.1", mqtt_port=port, http_port=None
    )
    async with CameraEmulator(config) as camera:
        for _ in range(50):
            if camera.state()["led"] == "slow_red":
                break
            await asyncio.sleep(0.1)
        state = camera.state()
        assert state["led"] == "slow_red" and state["server_reachable"] is False
        assert camera.rtsp is not None and camera.rtsp.running
