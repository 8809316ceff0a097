"""A real emulated camera (vakt.camera) in its own process, so a test can kill it and bring it back."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = """
import asyncio, logging, sys
from pathlib import Path
from vakt.camera.config import CameraConfig
from vakt.camera.emulator import CameraEmulator
logging.basicConfig(level=logging.WARNING)
async def main():
    cfg = CameraConfig(serial=sys.argv[4], code=sys.argv[5], video=Path(sys.argv[2]),
                       rtsp_port=int(sys.argv[1]), http_port=None, data_dir=Path(sys.argv[3]), boot_seconds=0,
                       mqtt_host="127.0.0.1" if sys.argv[6] != "0" else None,
                       mqtt_port=int(sys.argv[6]) or 1883)
    emulator = CameraEmulator(cfg)
    await emulator.start()
    print("READY", flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


class CameraProcess:
    """`rtsp://admin:<code>@127.0.0.1:<port>/live` served by the camera emulator in a child process."""

    def __init__(
        self,
        video: Path,
        data_dir: Path,
        port: int,
        serial: str = "VC30000042",
        code: str = "VERIFY1234",
        mqtt_port: int = 0,
    ) -> None:
        self.video, self.data_dir, self.port, self.serial, self.code = video, data_dir, port, serial, code
        self.mqtt_port = mqtt_port
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://admin:{self.code}@127.0.0.1:{self.port}/live"

    def start(self, timeout: float = 60.0) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SCRIPT,
                str(self.port),
                str(self.video),
                str(self.data_dir),
                self.serial,
                self.code,
                str(self.mqtt_port),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        line = self.process.stdout.readline()
        if "READY" not in line or time.monotonic() > deadline:
            err = self.process.stderr.read() if self.process.stderr else ""
            raise RuntimeError(f"camera emulator did not start: {line} {err}")

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    def kill(self) -> None:
        """Pull the plug: SIGKILL, no goodbye to connected clients."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None
