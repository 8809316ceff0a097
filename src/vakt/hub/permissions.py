"""Per-device permissions (A5): owners have all of them, shared users those their active share grants."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fastapi import HTTPException, status
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.api_types import DeviceId
from vakt.hub.auth import CurrentUser
from vakt.hub.db import DbSession, utcnow
from vakt.hub.models.devices import Device, Share
from vakt.hub.models.users import User


class Permission(StrEnum):
    LIVE_VIEW = "live_view"
    HISTORY = "history"
    TALK = "talk"
    UNLOCK = "unlock"
    SETTINGS = "settings"


ALL_PERMISSIONS = frozenset(Permission)


@dataclass(frozen=True, slots=True)
class DeviceAccess:
    """What ``user`` may do with ``device``; ``share`` is None for the owner."""

    device: Device
    user: User
    is_owner: bool
    permissions: frozenset[Permission]
    share: Share | None = None

    @property
    def history_since(self) -> datetime | None:
        """A shared user sees history only from the share's start (A5); None: no limit (owner)."""
        return None if self.share is None else self.share.created_at

    def allows(self, permission: Permission) -> bool:
        return permission in self.permissions


def share_is_active(share: Share, now: datetime | None = None) -> bool:
    return share.expires_at is None or share.expires_at > (now or utcnow())


def active_share_clause(now: datetime) -> ColumnElement[bool]:
    return or_(Share.expires_at.is_(None), Share.expires_at > now)


async def resolve_access(session: AsyncSession, user: User, device: Device) -> DeviceAccess | None:
    """The user's access to a device, or None when the device is not visible to them."""
    if device.owner_id == user.id:
        return DeviceAccess(device, user, True, ALL_PERMISSIONS)
    share = await session.scalar(select(Share).where(Share.device_id == device.id, Share.user_id == user.id))
    if share is None or not share_is_active(share):
        return None
    granted = frozenset(Permission(p) for p in share.permissions if p in Permission._value2member_map_)
    return DeviceAccess(device, user, False, granted, share)


async def check_device_access(
    session: AsyncSession, user: User, device_id: int, permission: Permission | None = None
) -> DeviceAccess:
    """Raise 404 when the device is not visible to ``user``, 403 when ``permission`` is lacking."""
    device = await session.get(Device, device_id)
    access = None if device is None else await resolve_access(session, user, device)
    if access is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"device {device_id} not found")
    if permission is not None and not access.allows(permission):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"permission '{permission.value}' is needed for device {device_id}"
        )
    return access


def device_access(
    permission: Permission | None = None, *, owner_only: bool = False
) -> Callable[..., Awaitable[DeviceAccess]]:
    """Dependency factory: reads the path parameter ``device_id``; ``permission=None``: any access."""

    async def dependency(device_id: DeviceId, user: CurrentUser, session: DbSession) -> DeviceAccess:
        access = await check_device_access(session, user, device_id, permission)
        if owner_only and not access.is_owner:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"only the owner of device {device_id} may do this"
            )
        return access

    return dependency


async def visible_devices(session: AsyncSession, user: User) -> list[DeviceAccess]:
    """Every device the user owns or has an active share of, with the access to each."""
    now = utcnow()
    owned = (await session.scalars(select(Device).where(Device.owner_id == user.id))).all()
    result = [DeviceAccess(d, user, True, ALL_PERMISSIONS) for d in owned]
    rows = await session.execute(
        select(Device, Share)
        .join(Share, Share.device_id == Device.id)
        .where(Share.user_id == user.id, active_share_clause(now))
    )
    for device, share in rows.all():
        granted = frozenset(Permission(p) for p in share.permissions if p in Permission._value2member_map_)
        result.append(DeviceAccess(device, user, False, granted, share))
    result.sort(key=lambda a: a.device.id)
    return result


async def users_allowed(
    session: AsyncSession, device_id: int, permission: Permission | None = None
) -> set[int]:
    """Ids of the accounts that may see ``device_id`` (with ``permission`` when given)."""
    device = await session.get(Device, device_id)
    if device is None:
        return set()
    allowed = {device.owner_id}
    shares = await session.scalars(
        select(Share).where(Share.device_id == device_id, active_share_clause(utcnow()))
    )
    for share in shares:
        if permission is None or permission.value in share.permissions:
            allowed.add(share.user_id)
    return allowed
