"""Camera sources: what is streamed as is, what is transcoded once, and clear errors for bad files."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.camera.conftest import camera_config
from tests.camera.helpers import ThreadedCamera
from vakt.camera.live import LiveStream
from vakt.camera.media import NAL_IDR, NAL_PPS, NAL_SPS, TrackKind, nal_type
from vakt.camera.recorder import ClipRecorder
from vakt.camera.sd import Recording, SdFolder
from vakt.camera.source import SourceError, load_clip, prepare_sources


def tiny_clip(path: Path, b_frames: int) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        stream.options = {"bf": str(b_frames), "g": "10", "preset": "ultrafast"}
        for i in range(20):
            image = np.full((64, 64, 3), (i * 12) % 255, np.uint8)
            image[(i * 3) % 64] = 255
            frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_plain_h264_is_streamed_without_re_encoding(tmp_path: Path) -> None:
    source = tiny_clip(tmp_path / "plain.mp4", b_frames=0)
    files = prepare_sources(source, tmp_path / "cache")
    assert files.main == source  # the file itself, no transcode
    clip = load_clip(files.main)
    first = clip.units[0]
    assert first.kind is TrackKind.VIDEO and first.keyframe and first.dts == 0
    types = [nal_type(n) for n in first.payloads]
    assert types[:2] == [NAL_SPS, NAL_PPS] and NAL_IDR in types
    sub = load_clip(files.sub)
    assert (sub.video.width, sub.video.height) == (32, 32)


def test_b_frames_are_transcoded_once_because_rtp_has_no_dts(tmp_path: Path) -> None:
    source = tiny_clip(tmp_path / "bframes.mp4", b_frames=2)
    files = prepare_sources(source, tmp_path / "cache")
    assert files.main != source and files.main.parent == tmp_path / "cache"
    clip = load_clip(files.main)
    assert all(u.pts == u.dts for u in clip.units)
    stamp = files.main.stat().st_mtime_ns
    assert prepare_sources(source, tmp_path / "cache").main.stat().st_mtime_ns == stamp  # cached


def test_missing_or_broken_video_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not found"):
        prepare_sources(tmp_path / "nope.mp4", tmp_path / "cache")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"this is not a video")
    with pytest.raises(SourceError, match="cannot open"):
        prepare_sources(broken, tmp_path / "cache")


def test_generated_scene_without_a_video(tmp_path: Path) -> None:
    files = prepare_sources(None, tmp_path / "cache")
    clip = load_clip(files.main)
    assert (clip.video.width, clip.video.height) == (640, 360) and clip.audio is None
    assert clip.duration == pytest.approx(12, abs=0.2)


def test_vakt_camera_refuses_a_missing_video_clearly(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vakt.cli import app

    args = ["camera", "--video", str(tmp_path / "nope.mp4"), "--data", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "video file not found" in result.output


def clip_with_opus(path: Path, seconds: int = 4) -> Path:
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        video.options = {"bf": "0", "g": "10", "preset": "ultrafast"}
        audio = out.add_stream("libopus", rate=48000)
        audio.layout = "mono"
        for i in range(seconds * 10):
            image = np.full((64, 64, 3), (i * 7) % 255, np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            out.mux(video.encode(frame))
        tone = (np.sin(np.arange(seconds * 48000) / 48000 * 2 * np.pi * 440) * 8000).astype(np.int16)
        for start in range(0, len(tone), 960):
            chunk = av.AudioFrame.from_ndarray(tone[None, start : start + 960], format="s16", layout="mono")
            chunk.sample_rate, chunk.pts = 48000, start
            out.mux(audio.encode(chunk))
        out.mux(video.encode(None))
        out.mux(audio.encode(None))
    return path


@pytest.mark.timeout(90)
def test_opus_audio_is_streamed_per_rfc_7587(tmp_path: Path, camera_cache: Path) -> None:
    source = clip_with_opus(tmp_path / "opus.mkv")
    clip = load_clip(source)
    assert clip.audio is not None and clip.audio.codec == "opus"
    with ThreadedCamera(camera_config(tmp_path / "cam", camera_cache, video=source)) as camera:
        out = subprocess.run(
            ["ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-i", camera.url("live"), "-t", "2",
             "-c", "copy", "-f", "matroska", str(tmp_path / "out.mkv")],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
    with av.open(str(tmp_path / "out.mkv")) as recorded:
        assert recorded.streams.audio[0].codec_context.name == "opus"
        frames = sum(1 for _ in recorded.decode(audio=0))
    assert frames >= 50  # 2 s of 20 ms Opus frames is ~100


def test_c4_3_a_clip_that_alone_fills_the_card_stops_and_is_kept(tmp_path: Path, camera_cache: Path) -> None:
    clip = load_clip(prepare_sources(None, camera_cache).main)
    stream = LiveStream("live", clip)
    sd = SdFolder(tmp_path / "sd")
    sd.insert(20_000, initialized=True)
    (tmp_path / "sd" / "old.mp4").write_bytes(b"\0" * 5000)
    sd.card.add(Recording("old.mp4", 5000))
    recorder = ClipRecorder(stream, sd, "manual", audio=False)
    for unit in clip.units[:100]:
        stream._publish(unit)
    assert recorder.failed == "the clip alone fills the card"
    assert not (tmp_path / "sd" / "old.mp4").exists()  # overwritten first (loop recording)
    finished = recorder.stop()
    assert finished.size > 0 and (tmp_path / "sd" / finished.name).exists()


def test_b_frame_source_keeps_its_audio_through_the_transcode(tmp_path: Path) -> None:
    """The camera's microphone (C5.3) survives the one-time transcode of a B-frame source."""
    source = tmp_path / "bframes-aac.mp4"
    with av.open(str(source), "w") as out:
        video = out.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        video.options = {"bf": "2", "g": "10", "preset": "ultrafast"}
        audio = out.add_stream("aac", rate=16000)
        audio.layout = "mono"
        for i in range(30):
            image = np.full((64, 64, 3), (i * 9) % 255, np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            out.mux(video.encode(frame))
        tone = (np.sin(np.arange(3 * 16000) / 16000 * 2 * np.pi * 300) * 0.3).astype(np.float32)
        for start in range(0, len(tone), 1024):
            chunk = av.AudioFrame.from_ndarray(tone[None, start : start + 1024], format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts = 16000, start
            out.mux(audio.encode(chunk))
        out.mux(video.encode(None))
        out.mux(audio.encode(None))
    files = prepare_sources(source, tmp_path / "cache")
    assert files.main != source
    clip = load_clip(files.main)
    assert clip.audio is not None and clip.audio.codec == "aac" and clip.audio.sample_rate == 16000
    assert all(u.pts == u.dts for u in clip.units if u.kind is TrackKind.VIDEO)
    audio_units = [u for u in clip.units if u.kind is TrackKind.AUDIO]
    assert len(audio_units) >= 40  # ~3 s of 1024-sample frames at 16 kHz
    assert clip.duration == pytest.approx(3.0, abs=0.2)
