"""The gateway emulator's configuration and what it remembers in its data folder."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from vakt.gateway.led import NetworkConfig
from vakt.gateway.radio import Placement
from vakt.protocol.topics import SERIAL_PATTERN

log = logging.getLogger(__name__)


class GatewayConfig(BaseModel):
    serial: str = Field(pattern=SERIAL_PATTERN.pattern)
    code: str = Field(pattern=r"^[A-Za-z0-9]{6,32}$", description="verification code on the QR label")
    model: str = "VG-1"
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = Field(1883, ge=1, le=65535)
    mqtt_ca: Path | None = Field(None, description="CA certificate: connect with TLS and verify the broker")
    data_dir: Path
    network: Literal["wired", "wifi", "none"] = Field(
        "wired", description="at first power-on: a cable in the LAN port, Wi-Fi credentials, or neither (G2)"
    )
    wifi_ssid: str | None = None
    wifi_password: str | None = None
    lock_serial: str | None = Field(None, pattern=SERIAL_PATTERN.pattern, description="the lock in range")
    lock_code: str | None = Field(None, pattern=r"^[A-Za-z0-9]{6,32}$")
    lock_model: str = "VL-100"
    pair_on_start: bool = Field(True, description="pair the lock at once, as after the app's guide (G5)")
    placement: Placement = Field(default_factory=Placement)
    radio_seed: int = 0
    tick_interval: float = Field(0.2, gt=0, le=5, description="seconds between firmware ticks")
    boot_seconds: float = Field(2.0, ge=0, le=60, description="LED solid orange after power-on (G1)")
    resend_after: float = Field(
        5.0,
        gt=0,
        le=60,
        description="seconds without a receipt before unconfirmed events go again (G7)",
    )


class GatewayMemory(BaseModel):
    """Persisted in ``<data>/gateway.json``: survives a restart of the gateway."""

    network: NetworkConfig = Field(default_factory=NetworkConfig)
    paired: list[str] = Field(default_factory=list)
    placements: dict[str, Placement] = Field(default_factory=dict)
    initialised: bool = False

    @classmethod
    def load(cls, path: Path) -> GatewayMemory:
        if not path.exists():
            return cls()
        try:
            return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, ValidationError) as exc:
            broken = path.with_suffix(".broken")
            os.replace(path, broken)
            log.error("gateway memory %s unreadable (%s); kept as %s, starting fresh", path, exc, broken)
            return cls()

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(self.model_dump_json(indent=2))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
