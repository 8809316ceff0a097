"""A camera the analysis cannot reach is retried with a clear error that never shows its password."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from vakt.detect import DetectConfig
from vakt.detect.detectors import create_detector
from vakt.hub.alerts.analysis import AnalysisResult, CameraAnalysis


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_unreachable_camera_error_is_logged_without_its_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def handler(result: AnalysisResult) -> None:
        raise AssertionError("no frame can arrive from a closed port")

    config = DetectConfig()
    url = f"rtsp://admin:S3cretCode@127.0.0.1:{_closed_port()}/sub"
    detector = create_detector(config.detector)
    analysis = CameraAnalysis(7, url, config, detector, handler, asyncio.get_running_loop())
    with caplog.at_level(logging.WARNING, logger="vakt.hub.alerts.analysis"):
        analysis.start()
        for _ in range(100):
            if analysis.error:
                break
            await asyncio.sleep(0.05)
        analysis.stop()
        await asyncio.to_thread(analysis.join)
    assert analysis.error and "admin:***@" in analysis.error
    assert "S3cretCode" not in analysis.error
    assert "S3cretCode" not in caplog.text and "analysis of camera 7" in caplog.text
