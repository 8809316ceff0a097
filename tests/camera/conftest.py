"""Camera test fixtures: one shared transcode cache per session, emulators on real footage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.camera.helpers import ThreadedCamera
from vakt.camera.config import CameraConfig

CODE = "CAMCODE1"


@pytest.fixture(scope="session")
def camera_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("camera-cache")


def camera_config(data_dir: Path, cache: Path, **extra: object) -> CameraConfig:
    values: dict[str, object] = {
        "serial": "CAM0001", "code": CODE, "rtsp_port": 0, "http_port": 0, "data_dir": data_dir,
        "cache": cache, "boot_seconds": 0.2, "sd_format_seconds": 0.3,
    }  # fmt: skip
    values.update(extra)
    return CameraConfig.model_validate(values)


@pytest.fixture(scope="module")
def cars_camera(
    assets: Path, camera_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ThreadedCamera]:
    """The camera streaming the parking-lot clip (H.264 768x432 + AAC) with no MQTT."""
    config = camera_config(
        tmp_path_factory.mktemp("cars-camera"),
        camera_cache,
        video=assets / "video" / "cars_parking_768x432.mp4",
    )
    with ThreadedCamera(config) as camera:
        yield camera
