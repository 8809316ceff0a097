"""Helpers of the footage fault tests: the hub's camera side in its own process (to SIGKILL it), a small
real tmpfs, and the ledger that compares what was recorded with what is indexed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import httpx
import pytest
from sqlalchemy import select

from vakt.hub.db import make_engine, make_sessionmaker
from vakt.hub.models.cameras import Segment
from vakt.media.integrity import check_segment

# The hub app with only its camera service (what `vakt hub` runs for recording, without person
# detection's CPU load), served by uvicorn in a child process that a test can SIGKILL.
HUB_SCRIPT = """
import logging, sys
import uvicorn
from vakt.hub.app import create_app
from vakt.hub.routers import cameras
from vakt.hub.settings import HubSettings
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
app = create_app(HubSettings(), services=[cameras.service])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


class HubProcess:
    """`python -c HUB_SCRIPT` on a free port, data in `data_dir`, its log in `data_dir/../hub-<n>.log`."""

    def __init__(self, data_dir: Path, port: int, env: dict[str, str]) -> None:
        self.data_dir, self.port = data_dir, port
        self.env = (
            os.environ
            | {
                "VAKT_DATA_DIR": str(data_dir),
                "VAKT_MQTT_ENABLED": "false",
                "VAKT_ARGON2_TIME_COST": "1",
                "VAKT_ARGON2_MEMORY_KIB": "1024",
            }
            | env
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self.log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 60.0) -> None:
        self.runs += 1
        self.log = self.data_dir.parent / f"hub-{self.runs}.log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", HUB_SCRIPT, str(self.port)], env=self.env, stdout=out, stderr=out
            )
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/api/health")).status_code == 200:
                        return
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"hub did not start: {self.log_text()[-2000:]}")
                await asyncio.sleep(0.2)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log and self.log.exists() else ""

    def kill(self) -> None:
        """Power cut for the process: SIGKILL, nothing flushed or closed by the hub."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            self.process = None


async def sign_in(base_url: str) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
        body = {"email": "owner@example.org", "username": "owner", "password": "correct horse battery"}
        r = await c.post("/api/auth/register", json=body)
        assert r.status_code == 201, r.text
        r = await c.post("/api/auth/login", json={"login": "owner", "password": body["password"]})
        assert r.status_code == 200, r.text
        return str(r.json()["token"])


async def add_camera(base_url: str, token: str, url: str) -> int:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
        r = await c.post(
            "/api/cameras", json={"name": "Porch", "url": url}, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 201, r.text
        return int(r.json()["device_id"])


@contextlib.contextmanager
def tmpfs(mount: Path, size: str) -> Iterator[Path]:
    """A real, small file system; skipped with the reason where mounting is not allowed."""
    mount.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True
    )
    if result.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {result.stderr.decode().strip()}"
        )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@dataclass(frozen=True)
class Row:
    id: int
    path: Path
    start: str
    size: int
    init_size: int
    frames: int
    has_event: bool
    damage: str | None


async def segment_rows(database_url: str) -> list[Row]:
    """The index as it is on disk (own engine: works while the hub runs in another process, or after)."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = (await session.scalars(select(Segment).order_by(Segment.start))).all()
            return [
                Row(
                    r.id,
                    Path(r.path),
                    r.start.isoformat(),
                    r.size,
                    r.init_size,
                    r.frames,
                    r.has_event,
                    r.damage,
                )
                for r in rows
            ]
    finally:
        await engine.dispose()


def decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def unplayable(rows: list[Row]) -> list[str]:
    """Rows served as good whose file is missing, changed, or does not decode every indexed frame."""
    bad = []
    for row in rows:
        if row.damage is not None:
            continue
        reason = check_segment(row.path, row.size, row.init_size)
        if reason is None and decoded_frames(row.path) != row.frames:
            reason = "decodes fewer frames than indexed"
        if reason is not None:
            bad.append(f"{row.path.name}: {reason}")
    return bad


def duplicated(rows: list[Row]) -> int:
    """Index rows beyond the first for one segment start (the same footage indexed twice)."""
    return sum(n - 1 for n in Counter(r.start for r in rows).values())


def report(name: str, produced: int, indexed: int, lost: int, dup: int) -> None:
    print(f"\n[{name}] produced={produced} indexed={indexed} lost={lost} duplicated={dup}")
