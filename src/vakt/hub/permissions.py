"""Per-device permissions (A5): owners have all of them, shared users those their active share grants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.db import utcnow
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


def granted(share: Share) -> frozenset[Permission]:
    """The permissions a share grants (values this hub does not know are ignored)."""
    return frozenset(Permission(p) for p in share.permissions if p in Permission._value2member_map_)


async def resolve_access(session: AsyncSession, user: User, device: Device) -> DeviceAccess | None:
    """The user's access to a device, or None when the device is not visible to them."""
    if device.owner_id == user.id:
        return DeviceAccess(device, user, True, ALL_PERMISSIONS)
    share = await session.scalar(select(Share).where(Share.device_id == device.id, Share.user_id == user.id))
    if share is None or not share_is_active(share):
        return None
    return DeviceAccess(device, user, False, granted(share), share)


async def check_device_access(
    session: AsyncSession, user: User, device_id: int, permission: Permission | None = None
) -> DeviceAccess:
    """Raise 404 when the device is not visible to ``user``, 403 when ``permission`` is lacking.

    Prefer declaring the route's action with ``vakt.hub.authz`` (the permission tests read it back)."""
    from vakt.hub.authz import Need, authorize

    return await authorize(session, user, device_id, Need(permission))


def device_access(permission: Permission | None = None, *, owner_only: bool = False) -> Any:
    """Dependency for routes with ``{device_id}``, through the authorization layer (``vakt.hub.authz``);
    new routes use ``authz.on_device(Action.X)``. ``Depends(device_access(...))`` keeps working."""
    from vakt.hub.authz import Need, device_rule

    dependency: Any = device_rule(Need(permission, owner=owner_only)).dependency
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
        result.append(DeviceAccess(device, user, False, granted(share), share))
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
