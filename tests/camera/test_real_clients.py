"""C5 live view through real RTSP clients (ffprobe, ffmpeg, PyAV) over TCP and UDP against the real server."""

from __future__ import annotations

import itertools
import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import av
import pytest

from tests.camera.conftest import camera_config
from tests.camera.helpers import ThreadedCamera

pytestmark = pytest.mark.timeout(120)


def ffprobe(url: str, transport: str = "tcp", timeout: float = 30) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", transport, "-show_streams", "-of", "json", url],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout))


def record(url: str, dst: Path, seconds: float, transport: str = "tcp") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-rtsp_transport", transport, "-i", url, "-t", str(seconds),
         "-c", "copy", str(dst)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def count_frames(path: Path) -> dict[str, dict[str, Any]]:
    """Decode the file fully (it must be playable) and count its frames per stream type."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return {s["codec_type"]: s for s in json.loads(out.stdout)["streams"]}


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_c5_ffprobe_sees_h264_768x432_and_aac(cars_camera: ThreadedCamera, transport: str) -> None:
    streams = ffprobe(cars_camera.url("live"), transport)["streams"]
    video = next(s for s in streams if s["codec_type"] == "video")
    audio = next(s for s in streams if s["codec_type"] == "audio")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 768, 432)
    assert video["profile"] == "Baseline"
    assert (audio["codec_name"], audio["sample_rate"]) == ("aac", "48000")


def test_c5_1_sub_stream_is_half_size(cars_camera: ThreadedCamera) -> None:
    """Standard definition (C5.1): the sub-stream produced once at start-up, half the main size."""
    video = ffprobe(cars_camera.url("sub"))["streams"][0]
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 384, 216)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_ffmpeg_records_a_playable_three_second_file(
    cars_camera: ThreadedCamera, tmp_path: Path, transport: str
) -> None:
    dst = tmp_path / f"out-{transport}.mp4"
    result = record(cars_camera.url("live"), dst, 3, transport)
    assert result.returncode == 0, result.stderr
    streams = count_frames(dst)
    frames = int(streams["video"]["nb_read_frames"])
    assert 30 <= frames <= 45, f"{frames} frames for 3 s at 12.5 fps"
    assert streams["audio"]["codec_name"] == "aac"
    assert int(streams["audio"]["nb_read_frames"]) > 100  # 3 s of 1024-sample frames at 48 kHz is ~140


def test_pyav_decodes_frames(cars_camera: ThreadedCamera) -> None:
    with av.open(cars_camera.url("live"), options={"rtsp_transport": "tcp"}, timeout=20) as container:
        stream = container.streams.video[0]
        frames = []
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="bgr24"))
            if len(frames) == 10:
                break
    assert all(f.shape == (432, 768, 3) for f in frames)
    assert frames[-1].std() > 5  # a real picture, not a blank one


def test_two_clients_at_once_each_get_the_whole_stream(cars_camera: ThreadedCamera, tmp_path: Path) -> None:
    with ThreadPoolExecutor(2) as pool:
        jobs = [
            pool.submit(record, cars_camera.url("live"), tmp_path / "a.mp4", 3, "tcp"),
            pool.submit(record, cars_camera.url("live"), tmp_path / "b.mp4", 3, "udp"),
        ]
        results = [job.result() for job in jobs]
    for result, name in zip(results, ("a.mp4", "b.mp4"), strict=True):
        assert result.returncode == 0, result.stderr
        assert 30 <= int(count_frames(tmp_path / name)["video"]["nb_read_frames"]) <= 45


def test_wrong_password_is_refused_with_401(cars_camera: ThreadedCamera) -> None:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", cars_camera.url("live", password="WRONG1")],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert out.returncode != 0
    assert "401" in out.stderr


def test_watching_count_follows_live_clients(cars_camera: ThreadedCamera) -> None:
    """C1 solid blue needs to know who watches: the count rises while a client plays /live."""
    with av.open(cars_camera.url("live"), options={"rtsp_transport": "tcp"}, timeout=20) as container:
        next(container.decode(container.streams.video[0]))
        assert cars_camera.state()["watching"] >= 1
        assert cars_camera.state()["led"] == "solid_blue"
    deadline = time.monotonic() + 5
    while cars_camera.state()["watching"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cars_camera.state()["watching"] == 0


def test_mpeg4_source_is_transcoded_once_and_loop_timestamps_keep_increasing(
    assets: Path, camera_cache: Path, tmp_path: Path
) -> None:
    """TUD-Stadtmitte is MPEG-4 Part 2 (7.16 s): served as H.264; a 9 s recording crosses the loop point."""
    config = camera_config(
        tmp_path / "tud", camera_cache, video=assets / "video" / "TUD-Stadtmitte_640x480.mp4"
    )
    with ThreadedCamera(config) as camera:
        time.sleep(2)  # join mid-clip so the recording surely spans the loop point
        dst = tmp_path / "loop.mp4"
        result = record(camera.url("live"), dst, 9)
        assert result.returncode == 0, result.stderr
        assert camera.emulator.streams["live"].loops >= 1
    video = count_frames(dst)["video"]
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 640, 480)
    assert 200 <= int(video["nb_read_frames"]) <= 240  # 9 s at 25 fps
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=dts", "-of", "csv=p=0",
         str(dst)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    dts = [int(line) for line in out.stdout.split() if line.strip()]
    assert all(b > a for a, b in itertools.pairwise(dts)), "timestamps went back at the loop point"


def test_c6_audio_off_removes_the_sound_track(cars_camera: ThreadedCamera) -> None:
    device = cars_camera.emulator.device
    cars_camera.call(lambda: device.handle("camera.settings", {"audio": False}))
    try:
        streams = ffprobe(cars_camera.url("live"))["streams"]
        assert [s["codec_type"] for s in streams] == ["video"]
    finally:
        cars_camera.call(lambda: device.handle("camera.settings", {"audio": True}))
    assert {s["codec_type"] for s in ffprobe(cars_camera.url("live"))["streams"]} == {"video", "audio"}
