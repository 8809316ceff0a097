"""Voice assistants (C11, V1-V2): which devices an account exposes to them, in one rule.

Alexa and Google act as the account that linked them: they see what the account may do (A5), and
never a camera whose images are encrypted (C11.1, C11.2): the assistant could not show its video.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.models.devices import Device
from vakt.hub.models.users import User
from vakt.hub.permissions import DeviceAccess, Permission, visible_devices

# What an assistant does with each kind of device, and the permission that takes (A5).
EXPOSED_KINDS: dict[str, Permission] = {"lock": Permission.UNLOCK, "camera": Permission.LIVE_VIEW}


def camera_settings(state: dict[str, Any] | None) -> dict[str, Any]:
    """The camera's own settings (C6) in its reported state."""
    settings = (state or {}).get("settings")
    return settings if isinstance(settings, dict) else {}


def settings_encrypted(state: dict[str, Any] | None) -> bool:
    return camera_settings(state).get("image_encryption") is True


def settings_audio(state: dict[str, Any] | None) -> bool:
    return camera_settings(state).get("audio", True) is not False


def image_encrypted(device: Device) -> bool:
    """Image Encryption on (C6): images need a password the assistant does not have (C11.1)."""
    return settings_encrypted(device.state)


def audio_on(device: Device) -> bool:
    """Google shows a camera only with its audio on (C11.2)."""
    return settings_audio(device.state)


def is_exposed(access: DeviceAccess) -> bool:
    """THE rule: a lock or camera the account may operate or watch, and no encrypted camera."""
    needed = EXPOSED_KINDS.get(access.device.kind)
    if needed is None or not access.allows(needed):
        return False
    return not (access.device.kind == "camera" and image_encrypted(access.device))


async def exposed_devices(session: AsyncSession, user: User) -> list[DeviceAccess]:
    """The devices an assistant linked by ``user`` sees, in id order."""
    return [access for access in await visible_devices(session, user) if is_exposed(access)]


@dataclass(frozen=True, slots=True)
class ExposedOut:
    """A device as the consent screen lists it."""

    id: int
    name: str
    kind: str


def display_name(device: Device) -> str:
    return device.name or device.serial
