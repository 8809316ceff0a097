"""Cloud tier benchmark (issue 12, C6, C7.1): sealed (Image Encryption) vs plain upload, and playback start.

    .venv/bin/python bench/bench_cloud.py [--minutes 20] [--readme]

A real S3 server (moto_server, as in the tests) on this machine; the footage is the people_indoor asset
(768x432 H.264, its real bitrate) cut into 10 s segment files. Both modes upload the same files through
the hub's `Uploader` + `S3Store` in the same run, alternating, best of two; the CPU is this process's
(the hub's side: sealing, signing, HTTP), scaled to one camera-hour. Time to first frame: a real 10 s
MP4 segment read from the local disk, from the cloud plain, and from the cloud sealed (fetch, open,
decode the first frame), median of 15 each.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src"), str(Path(__file__).parent)]

from tests.media.helpers import PEOPLE  # noqa: E402
from tests.media.s3_server import KEY_ID, REGION, SECRET, S3Server  # noqa: E402

from readme_block import write_block  # noqa: E402  (bench/ on sys.path)
from vakt.media.cloud import Uploader, UploadQueue, read_footage  # noqa: E402
from vakt.media.encryption import Opener, create_camera_key, unlock  # noqa: E402
from vakt.media.s3 import S3Settings, S3Store  # noqa: E402

SEGMENT_S = 10.0


def cut_segments(folder: Path, minutes: float) -> list[Path]:
    """Files of one 10 s segment's size each, from the asset's bytes (its real entropy and bitrate)."""
    data = PEOPLE.read_bytes()
    with av.open(str(PEOPLE)) as container:
        seconds = float(container.duration or 0) / 1e6
    per_segment = int(len(data) / seconds * SEGMENT_S)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(int(minutes * 60 / SEGMENT_S)):
        start = (i * per_segment) % max(1, len(data) - per_segment)
        path = folder / f"seg{i:04d}.mp4"
        path.write_bytes(data[start : start + per_segment])
        paths.append(path)
    return paths


def first_segment(target: Path) -> Path:
    """A real playable 10 s MP4: the asset's first 10 s remuxed (no re-encoding)."""
    with av.open(str(PEOPLE)) as source, av.open(str(target), "w") as out:
        video = source.streams.video[0]
        stream = out.add_stream_from_template(video)
        for packet in source.demux(video):
            if packet.dts is None:
                continue
            if packet.pts is not None and float(packet.pts * video.time_base) >= SEGMENT_S:
                break
            packet.stream = stream
            out.mux(packet)
    return target


def decode_first_frame(data: bytes) -> None:
    with av.open(io.BytesIO(data), "r", format="mp4") as container:
        next(container.decode(video=0))


async def upload(
    store: S3Store, files: list[Path], work: Path, seal_for: str | None, tag: str
) -> tuple[float, float]:
    """(wall s, CPU s) to upload every file through the hub's uploader."""
    uploader = Uploader(store, UploadQueue(work / f"queue-{tag}"))
    cpu, wall = time.process_time(), time.perf_counter()
    for path in files:
        uploader.submit(path, f"{tag}/{path.name}", seal_for)
    task = asyncio.create_task(uploader.run())
    while uploader.uploaded < len(files):
        await asyncio.sleep(0.005)
    task.cancel()
    return time.perf_counter() - wall, time.process_time() - cpu


async def run(minutes: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-cloud-") as tmp:
        work = Path(tmp)
        server = S3Server(work)
        try:
            bucket = server.new_bucket()
            settings = S3Settings.model_validate(
                {"endpoint_url": server.endpoint, "bucket": bucket, "region": REGION,
                 "access_key_id": KEY_ID, "secret_access_key": SECRET}
            )  # fmt: skip
            store = S3Store(settings)
            key = create_camera_key("benchmark password")
            files = cut_segments(work / "footage", minutes)
            megabytes = sum(p.stat().st_size for p in files) / 1e6
            results: dict[str, list[tuple[float, float]]] = {"plain": [], "sealed": []}
            for round_ in range(2):
                results["plain"].append(await upload(store, files, work, None, f"plain{round_}"))
                results["sealed"].append(await upload(store, files, work, key.public_key, f"sealed{round_}"))
            hours = minutes / 60
            figures: dict[str, float] = {"megabytes": megabytes, "minutes": minutes}
            for mode, runs in results.items():
                wall = min(w for w, _ in runs)
                cpu = min(c for _, c in runs)
                figures[f"{mode}_cpu_per_hour"] = cpu / hours
                figures[f"{mode}_mb_s"] = megabytes / wall

            segment = first_segment(work / "first.mp4")
            await store.put("ttff/plain.mp4", segment)
            staged = work / "first.sealed"
            from vakt.media.encryption import seal_file

            seal_file(segment, staged, key.public())
            await store.put("ttff/first.sealed", staged)
            opener = Opener(unlock(key, "benchmark password"))
            size = segment.stat().st_size

            async def local() -> None:
                decode_first_frame(segment.read_bytes())

            async def cloud_plain() -> None:
                decode_first_frame(await read_footage(store, "ttff/plain.mp4", 0, size))

            async def cloud_sealed() -> None:
                decode_first_frame(await read_footage(store, "ttff/first.sealed", 0, size, opener))

            for name, job in (("local", local), ("cloud_plain", cloud_plain), ("cloud_sealed", cloud_sealed)):
                times = []
                for _ in range(15):
                    began = time.perf_counter()
                    await job()
                    times.append(time.perf_counter() - began)
                figures[f"ttff_{name}_ms"] = statistics.median(times) * 1000
            figures["segment_kb"] = size / 1000
            await store.close()
            return figures
        finally:
            server.stop()


def table(f: dict[str, float]) -> str:
    ratio = f["sealed_cpu_per_hour"] / f["plain_cpu_per_hour"]
    intro = (
        f"Cloud tier (`.venv/bin/python bench/bench_cloud.py --readme`; {f['minutes']:.0f} min of "
        f"people_indoor footage ({f['megabytes']:.1f} MB in 10 s segments) uploaded to moto_server on this "
        "machine through the hub's uploader, plain and sealed alternately in the same run, best of two; "
        "CPU of the hub side scaled to one camera-hour; the 2-core machine is shared, so figures vary "
        "between runs by up to 30 %):"
    )
    first_frame = (
        f"Time to first frame of a {f['segment_kb']:.0f} kB 10 s segment (fetch + open + decode, median "
        f"of 15): local disk {f['ttff_local_ms']:.1f} ms, cloud plain {f['ttff_cloud_plain_ms']:.1f} ms, "
        f"cloud sealed {f['ttff_cloud_sealed_ms']:.1f} ms (moto on the same machine: no network latency)."
    )
    return "\n".join(
        [
            intro,
            "",
            "| upload | CPU s per camera-hour | throughput |",
            "|---|---|---|",
            f"| plain (baseline) | {f['plain_cpu_per_hour']:.2f} | {f['plain_mb_s']:.1f} MB/s |",
            f"| sealed (Image Encryption, AES-256-GCM 64 KiB chunks) | {f['sealed_cpu_per_hour']:.2f} "
            f"({ratio:.2f}x; target <= 1.25x) | {f['sealed_mb_s']:.1f} MB/s |",
            "",
            first_frame,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=20.0, help="minutes of footage per mode and round")
    parser.add_argument("--readme", action="store_true", help="write the figures into README.md")
    args = parser.parse_args()
    figures = asyncio.run(run(args.minutes))
    text = table(figures)
    print(text)
    if args.readme and not write_block("cloud", text):
        print("README.md has no <!-- bench:cloud --> block; nothing written")


if __name__ == "__main__":
    main()
