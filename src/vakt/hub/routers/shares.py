"""Sharing (A5): the owner shares a device with another account, with permissions, optionally until a time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, or_, select

from vakt.hub.api_types import Instant, ShareId
from vakt.hub.auth import CurrentUser
from vakt.hub.authz import Action, on_device
from vakt.hub.db import DbSession, utcnow
from vakt.hub.errors import errors
from vakt.hub.models.devices import Device, Share
from vakt.hub.models.users import User
from vakt.hub.permissions import DeviceAccess, Permission, share_is_active

router = APIRouter(prefix="/api", tags=["shares"])
OwnerAccess = Annotated[DeviceAccess, on_device(Action.MANAGE)]


class ShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str = Field(min_length=1, max_length=254, description="the other account's username or e-mail")
    permissions: list[Permission] = Field(description="live_view, history, talk, unlock, settings")
    expires_at: Instant | None = Field(default=None, description="the share ends at this time")


class SharePatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    permissions: list[Permission] | None = None
    expires_at: Instant | None = None


class ShareOut(BaseModel):
    id: int
    device_id: int
    device_name: str
    user_id: int
    username: str
    permissions: list[Permission]
    created_at: datetime
    expires_at: datetime | None
    active: bool


def _share_out(share: Share, device: Device, user: User) -> ShareOut:
    return ShareOut(
        id=share.id,
        device_id=device.id,
        device_name=device.name,
        user_id=user.id,
        username=user.username,
        permissions=sorted(Permission(p) for p in share.permissions),
        created_at=share.created_at,
        expires_at=share.expires_at,
        active=share_is_active(share),
    )


def _check_expiry(expires_at: datetime | None) -> None:
    if expires_at is not None and expires_at <= utcnow():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "expires_at: must be in the future")


@router.get("/devices/{device_id}/shares", response_model=list[ShareOut])
async def list_shares(access: OwnerAccess, session: DbSession) -> list[ShareOut]:
    rows = await session.execute(
        select(Share, User).join(User, User.id == Share.user_id).where(Share.device_id == access.device.id)
    )
    return [_share_out(share, access.device, user) for share, user in rows.all()]


@router.post(
    "/devices/{device_id}/shares",
    response_model=ShareOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(409),
)
async def create_share(body: ShareIn, access: OwnerAccess, request: Request, session: DbSession) -> ShareOut:
    _check_expiry(body.expires_at)
    name = body.user.strip().lower()
    other = await session.scalar(
        select(User).where(or_(User.email == name, func.lower(User.username) == name))
    )
    if other is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account named {body.user!r}")
    if other.id == access.user.id:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "user: you own this device already")
    existing = await session.scalar(
        select(Share).where(Share.device_id == access.device.id, Share.user_id == other.id)
    )
    if existing is not None:
        if share_is_active(existing):
            raise HTTPException(status.HTTP_409_CONFLICT, f"device is already shared with {other.username}")
        await session.delete(existing)  # an expired share is replaced; history starts again from now
        await session.flush()
    share = Share(
        device_id=access.device.id,
        user_id=other.id,
        permissions=sorted({p.value for p in body.permissions}),
        created_at=utcnow(),
        expires_at=body.expires_at,
    )
    session.add(share)
    await session.commit()
    await _changed(request, share, "share.created")
    return _share_out(share, access.device, other)


async def _changed(request: Request, share: Share, kind: str, **extra: Any) -> None:
    """The other account's app updates its device list at once (A8); open live and talk sockets of that
    account are re-checked (``vakt.hub.authz.watch``), in every hub process."""
    bus = request.app.state.bus
    bus.invalidate(share.device_id)
    message: dict[str, Any] = {"type": kind, "device_id": share.device_id, **extra}
    if kind != "share.revoked":
        message["permissions"] = sorted(share.permissions)
        message["expires_at"] = None if share.expires_at is None else share.expires_at.isoformat()
    await bus.publish(message, user_ids={share.user_id})


async def _owned_share(access: DeviceAccess, share_id: int, session: DbSession) -> tuple[Share, User]:
    share = await session.get(Share, share_id)
    if share is None or share.device_id != access.device.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"share {share_id} not found")
    user = await session.get(User, share.user_id)
    assert user is not None
    return share, user


@router.patch("/devices/{device_id}/shares/{share_id}", response_model=ShareOut)
async def update_share(
    share_id: ShareId, body: SharePatchIn, access: OwnerAccess, request: Request, session: DbSession
) -> ShareOut:
    share, user = await _owned_share(access, share_id, session)
    if "permissions" in body.model_fields_set and body.permissions is not None:
        share.permissions = sorted({p.value for p in body.permissions})
    if "expires_at" in body.model_fields_set:
        _check_expiry(body.expires_at)
        share.expires_at = body.expires_at
    await session.commit()
    await _changed(request, share, "share.updated")
    return _share_out(share, access.device, user)


@router.delete("/devices/{device_id}/shares/{share_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_share(share_id: ShareId, access: OwnerAccess, request: Request, session: DbSession) -> None:
    share, _ = await _owned_share(access, share_id, session)
    await session.delete(share)
    await session.commit()
    await _changed(request, share, "share.revoked", reason="revoked")


@router.get("/shares/received", response_model=list[ShareOut])
async def received_shares(user: CurrentUser, session: DbSession) -> list[ShareOut]:
    """Devices other accounts share with the signed-in user (active and expired)."""
    rows = await session.execute(
        select(Share, Device).join(Device, Device.id == Share.device_id).where(Share.user_id == user.id)
    )
    return [_share_out(share, device, user) for share, device in rows.all()]
