"""Per-account limits on what an account may add (each camera costs the hub a stream, recordings and
analysis, so one account cannot exhaust the hub for the others)."""

from __future__ import annotations

from fastapi import HTTPException, status
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.models.devices import Device
from vakt.hub.settings import HubSettings


async def ensure_camera_room(session: AsyncSession, settings: HubSettings, user_id: int) -> None:
    """409 when the account already has ``max_cameras_per_account`` cameras."""
    cameras = await session.scalar(
        select(func.count()).select_from(Device).where(Device.owner_id == user_id, Device.kind == "camera")
    )
    if (cameras or 0) >= settings.max_cameras_per_account:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"this account has {cameras} cameras, the most this hub allows "
            f"(VAKT_MAX_CAMERAS_PER_ACCOUNT={settings.max_cameras_per_account}); delete one first",
        )
