"""How one emulated camera is set up: identity, source, ports, broker, data folder."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from vakt.protocol.topics import SERIAL_PATTERN

MODEL = "VC-300"
FIRMWARE = "V5.3.6 build 210602"


class CameraConfig(BaseModel):
    """The emulator's start-up configuration (the device's settings live in CameraSettings)."""

    model_config = ConfigDict(frozen=True)

    serial: str = Field("VC30000001", pattern=SERIAL_PATTERN.pattern, description="serial number (QR label)")
    code: str = Field("ABCDEF", pattern=r"^[A-Za-z0-9]{6,32}$", description="verification code (QR label)")
    model: str = MODEL
    firmware: str = FIRMWARE
    video: Path | None = Field(None, description="video file to stream in a loop; None: the generated scene")
    host: str = Field("127.0.0.1", description="address the RTSP and HTTP servers listen on")
    public_host: str | None = Field(None, description="address put in the reported URLs; default: host")
    rtsp_port: int = Field(8554, ge=0, le=65535, description="0: any free port")
    http_port: int | None = Field(0, ge=0, le=65535, description="snapshot/speaker HTTP port; None: no HTTP")
    mqtt_host: str | None = Field(None, description="broker; None: RTSP only, no control plane")
    mqtt_port: int = Field(1883, ge=1, le=65535)
    mqtt_password: str | None = Field(None, description="default: derived from the verification code")
    data_dir: Path = Field(Path("camera-data"), description="SD card, speaker recordings, settings, cache")
    cache: Path | None = Field(
        None, description="start-up transcodes; default $VAKT_CACHE_DIR or ~/.cache/vakt/camera (shared)"
    )
    sd_capacity_mb: int = Field(256, ge=1, le=1024 * 1024, description="emulated micro SD card size")
    sd_inserted: bool = True
    motion_detection: bool = Field(
        False, description="the camera's own motion detection on the sub-stream, recording to the card (C4.3)"
    )
    boot_seconds: float = Field(1.0, ge=0, le=60, description="time spent starting up (LED solid red)")
    sd_format_seconds: float = Field(1.0, ge=0, le=60, description="time spent initializing a card")

    @property
    def cache_dir(self) -> Path:
        """Transcodes are keyed by source path, size and mtime, so one cache serves every camera."""
        if self.cache is not None:
            return self.cache
        if os.environ.get("VAKT_CACHE_DIR"):
            return Path(os.environ["VAKT_CACHE_DIR"]) / "camera"
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return base / "vakt" / "camera"
