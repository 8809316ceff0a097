"""Camera emulator benchmark (C5): the RTSP server's CPU cost per client, against re-encoding.

The emulator serves the parking-lot clip to 1, 4 and 8 concurrent ffmpeg clients (RTP over TCP,
stream copy on the client side) and measures the CPU time the server process spends per second of
video per client. Baseline measured in the same run: encoding the same seconds of video once with
libx264 `ultrafast` (what an emulator that re-encodes would pay for every second, before any client).

    .venv/bin/python bench/bench_camera.py [--seconds 5] [--clients 1,4,8] [--readme]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
from rich.console import Console
from rich.table import Table

from readme_block import write_block  # bench/: run as a script, or with bench/ on sys.path
from vakt.camera.config import CameraConfig
from vakt.camera.emulator import CameraEmulator

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
VIDEO = ROOT.parent / "shared" / "assets" / "video" / "cars_parking_768x432.mp4"


def encode_cpu_seconds(video: Path, seconds: float) -> float:
    """CPU time to decode and re-encode ``seconds`` of the clip with libx264 ultrafast (the baseline)."""
    start = time.process_time()
    with av.open(str(video)) as inp, av.open(str(Path(tempfile.gettempdir()) / "vakt-bench.mp4"), "w") as out:
        vin = inp.streams.video[0]
        rate = Fraction(vin.average_rate or 25).limit_denominator(1000)
        vout = out.add_stream("libx264", rate=rate)
        vout.width, vout.height, vout.pix_fmt = vin.codec_context.width, vin.codec_context.height, "yuv420p"
        vout.options = {"preset": "ultrafast", "bf": "0"}
        for index, frame in enumerate(inp.decode(vin)):
            if index >= seconds * float(rate):
                break
            frame.pts, frame.time_base = index, 1 / rate
            out.mux(vout.encode(frame.reformat(format="yuv420p")))
        out.mux(vout.encode(None))
    return time.process_time() - start


def serve_cpu_seconds(url: str, clients: int, seconds: float) -> float:
    """Server CPU time while ``clients`` ffmpeg processes each take ``seconds`` of live video."""
    start = time.process_time()
    procs = [
        subprocess.Popen(
            [
                "ffmpeg",
                "-v",
                "error",
                "-rtsp_transport",
                "tcp",
                "-i",
                url,
                "-t",
                str(seconds),
                "-c",
                "copy",
                "-f",
                "null",
                "-",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(clients)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=seconds + 60)
        if proc.returncode != 0:
            raise RuntimeError(f"ffmpeg client failed: {err.decode()[-300:]}")
    return time.process_time() - start


def run(seconds: float, counts: list[int], console: Console) -> str:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tempfile.gettempdir()) / "vakt-camera-cache"  # sub-stream transcode kept between runs
        config = CameraConfig(
            video=VIDEO, rtsp_port=0, http_port=None, data_dir=Path(tmp), cache=cache, boot_seconds=0
        )
        camera = CameraEmulator(config)
        asyncio.run_coroutine_threadsafe(camera.start(), loop).result(300)
        url = camera.rtsp_url("live", with_credentials=True)
        try:
            baseline = encode_cpu_seconds(VIDEO, seconds)
            rows = []
            for count in counts:
                cpu = serve_cpu_seconds(url, count, seconds)
                rows.append((count, cpu, cpu / (count * seconds)))
        finally:
            asyncio.run_coroutine_threadsafe(camera.stop(), loop).result(30)
            loop.call_soon_threadsafe(loop.stop)
    table = Table(title=f"RTSP fan-out, {seconds:g} s of 768x432 H.264 + AAC to each client")
    for column in ("clients", "server CPU s", "CPU ms per client-second"):
        table.add_column(column, justify="right")
    per_video_second = 1000 * baseline / seconds
    lines = [
        "| clients | server CPU s | CPU ms per client-second |",
        "|---|---|---|",
    ]
    for count, cpu, per in rows:
        table.add_row(str(count), f"{cpu:.3f}", f"{1000 * per:.1f}")
        lines.append(f"| {count} | {cpu:.3f} | {1000 * per:.1f} |")
    summary = [f"Baseline: decoding and re-encoding the same video once (libx264 ultrafast) costs "
               f"{per_video_second:.0f} CPU ms per video second."]  # fmt: skip
    if len(rows) > 1 and rows[-1][0] > rows[0][0]:
        (n0, c0, _), (n1, c1, _) = rows[0], rows[-1]
        extra = 1000 * (c1 - c0) / ((n1 - n0) * seconds)
        summary.append(
            f"Each extra client costs {extra:.1f} CPU ms per second, so one re-encoded stream costs as much "
            f"as {per_video_second / max(extra, 0.001):.0f} extra stream-copy clients."
        )
    console.print(table)
    for line in summary:
        console.print(line)
    return "\n".join([*lines, "", *summary])


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", default="1,4,8", help="comma-separated client counts")
    ap.add_argument("--readme", action="store_true", help="write the figures into README.md")
    args = ap.parse_args(argv)
    console = Console()
    text = run(args.seconds, [int(c) for c in args.clients.split(",")], console)
    if args.readme:
        write_block("camera", text)
        console.print(f"figures written to {README}")
    return text


if __name__ == "__main__":
    main()
