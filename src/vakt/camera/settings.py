"""The camera's own settings (C6), as one bounded, documented model; the web app builds its forms from
this model's JSON schema, the emulator validates ``camera.settings`` commands with it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vakt.camera.config import FIRMWARE


class DateFormat(StrEnum):
    YMD = "YYYY-MM-DD"
    DMY = "DD-MM-YYYY"
    MDY = "MM-DD-YYYY"
    DMY_DOT = "DD.MM.YYYY"
    DMY_SLASH = "DD/MM/YYYY"
    MDY_SLASH = "MM/DD/YYYY"


class CameraSettings(BaseModel):
    """Settings that belong to the device (C6). ``device_version`` is read-only (reported, never set)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    name: str = Field(
        "Camera",
        min_length=1,
        max_length=64,
        title="Device name",
        description="About: the name shown in the app",
    )
    location: str = Field(
        "", max_length=64, title="Location", description="About: where the camera is installed (C6)"
    )
    audio: bool = Field(True, title="Audio", description="Off: no sound in live or recorded video (C6)")
    status_light: bool = Field(
        True, title="Status Light", description="Off: the status LED stays dark (C1.1)"
    )
    alarm_notification: bool = Field(
        True, title="Alarm Notification", description="Off: no notification when a target is detected (C6)"
    )
    time_zone: str = Field(
        "UTC",
        min_length=1,
        max_length=64,
        title="Time Zone",
        description="IANA time zone for the on-screen time and the calendar (C6)",
    )
    date_format: DateFormat = Field(
        DateFormat.YMD, title="Date Format", description="How dates are written on screen and in the app (C6)"
    )
    flip_image: bool = Field(
        False,
        title="Flip Image",
        description="Turns the video upside down (C6): every stream, recording and snapshot",
    )
    offline_notification: bool = Field(
        False,
        title="Offline Notification",
        description="On: the app is notified when the camera goes offline (C6)",
    )
    intelligent_human_detection: bool = Field(
        True,
        title="Intelligent Human Detection",
        description="On: the app is notified when a human is detected (C8.1)",
    )
    detection_sensitivity: int = Field(
        50,
        ge=1,
        le=100,
        title="Detection sensitivity",
        description="Higher: people farther away are detected; lower: fewer false alarms (C8.2)",
    )
    image_encryption: bool = Field(
        False,
        title="Image Encryption",
        description="On: images and videos need the encryption password to be seen (C6); the hub encrypts",
    )
    motion_recording: bool = Field(
        True, title="Record on motion", description="Record to the micro SD card on detected motion (C4.3)"
    )
    device_version: str = Field(
        FIRMWARE,
        title="Device Version",
        description="Firmware version (read-only)",
        json_schema_extra={"readOnly": True},
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value


READ_ONLY = frozenset({"device_version"})


def apply_changes(current: CameraSettings, changes: dict[str, Any]) -> CameraSettings:
    """A new settings object with ``changes`` applied; raises ValueError naming the bad field."""
    read_only = READ_ONLY & changes.keys()
    if read_only:
        raise ValueError(f"read-only setting(s): {', '.join(sorted(read_only))}")
    unknown = changes.keys() - CameraSettings.model_fields.keys()
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    return CameraSettings.model_validate({**current.model_dump(), **changes})


_DATE_PATTERNS = {
    DateFormat.YMD: "%Y-%m-%d",
    DateFormat.DMY: "%d-%m-%Y",
    DateFormat.MDY: "%m-%d-%Y",
    DateFormat.DMY_DOT: "%d.%m.%Y",
    DateFormat.DMY_SLASH: "%d/%m/%Y",
    DateFormat.MDY_SLASH: "%m/%d/%Y",
}


def camera_time(moment: datetime, settings: CameraSettings) -> str:
    """The on-screen time (C6): ``moment`` in the camera's time zone, in its date format."""
    local = moment.astimezone(ZoneInfo(settings.time_zone))
    return local.strftime(f"{_DATE_PATTERNS[settings.date_format]} %H:%M:%S")


def time_zone_names() -> list[str]:
    return sorted(available_timezones())
