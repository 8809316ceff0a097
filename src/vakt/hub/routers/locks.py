"""Lock screens (A7): state, operation log, alarms, credentials, normally-open mode, volume, remote unlock.

Permissions (A5): any access sees the state; ``history`` the log and alarms (from the share's start);
``settings`` credentials, mode and volume; ``unlock`` remote lock/unlock, behind the user's PIN.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, status
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from vakt.hub.api_types import CredentialId, Instant, PersonName
from vakt.hub.db import DbSession, utcnow
from vakt.hub.devices import summarize_state
from vakt.hub.errors import errors
from vakt.hub.locks import (
    LOG_TYPES,
    OPERATION_TYPES,
    REMOTE_COMMAND,
    Operation,
    operation_log,
    reconcile,
    uses_of,
)
from vakt.hub.models.devices import Device, DeviceEvent
from vakt.hub.models.locks import CredentialKind, LockCredential, SyncState
from vakt.hub.mqtt import CommandError, HubMqtt
from vakt.hub.permissions import DeviceAccess, Permission, device_access
from vakt.hub.unlock_pin import check_unlock_pin
from vakt.lock import EventType, UserType
from vakt.protocol import Ack, Event, seal

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/locks", tags=["locks"])


def lock_access(permission: Permission | None = None) -> Any:
    base = device_access(permission)

    # A default, not Annotated: the annotation is a string and could not see the local ``base``.
    async def dependency(access: DeviceAccess = Depends(base)) -> DeviceAccess:
        if access.device.kind != "lock":
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"device {access.device.id} is not a lock")
        return access

    return Depends(dependency)


AnyAccess = Annotated[DeviceAccess, lock_access()]
HistoryAccess = Annotated[DeviceAccess, lock_access(Permission.HISTORY)]
SettingsAccess = Annotated[DeviceAccess, lock_access(Permission.SETTINGS)]
UnlockAccess = Annotated[DeviceAccess, lock_access(Permission.UNLOCK)]


class LockOut(BaseModel):
    device_id: int
    name: str
    online: bool
    lock_state: str | None
    battery: float | None
    operating_mode: str | None
    volume: str | None
    alarms: list[str]
    rssi: float | None
    memory_damaged: str | None = Field(
        None, description="the lock cannot read its memory: it stays locked until restored or reset"
    )


class AlarmOut(BaseModel):
    event_id: str
    ts: datetime
    alarm_code: str | None
    active: bool


class CredentialOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: CredentialKind
    number: int | None
    user_name: str
    user_type: str
    administrator: bool = Field(False, description="opens the lock's menu (Matter ProgrammingUser, L2.3)")
    sync_state: SyncState
    error: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    max_uses: int | None
    uses: int | None = Field(None, description="unlocks so far, as the lock counts them")
    uses_left: int | None = Field(None, description="unlocks left of max_uses; 0 = used up (A7)")
    created_at: datetime


def _credential_out(
    row: LockCredential, uses: dict[tuple[str, int], tuple[int, int | None]]
) -> CredentialOut:
    """A row as the API shows it, with the uses the lock counted (``uses_of`` its state)."""
    out = CredentialOut.model_validate(row)
    out.administrator = row.user_type == UserType.ProgrammingUser
    counted = uses.get((row.kind, row.number)) if row.number is not None else None
    if counted is not None:
        out.uses, out.uses_left = counted
    elif row.max_uses is not None:
        out.uses_left = row.max_uses  # not on the lock yet: nothing used
    return out


class CredentialIn(BaseModel):
    """A door code (6-10 digits, L5.2) or a card to provision; optional time window / uses (temporary)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["code", "card"]
    user_name: PersonName = Field(description="whose credential it is")
    code: str | None = Field(default=None, pattern=r"^[0-9]{6,10}$", description="door code; sent sealed")
    card_uid: str | None = Field(default=None, pattern=r"^[A-Za-z0-9:_-]{1,64}$")
    valid_from: Instant | None = None
    valid_until: Instant | None = None
    max_uses: int | None = Field(default=None, ge=1, le=10_000)

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, raw: Any) -> Any:
        """Also accept the Matter spelling: credential_type PIN/RFID, name, secret."""
        if not isinstance(raw, dict) or "kind" in raw:
            return raw
        data = dict(raw)
        matter = data.pop("credential_type", None)
        if matter is not None:
            data["kind"] = {"PIN": "code", "RFID": "card"}.get(str(matter), matter)
        if "name" in data and "user_name" not in data:
            data["user_name"] = data.pop("name")
        if "secret" in data:
            data["code" if data.get("kind") == "code" else "card_uid"] = data.pop("secret")
        return {
            k: v for k, v in data.items() if v is not None or k in ("valid_from", "valid_until", "max_uses")
        }

    @model_validator(mode="after")
    def _check(self) -> CredentialIn:
        if self.kind == "code" and (self.code is None or self.card_uid is not None):
            raise ValueError("a door code needs 'code' (6-10 digits) and no 'card_uid'")
        if self.kind == "card" and (self.card_uid is None or self.code is not None):
            raise ValueError("a card needs 'card_uid' and no 'code'")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        if self.valid_until and self.valid_until <= utcnow():
            raise ValueError("valid_until must be in the future")
        return self

    def __repr__(self) -> str:  # never show a door code in logs or tracebacks
        return f"CredentialIn(kind={self.kind!r}, user_name={self.user_name!r})"


class CredentialPatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_name: PersonName


class UnlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pin: str = Field(pattern=r"^[0-9]{4,8}$", description="the user's remote-unlock PIN")


class RestoreIn(BaseModel):
    """A new administrator door code for a lock whose memory is damaged (sent sealed, never stored)."""

    model_config = ConfigDict(extra="forbid")
    admin_code: str = Field(pattern=r"^[0-9]{6,10}$", description="6-10 digits; opens the lock's menu")
    user_name: str = Field(min_length=1, max_length=64, description="whose code it is")

    def __repr__(self) -> str:  # never show a door code in logs or tracebacks
        return f"RestoreIn(user_name={self.user_name!r})"


class ModeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["Normal", "Passage"] = Field(description="Passage = normally-open (L11.1)")


class VolumeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    level: Literal["high", "low", "mute"] = Field(validation_alias=AliasChoices("level", "volume"))


class CommandOut(BaseModel):
    ok: bool
    result: dict[str, Any]


def _mqtt(request: Request) -> HubMqtt:
    mqtt: HubMqtt = request.app.state.mqtt
    return mqtt


async def _command(request: Request, device: Device, name: str, args: dict[str, Any]) -> Ack:
    try:
        ack = await _mqtt(request).send_command(device.serial, name, args)
    except CommandError as exc:
        raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, f"the lock did not answer: {exc}") from None
    if not ack.ok:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the lock refused {name}: {ack.error}")
    return ack


@router.get("/{device_id}", response_model=LockOut)
async def lock_state(access: AnyAccess) -> LockOut:
    state = access.device.state or {}
    battery, locked, alarms, rssi = summarize_state(state)
    lock = None if locked is None else ("locked" if locked else "unlocked")
    return LockOut(
        device_id=access.device.id,
        name=access.device.name,
        online=access.device.online,
        lock_state=None if lock is None else str(lock),
        battery=battery,
        operating_mode=_str(state.get("operating_mode")),
        volume=_str(state.get("volume", (state.get("settings") or {}).get("volume"))),
        alarms=alarms,
        rssi=rssi,
        memory_damaged=_str(state.get("memory_damaged")),
    )


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


@router.get("/{device_id}/log", response_model=list[Operation])
async def operations(
    access: HistoryAccess,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Instant | None = None,
    type: Annotated[EventType | None, Query(description="one of the log's event types")] = None,
    source: Annotated[
        str | None, Query(max_length=32, description="Matter OperationSource, e.g. Keypad")
    ] = None,
) -> list[Operation]:
    """The operation log (A7): who, how, when; a shared user sees it from the share's start (A5)."""
    if type is not None and type not in LOG_TYPES:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"the operation log holds {', '.join(LOG_TYPES)}; {type} is not one of them",
        )
    types = (type,) if type else LOG_TYPES
    rows = await operation_log(session, access.device.id, access.history_since, limit, before, types, source)
    return list(rows)


@router.get("/{device_id}/alarms", response_model=list[AlarmOut])
async def alarms(
    access: HistoryAccess, session: DbSession, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[AlarmOut]:
    query = select(DeviceEvent).where(
        DeviceEvent.device_id == access.device.id, DeviceEvent.type == EventType.DoorLockAlarm
    )
    if access.history_since is not None:
        query = query.where(DeviceEvent.ts >= access.history_since)
    events = (await session.scalars(query.order_by(DeviceEvent.ts.desc()).limit(limit))).all()
    return [
        AlarmOut(
            event_id=e.event_id,
            ts=e.ts,
            alarm_code=_str(e.data.get("alarm_code")),
            active=bool(e.data.get("active", True)),
        )
        for e in events
    ]


@router.get("/{device_id}/credentials", response_model=list[CredentialOut])
async def list_credentials(access: SettingsAccess, session: DbSession) -> list[CredentialOut]:
    """The credentials with their sync state; temporary codes with the uses left as the lock counts."""
    rows = await session.scalars(
        select(LockCredential).where(LockCredential.device_id == access.device.id).order_by(LockCredential.id)
    )
    uses = uses_of(access.device.state or {})
    return [_credential_out(row, uses) for row in rows.all()]


def _add_args(body: CredentialIn, device: Device, code: str) -> dict[str, Any]:
    args: dict[str, Any] = {"type": body.kind, "name": body.user_name}
    if body.kind == "code":
        assert body.code is not None
        args["sealed"] = seal(code, device.serial, body.code)  # L14.1: the code never travels in clear
    else:
        args["card_uid"] = body.card_uid
    if body.max_uses is not None:
        args["max_uses"], args["user_type"] = body.max_uses, "DisposableUser"
    if body.valid_from or body.valid_until:
        args["user_type"] = "ExpiringUser" if body.max_uses is None else args["user_type"]
        args["valid_from"] = body.valid_from.isoformat() if body.valid_from else None
        args["valid_until"] = body.valid_until.isoformat() if body.valid_until else None
    return args


@router.post(
    "/{device_id}/credentials",
    response_model=CredentialOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(409, 504),
)
async def add_credential(
    body: CredentialIn, access: SettingsAccess, request: Request, session: DbSession
) -> CredentialOut:
    """Provision a door code (sent sealed, never stored) or a card through the gateway (A7, L14.1).

    While the lock has no administrator the credential becomes one (``administrator: true``), as at
    the keypad (L2.3): someone can always open the menu. The lock refuses a temporary code then.
    """
    device = access.device
    code = request.app.state.broker_sync.box.decrypt(device.code_encrypted, device.serial)
    args = _add_args(body, device, code)
    row = LockCredential(
        device_id=device.id,
        kind=body.kind,
        user_name=body.user_name,
        user_type=args.get("user_type", "UnrestrictedUser"),
        sync_state=SyncState.ADDING.value,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        max_uses=body.max_uses,
        created_by=access.user.id,
    )
    session.add(row)
    await session.commit()
    try:
        ack = await _mqtt(request).send_command(device.serial, "lock.credential.add", args)
    except CommandError as exc:
        row.sync_state, row.error = SyncState.OUT_OF_SYNC.value, str(exc)[:255]
        await session.commit()
        raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, f"the lock did not answer: {exc}") from None
    if not ack.ok:
        await session.delete(row)
        await session.commit()
        raise HTTPException(status.HTTP_409_CONFLICT, f"the lock refused the credential: {ack.error}")
    number = ack.result.get("index")
    if isinstance(number, int):
        # The lock just gave this number to the new credential: a row still holding it is stale (the
        # old one was deleted or initialized at the keypad and that state has not arrived yet).
        stale = await session.scalars(
            select(LockCredential).where(
                LockCredential.device_id == device.id,
                LockCredential.kind == body.kind,
                LockCredential.number == number,
                LockCredential.id != row.id,
            )
        )
        for old in stale.all():
            await session.delete(old)
        await session.flush()
    row.number = number if isinstance(number, int) else None
    row.sync_state = SyncState.SYNCED.value if row.number is not None else SyncState.OUT_OF_SYNC.value
    user_type = ack.result.get("user_type")
    if isinstance(user_type, str):
        row.user_type = user_type[:32]  # the lock decides: the first credential is an administrator (L2.3)
    await session.commit()
    log.info(
        "credential %s %s provisioned on lock %s by user %d",
        body.kind,
        row.number,
        device.serial,
        access.user.id,
    )
    return _credential_out(row, uses_of(device.state or {}))


async def _credential(access: DeviceAccess, credential_id: int, session: DbSession) -> LockCredential:
    row = await session.get(LockCredential, credential_id)
    if row is None or row.device_id != access.device.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"credential {credential_id} not found")
    return row


@router.patch("/{device_id}/credentials/{credential_id}", response_model=CredentialOut)
async def rename_credential(
    credential_id: CredentialId, body: CredentialPatchIn, access: SettingsAccess, session: DbSession
) -> CredentialOut:
    row = await _credential(access, credential_id, session)
    row.user_name = body.user_name
    await session.commit()
    return _credential_out(row, uses_of(access.device.state or {}))


@router.delete(
    "/{device_id}/credentials/{credential_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(409, 504),
)
async def delete_credential(
    credential_id: CredentialId, access: SettingsAccess, request: Request, session: DbSession
) -> None:
    row = await _credential(access, credential_id, session)
    if row.number is None:  # never reached the lock
        await session.delete(row)
        await session.commit()
        return
    row.sync_state = SyncState.DELETING.value
    await session.commit()
    try:
        ack = await _mqtt(request).send_command(
            access.device.serial, "lock.credential.delete", {"type": row.kind, "index": row.number}
        )
    except CommandError as exc:
        row.error = str(exc)[:255]
        await session.commit()
        raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, f"the lock did not answer: {exc}") from None
    if not ack.ok:
        row.sync_state, row.error = SyncState.OUT_OF_SYNC.value, (ack.error or "refused")[:255]
        await session.commit()
        raise HTTPException(status.HTTP_409_CONFLICT, f"the lock refused the deletion: {ack.error}")
    await session.delete(row)
    await session.commit()


@router.post("/{device_id}/restore", response_model=CredentialOut, status_code=status.HTTP_201_CREATED)
async def restore_memory(
    body: RestoreIn, access: SettingsAccess, request: Request, session: DbSession
) -> CredentialOut:
    """A lock that cannot read its memory stays locked (docs/lock.md): start it over from the app with
    one administrator door code. Every credential it held is gone; the list starts again with this one."""
    device = access.device
    code = request.app.state.broker_sync.box.decrypt(device.code_encrypted, device.serial)
    sealed = seal(code, device.serial, body.admin_code)
    ack = await _command(request, device, "lock.memory.restore", {"sealed": sealed})
    number = ack.result.get("index")
    for old in (
        await session.scalars(select(LockCredential).where(LockCredential.device_id == device.id))
    ).all():
        await session.delete(old)
    await session.flush()
    row = LockCredential(
        device_id=device.id,
        kind=CredentialKind.CODE.value,
        number=number if isinstance(number, int) else None,
        user_name=body.user_name,
        user_type=UserType.ProgrammingUser.value,
        sync_state=SyncState.SYNCED.value,
        created_by=access.user.id,
    )
    session.add(row)
    await session.commit()
    log.warning(
        "lock %s restored from the app by user %d after its memory was damaged", device.serial, access.user.id
    )
    return _credential_out(row, {})


async def _record_remote(session: DbSession, access: DeviceAccess, command: str) -> None:
    """Remember who operated the lock from the app, for the operation log (A7) and the audit trail."""
    session.add(
        DeviceEvent(
            event_id=f"hub-{uuid.uuid4().hex}",
            device_id=access.device.id,
            type=REMOTE_COMMAND,
            ts=utcnow(),
            data={"user": access.user.username, "user_id": access.user.id, "command": command},
        )
    )
    await session.commit()


@router.post("/{device_id}/unlock", response_model=CommandOut, responses=errors(409, 429, 504))
async def unlock(body: UnlockIn, access: UnlockAccess, request: Request, session: DbSession) -> CommandOut:
    """Remote unlock behind the user's PIN challenge (A7); wrong PINs are rate-limited (429)."""
    await check_unlock_pin(request, session, access.user, access.device, body.pin)
    await _record_remote(session, access, "lock.unlock")
    ack = await _command(request, access.device, "lock.unlock", {})
    return CommandOut(ok=ack.ok, result=ack.result)


@router.post("/{device_id}/lock", response_model=CommandOut, responses=errors(409, 504))
async def lock(access: UnlockAccess, request: Request, session: DbSession) -> CommandOut:
    await _record_remote(session, access, "lock.lock")
    ack = await _command(request, access.device, "lock.lock", {})
    return CommandOut(ok=ack.ok, result=ack.result)


@router.put("/{device_id}/operating-mode", response_model=CommandOut, responses=errors(409, 504))
async def operating_mode(body: ModeIn, access: SettingsAccess, request: Request) -> CommandOut:
    """Normally-open mode on (Passage) or off (Normal), L11.1."""
    ack = await _command(request, access.device, "lock.operating_mode", {"mode": body.mode})
    return CommandOut(ok=ack.ok, result=ack.result)


@router.put("/{device_id}/volume", response_model=CommandOut, responses=errors(409, 504))
async def volume(body: VolumeIn, access: SettingsAccess, request: Request) -> CommandOut:
    ack = await _command(request, access.device, "lock.volume", {"level": body.level})
    return CommandOut(ok=ack.ok, result=ack.result)


@asynccontextmanager
async def service(app: FastAPI) -> AsyncIterator[None]:
    """Reconcile credentials whenever a lock's retained state arrives; push lock changes live."""
    sessionmaker = app.state.sessionmaker
    uses_seen: dict[int, dict[tuple[str, int], tuple[int, int | None]]] = {}

    async def on_state(device: Device, state: dict[str, Any]) -> None:
        if device.kind != "lock":
            return
        uses = uses_of(state)  # a temporary code used at the door: its uses left changed (A7)
        uses_changed = uses_seen.get(device.id, uses) != uses
        uses_seen[device.id] = uses
        async with sessionmaker() as session:
            if await reconcile(session, device, state) or uses_changed:
                await app.state.bus.publish(
                    {"type": "lock.credentials", "device_id": device.id},
                    device.id,
                    permission=Permission.SETTINGS,
                )

    async def on_event(device: Device, event: Event) -> None:
        if device.kind == "lock" and event.type in OPERATION_TYPES:
            message = {
                "type": "lock.operation",
                "device_id": device.id,
                "event": event.model_dump(mode="json"),
            }
            await app.state.bus.publish(message, device.id, permission=Permission.HISTORY)

    app.state.mqtt.on_state(on_state)
    app.state.mqtt.on_event(on_event)
    yield
