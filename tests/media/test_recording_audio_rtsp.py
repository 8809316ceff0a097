"""C5.3 / C6 Audio in recordings: the camera emulator's AAC track, read over real RTSP, is copied into the
hub's segments (passthrough, no re-encode) when the camera's Audio setting is on, and left out when off."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import pytest

from tests.media.camera_process import CameraProcess
from tests.media.helpers import CARS, needs_assets
from vakt.broker.embedded import free_port
from vakt.media.pipeline import CameraPipeline, PipelineConfig
from vakt.media.segments import SegmentInfo

pytestmark = [needs_assets, pytest.mark.slow]


async def record_segments(url: str, media_dir: Path, audio: bool) -> list[SegmentInfo]:
    segments: list[SegmentInfo] = []

    async def on_segment(info: SegmentInfo) -> None:
        segments.append(info)

    config = PipelineConfig(1, url, media_dir, audio=audio, segment_seconds=1.0, read_timeout=5.0)
    pipe = CameraPipeline(config, on_segment)
    await pipe.start()
    try:
        async with asyncio.timeout(60):
            while not segments:
                await asyncio.sleep(0.05)
    finally:
        await pipe.stop()
    return segments


async def test_recording_carries_the_cameras_aac_only_while_audio_is_on(tmp_path: Path) -> None:
    cam = CameraProcess(CARS, tmp_path / "camera", free_port())
    await cam.astart()
    try:
        with_audio, without = await asyncio.gather(  # two sessions of one camera at once
            record_segments(cam.url, tmp_path / "on", audio=True),
            record_segments(cam.url, tmp_path / "off", audio=False),
        )
    finally:
        cam.kill()
    seg = with_audio[0]
    with av.open(str(seg.path)) as container:
        assert container.streams.audio, "the camera's sound is missing from the recording"
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "aac"  # passthrough: the camera's own codec
        sound = [p for p in container.demux(stream) if p.size]
        assert sound, "an audio track with no sound in it"
        sound_seconds = float(sum(p.duration or 0 for p in sound) * stream.time_base)
        assert sound_seconds >= 0.5 * seg.duration
    assert all(s.has_audio for s in with_audio)
    for seg in without:
        with av.open(str(seg.path)) as container:
            assert not container.streams.audio
        assert not seg.has_audio
