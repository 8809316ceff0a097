"""Devices (A2, A3, G4, G5): add by QR label, list with live state, rename, delete.

Adding a gateway or camera checks its verification code with the device itself (vakt.hub.device_proof):
a code the device disproves is a 422 and nothing is bound; an unproven claim yields to a proven one.
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from vakt.hub.api_types import DeviceName, RoomName, RowRef
from vakt.hub.auth import CurrentUser
from vakt.hub.broker_sync import BrokerSync
from vakt.hub.db import DbSession, utcnow
from vakt.hub.device_proof import (
    PROVABLE_KINDS,
    Proof,
    device_is_trying,
    proof_limiter,
    proof_window,
    prove_code,
)
from vakt.hub.devices import DeviceOut, device_out, kind_from_model
from vakt.hub.errors import errors
from vakt.hub.models.devices import Device
from vakt.hub.mqtt import CommandError
from vakt.hub.permissions import ALL_PERMISSIONS, DeviceAccess, Permission, device_access, visible_devices
from vakt.hub.quotas import ensure_camera_room
from vakt.protocol import DeviceKind, DeviceLabel, QrError, parse_qr

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/devices", tags=["devices"])
WRONG_CODE = "qr: the verification code does not match this device; check the code on its label"


class DeviceAddIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    qr: str = Field(
        min_length=1, max_length=256, description="the scanned QR label: VAKT:1;S=...;C=...;M=..."
    )
    name: DeviceName = Field(default="", description="empty: the kind and serial")
    kind: DeviceKind | None = Field(default=None, description="only when the model does not tell")
    gateway_id: RowRef | None = Field(default=None, description="a lock's gateway (G5); required for a lock")


class DevicePatchIn(BaseModel):
    """A rename, a move to another room, or both; what is left out stays as it is."""

    model_config = ConfigDict(extra="forbid")
    name: DeviceName | None = Field(default=None, min_length=1)
    room: RoomName | None = Field(default=None, description="where it is installed; empty: no room")


class DeviceAboutOut(BaseModel):
    """A device's About (C6): what its label and its own reports say, and where it is installed."""

    id: int
    kind: str
    name: str
    model: str
    serial: str
    firmware: str | None = Field(description="as the device reports it; None: it does not say")
    room: str
    added_at: datetime
    # The owner's alone: the payload holds the verification code (A2).
    qr: str | None = Field(description="the label's QR payload, to add the device again")


async def _sync_broker(request: Request, session: DbSession) -> None:
    broker: BrokerSync = request.app.state.broker_sync
    await broker.sync(session)


@router.get("", response_model=list[DeviceOut])
async def list_devices(user: CurrentUser, session: DbSession) -> list[DeviceOut]:
    """Every device the user owns or has an active share of, with its live state (A3)."""
    return [device_out(a) for a in await visible_devices(session, user)]


@router.post("", response_model=DeviceOut, status_code=status.HTTP_201_CREATED, responses=errors(409))
async def add_device(body: DeviceAddIn, request: Request, user: CurrentUser, session: DbSession) -> DeviceOut:
    """Add a device by its QR label (A2, G4); a lock needs its gateway (G5)."""
    try:
        label = parse_qr(body.qr)
    except QrError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"qr: {exc}") from None
    model_kind = kind_from_model(label.model)
    if body.kind is not None and model_kind is not None and body.kind is not model_kind:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"kind: model {label.model} is a {model_kind.value}"
        )
    kind = body.kind or model_kind
    if kind is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"kind: model {label.model!r} is unknown; give the kind"
        )
    parent: Device | None = None
    if kind is DeviceKind.LOCK:
        if body.gateway_id is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "gateway_id: a lock is added with its gateway"
            )
        parent = await session.get(Device, body.gateway_id)
        if parent is None or parent.owner_id != user.id or parent.kind != DeviceKind.GATEWAY:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"gateway_id: no gateway {body.gateway_id} in your account",
            )
    elif body.gateway_id is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "gateway_id: only a lock has a gateway")
    if kind is DeviceKind.CAMERA:
        await ensure_camera_room(session, request.app.state.settings, user.id)
    limiter = proof_limiter(request.app)
    if wait := await limiter.retry_after(session, label.serial, user.id):
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many wrong verification codes for {label.serial}; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    existing = await session.scalar(select(Device).where(Device.serial == label.serial))
    proof = await _check_code(request, session, label, kind, existing, user.id)
    replaced: tuple[int, set[int]] | None = None
    if existing is not None:  # an unproven claim in another account yields to the proven code
        log.warning(
            "device %s: unproven claim of account %d replaced by a proven add",
            label.serial,
            existing.owner_id,
        )
        replaced = (existing.id, await request.app.state.bus.audience(existing.id))
        await session.delete(existing)
        await session.flush()
    device = Device(
        serial=label.serial,
        kind=kind.value,
        model=label.model,
        name=body.name or f"{kind.value.capitalize()} {label.serial}",
        owner_id=user.id,
        parent_id=parent.id if parent else None,
        state={},
        code_encrypted=request.app.state.broker_sync.box.encrypt(label.code, label.serial),
        verified_at=utcnow() if proof is Proof.PROVEN else None,
    )
    session.add(device)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        await _sync_broker(request, session)  # a claim registered for the proof goes again
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"device {label.serial} is already in an account; it must be deleted there first",
        ) from None
    await _sync_broker(request, session)
    if replaced is not None:
        old_id, audience = replaced
        request.app.state.bus.invalidate(old_id)
        await request.app.state.bus.publish(
            {"type": "device.deleted", "device_id": old_id}, user_ids=audience
        )
    request.app.state.mqtt.refresh_soon(label.serial, kind.value)
    return device_out(DeviceAccess(device, user, True, ALL_PERMISSIONS))


async def _check_code(
    request: Request,
    session: DbSession,
    label: DeviceLabel,
    kind: DeviceKind,
    existing: Device | None,
    user_id: int,
) -> Proof:
    """Prove the code when the device can tell (A2, issue 11); raise 409/422 when the add must not go on.

    A serial already bound is a 409 unless its claim is unproven, in another account, and this code is
    proven now. A new gateway or camera is asked when the broker saw it try to log in lately; one that is
    offline is bound unproven (vakt.hub.device_proof proves it when it comes online).
    """
    sync: BrokerSync = request.app.state.broker_sync
    provable = kind.value in PROVABLE_KINDS and sync.enabled
    taken = HTTPException(
        status.HTTP_409_CONFLICT,
        f"device {label.serial} is already in an account; it must be deleted there first",
    )
    if existing is not None and (
        existing.verified_at is not None or existing.owner_id == user_id or not provable
    ):
        raise taken
    if not provable or (existing is None and not device_is_trying(sync, label.serial)):
        return Proof.SILENT
    await sync.sync(session, claims={label.serial: label.code})
    since = time.monotonic() + 0.5  # a login already on its way when the claim was registered is no verdict
    proof = Proof.SILENT
    try:
        window = proof_window(request.app)
        proof = await prove_code(request.app.state.mqtt, sync, label.serial, label.code, since, window)
    finally:
        if proof is not Proof.PROVEN:
            await sync.sync(session)  # back to what the database says: nothing bound
    if proof is Proof.PROVEN:
        return proof
    await proof_limiter(request.app).fail(session, label.serial, user_id)
    if proof is Proof.WRONG_CODE:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, WRONG_CODE)
    if existing is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"device {label.serial} is already in an account, where it has not proven its code; switch it "
            "on and connect it, then add it again so that its code can be checked",
        )
    return proof


@router.get("/{device_id}", response_model=DeviceOut)
async def get_device(access: Annotated[DeviceAccess, Depends(device_access())]) -> DeviceOut:
    return device_out(access)


@router.patch("/{device_id}", response_model=DeviceOut)
async def rename_device(
    body: DevicePatchIn,
    access: Annotated[DeviceAccess, Depends(device_access(Permission.SETTINGS))],
    session: DbSession,
    request: Request,
) -> DeviceOut:
    if body.name is not None:
        access.device.name = body.name
    if body.room is not None:
        access.device.room = body.room
    await session.commit()
    # voice assistants must learn the new name (C11.2): Alexa AddOrUpdateReport, Google Request Sync
    await request.app.state.bus.publish(
        {"type": "device.renamed", "device_id": access.device.id, "name": body.name}, access.device.id
    )
    return device_out(access)


@router.get("/{device_id}/about", response_model=DeviceAboutOut)
async def device_about(
    access: Annotated[DeviceAccess, Depends(device_access())], request: Request
) -> DeviceAboutOut:
    device = access.device
    firmware = (device.state or {}).get("firmware")
    qr = None
    if access.is_owner and device.code_encrypted:
        code = request.app.state.broker_sync.box.decrypt(device.code_encrypted, device.serial)
        with contextlib.suppress(ValidationError):  # a camera added by RTSP address has no label
            qr = DeviceLabel(serial=device.serial, code=code, model=device.model).to_qr()
    return DeviceAboutOut(
        id=device.id,
        kind=device.kind,
        name=device.name,
        model=device.model,
        serial=device.serial,
        firmware=firmware if isinstance(firmware, str) else None,
        room=device.room or "",
        added_at=device.created_at,
        qr=qr,
    )


class PairOut(BaseModel):
    paired: bool
    detail: str


@router.post("/{device_id}/pair", response_model=PairOut, responses=errors(409, 504))
async def pair_lock(
    request: Request,
    access: Annotated[DeviceAccess, Depends(device_access(Permission.SETTINGS))],
    session: DbSession,
) -> PairOut:
    """G5: with the lock in pairing mode (hold RESET 3 s, L12.2), its gateway pairs it (``gateway.pair``)."""
    lock = access.device
    gateway = await session.get(Device, lock.parent_id) if lock.parent_id is not None else None
    if lock.kind != DeviceKind.LOCK or gateway is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"device {lock.id} is not a lock with a gateway")
    try:
        ack = await request.app.state.mqtt.send_command(
            gateway.serial, "gateway.pair", {"serial": lock.serial}
        )
    except CommandError as exc:
        raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, f"gateway did not answer: {exc}") from None
    if not ack.ok:
        return PairOut(paired=False, detail=ack.error or "the gateway refused")
    return PairOut(paired=True, detail=f"lock {lock.serial} paired with gateway {gateway.serial}")


@router.delete("/{device_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_device(
    request: Request,
    access: Annotated[DeviceAccess, Depends(device_access(owner_only=True))],
    session: DbSession,
) -> None:
    """Delete a device (A2): its shares and events go with it, its broker account is removed; a camera's
    recordings on the hub are deleted with it (the app asks first), so none is left without its camera."""
    serial, device_id = access.device.serial, access.device.id
    audience = await request.app.state.bus.audience(device_id)
    is_camera = access.device.kind == DeviceKind.CAMERA
    await session.delete(access.device)
    await session.commit()
    # Told first: open sockets close with "removed" (4404) before the camera's stream ends under them.
    request.app.state.bus.invalidate(device_id)
    await request.app.state.bus.publish({"type": "device.deleted", "device_id": device_id}, user_ids=audience)
    cameras = getattr(request.app.state, "cameras", None)
    if is_camera and cameras is not None:
        await cameras.reconcile()  # its recording stops now and its footage goes with it, nothing orphaned
    await _sync_broker(request, session)
    request.app.state.mqtt.directory.forget(serial)
