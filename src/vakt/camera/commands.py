"""Arguments of the camera's MQTT commands and physical inputs, validated by pydantic (extra keys refused)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_DEFENSE_SECONDS = 60  # C9.2: up to one minute


class SpotlightMode(StrEnum):
    OFF = "off"
    ON = "on"
    FLASH_FAST = "flash_fast"


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SirenArgs(_Args):
    on: bool
    seconds: int = Field(10, ge=1, le=300, description="how long the siren sounds when switched on")


class SpotlightArgs(_Args):
    mode: SpotlightMode
    seconds: int | None = Field(None, ge=1, le=3600, description="switch back off after this long")


class ActiveDefenseArgs(_Args):
    seconds: int = Field(MAX_DEFENSE_SECONDS, ge=1, le=MAX_DEFENSE_SECONDS)


class RecordArgs(_Args):
    on: bool
    seconds: int = Field(60, ge=1, le=3600, description="a manual recording stops by itself after this long")


class SettingsArgs(BaseModel):
    """``camera.settings``: any subset of CameraSettings fields (validated against that model)."""

    model_config = ConfigDict(extra="allow")


class WifiJoinArgs(_Args):
    ssid: str = Field(min_length=1, max_length=32)
    band_ghz: float = Field(2.4, description="C3.1: only 2.4 GHz networks can be joined")


class ViewersArgs(_Args):
    count: int = Field(ge=0, le=10000, description="people watching live in the app now (C1)")


class EmptyArgs(_Args):
    pass


class PanelInput(_Args):
    """``panel.input``: a physical input of the camera (emulator only)."""

    input: Literal["reset_hold", "sd_insert", "sd_remove", "sd_fault", "network", "power", "ethernet"]
    value: str | None = None
    seconds: float | None = Field(None, ge=0, le=3600)
    capacity_mb: int | None = Field(None, ge=1, le=1024 * 1024)


def parse_args(model: type[_Args] | type[SettingsArgs], args: dict[str, Any]) -> Any:
    """Validate ``args``; raise ValueError with ``field: reason`` when they are wrong."""
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "args"
        raise ValueError(f"{where}: {first['msg']}") from None
