"""Recording benchmark (C7.1): the hub's ingest + recorder CPU cost, and cameras per machine.

1. CPU seconds per minute of video of `vakt.media` (RTSP ingest over TCP + remux to fMP4 segments)
   against the baseline measured in the same run on the same stream:
   `ffmpeg -rtsp_transport tcp -i URL -c copy -f segment -segment_time 10 out%03d.mp4`.
2. Ramp: N cameras recorded at once by one hub process (one emulated camera serves N streams) until
   frames are lost (gaps in the decode timestamps) or arrive late (more than 1 s behind real time).

The camera is the emulator (`vakt camera`) looping people_indoor_768x432.mp4 (H.264, 10 fps).

    .venv/bin/python bench/bench_recording.py [--seconds 30] [--ramp 1,2,4,8,16] [--step-seconds 15]
        [--readme]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

from rich.console import Console
from rich.table import Table

from readme_block import write_block  # bench/: run as a script, or with bench/ on sys.path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
VIDEO = ROOT.parent / "shared" / "assets" / "video" / "people_indoor_768x432.mp4"
CODE = "BENCH12345"
console = Console()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def camera(data_dir: Path) -> Iterator[str]:
    """The camera emulator in its own process; yields the RTSP URL with credentials."""
    port = free_port()
    vakt = Path(sys.executable).with_name("vakt")
    proc = subprocess.Popen(
        [str(vakt), "camera", "--video", str(VIDEO), "--rtsp-port", str(port), "--http-port", "0",
         "--code", CODE, "--data", str(data_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("the camera emulator did not start")
        yield f"rtsp://admin:{CODE}@127.0.0.1:{port}/live"
    finally:
        proc.terminate()
        proc.wait(10)


# -- worker: runs in its own process so its CPU time is its own --------------------------------------
def worker(url: str, seconds: float, cameras: int, out: Path) -> dict[str, float]:
    from vakt.media.ingest import Backoff, Ingest
    from vakt.media.recorder import SegmentRecorder
    from vakt.media.session import MediaPacket, StreamSet

    class Probe:
        """Counts video frames, frames missing from the dts sequence, and lag behind real time."""

        def __init__(self) -> None:
            self.frames = self.lost = 0
            self.last_dts: int | None = None
            self.step = 0
            self.time_base = Fraction(1, 90000)
            self.start = 0.0
            self.max_lag = 0.0

        def open_session(self, streams: StreamSet) -> None:
            self.step, self.time_base, self.start = streams.frame_pts(), streams.time_base, time.monotonic()
            self.last_dts = None

        def write(self, packet: MediaPacket) -> None:
            if not packet.is_video or packet.packet.dts is None:
                return
            dts = packet.packet.dts
            self.frames += 1
            if self.last_dts is not None and dts - self.last_dts > 1.5 * self.step:
                self.lost += round((dts - self.last_dts) / self.step) - 1
            self.last_dts = dts
            lag = (time.monotonic() - self.start) - float(dts * self.time_base)
            self.max_lag = max(self.max_lag, lag)

        def close_session(self) -> None:
            pass

    segments: list[object] = []
    before = resource.getrusage(resource.RUSAGE_SELF)
    ingests, probes = [], []
    for index in range(cameras):
        probe = Probe()
        recorder = SegmentRecorder(out / f"cam{index}", index, segments.append, segment_seconds=10.0)
        ingest = Ingest(url, [recorder, probe], name=f"bench-{index}", backoff=Backoff(cap=1.0))
        ingests.append(ingest)
        probes.append(probe)
        ingest.start()
    time.sleep(seconds)
    for ingest in ingests:
        ingest.stop()
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    video = sum(p.frames for p in probes) / 10.0  # seconds of video recorded (10 fps source)
    return {
        "cpu": cpu,
        "video_s": video,
        "frames": sum(p.frames for p in probes),
        "lost": sum(p.lost for p in probes),
        "max_lag": max((p.max_lag for p in probes), default=0.0),
        "sessions": sum(i.stats.sessions for i in ingests),
    }


def run_worker(url: str, seconds: float, cameras: int, out: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--worker", url, str(seconds), str(cameras), str(out)],
        capture_output=True, text=True, check=True, timeout=seconds + 120,
    )  # fmt: skip
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def ffmpeg_baseline(url: str, seconds: float, out: Path) -> dict[str, float]:
    """CPU of ffmpeg copying the same stream into 10 s segments for the same wall time."""
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url, "-c", "copy", "-an",
         "-f", "segment", "-segment_time", "10", str(out / "out%03d.mp4")],
    )  # fmt: skip
    time.sleep(seconds)
    proc.terminate()
    proc.wait(30)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    frames = 0
    import av

    for path in sorted(out.glob("out*.mp4")):
        with contextlib.suppress(av.error.FFmpegError), av.open(str(path)) as c:
            frames += sum(1 for p in c.demux(c.streams.video[0]) if p.size)
    return {"cpu": usage.ru_utime + usage.ru_stime, "video_s": frames / 10.0}


def per_minute(result: dict[str, float]) -> float:
    return result["cpu"] / max(result["video_s"], 1e-9) * 60.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="wall time of the CPU comparison")
    parser.add_argument("--ramp", default="1,2,4,8,16", help="camera counts to try, in order")
    parser.add_argument("--step-seconds", type=float, default=15.0, help="wall time per ramp step")
    parser.add_argument("--readme", action="store_true", help="write the figures into README.md")
    args = parser.parse_args()
    if not VIDEO.exists():
        console.print(f"[red]footage {VIDEO} is missing; nothing to measure[/]")
        raise SystemExit(1)
    with tempfile.TemporaryDirectory() as tmp, camera(Path(tmp) / "camera") as url:
        # ffmpeg's children CPU is counted once per process: run the baseline before any other child
        with console.status(f"ffmpeg -c copy baseline, {args.seconds:.0f}s..."):
            base = ffmpeg_baseline(url, args.seconds, Path(tmp) / "ffmpeg")
        with console.status(f"vakt.media ingest + recorder, {args.seconds:.0f}s..."):
            ours = run_worker(url, args.seconds, 1, Path(tmp) / "ours")
        ratio = per_minute(ours) / per_minute(base)
        table = Table(
            title="CPU seconds per minute of video (RTSP over TCP -> 10 s MP4 segments, no re-encode)"
        )
        for column in ("recorder", "CPU s / video min", "video recorded"):
            table.add_column(column)
        table.add_row("ffmpeg -c copy -f segment", f"{per_minute(base):.2f}", f"{base['video_s']:.0f} s")
        table.add_row("vakt.media (fMP4 segments)", f"{per_minute(ours):.2f}", f"{ours['video_s']:.0f} s")
        console.print(table)
        console.print(f"ratio vakt / ffmpeg: [bold]{ratio:.2f}x[/] (target <= 1.2x)")

        ramp = Table(title=f"Cameras recorded at once by one process ({args.step_seconds:.0f}s per step)")
        for column in ("cameras", "frames", "lost", "max lag s", "CPU % of one core"):
            ramp.add_column(column)
        capacity = 0
        for count in [int(n) for n in args.ramp.split(",")]:
            with console.status(f"{count} cameras..."):
                step = run_worker(url, args.step_seconds, count, Path(tmp) / f"ramp{count}")
            ok = step["lost"] == 0 and step["max_lag"] < 1.0
            cpu_share = f"{100 * step['cpu'] / args.step_seconds:.0f}"
            frames, lost = str(int(step["frames"])), str(int(step["lost"]))
            ramp.add_row(str(count), frames, lost, f"{step['max_lag']:.2f}", cpu_share)
            if not ok:
                break
            capacity = count
        console.print(ramp)
        console.print(f"recorded without loss: [bold]{capacity}[/] cameras (ramp {args.ramp})")
    if args.readme:
        lines = [
            "Recording (`bench/bench_recording.py`; people_indoor 768x432 H.264 10 fps, camera emulator):",
            "",
            "| recorder | CPU s per minute of video |",
            "|---|---|",
            f"| ffmpeg `-c copy -f segment` (baseline) | {per_minute(base):.2f} |",
            f"| vakt.media ingest + fMP4 recorder | {per_minute(ours):.2f} ({ratio:.2f}x) |",
            "",
            f"Cameras recorded at once by one process without a lost or late frame: **{capacity}** "
            f"(ramp {args.ramp}, {args.step_seconds:.0f} s per step, emulator on the same 2-core machine).",
        ]
        write_block("recording", "\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _, _, url, secs, count, out = sys.argv
        print(json.dumps(worker(url, float(secs), int(count), Path(out))))
    else:
        main()
