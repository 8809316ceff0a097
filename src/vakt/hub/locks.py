"""Lock management logic (A7): credential reconciliation against the lock's state, the operation log.

The lock's retained state lists the credentials it holds; the hub's rows carry the names given in the
app and a sync state. The lock is the authority on what it holds: reconciling (on every state) keeps
``adding``/``deleting`` honest, brings in credentials enrolled at the keypad (L2.3), and follows what
was deleted, cleared or initialized at the keypad (L6, L7) by removing those rows; a number the lock
reused for a new credential is told apart by the lock's own time of storing it (``created_at``).
Event types, sources and credential types are the lock's own enums (``vakt.lock``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.db import utcnow
from vakt.hub.models.devices import Device, DeviceEvent
from vakt.hub.models.locks import KIND_OF_MATTER, CredentialKind, LockCredential, SyncState
from vakt.lock import EventType, OperationSource, UserType

log = logging.getLogger(__name__)
OPERATION_TYPES = (EventType.LockOperation, EventType.LockOperationError)
LOG_TYPES = (*OPERATION_TYPES, EventType.DoorLockAlarm, EventType.LockUserChange)
REMOTE_COMMAND = "RemoteCommand"  # stored by the hub when a user operates a lock from the app
_REMOTE_MATCH = timedelta(seconds=30)
_CONFIRM_GRACE = timedelta(seconds=30)


def reported_credentials(state: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]] | None:
    """(kind, number) -> details of every credential the lock reports; None when its state has no list."""
    raw = state.get("credentials")
    if not isinstance(raw, list):
        return None
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for item in raw:
        if not isinstance(item, dict):
            continue
        kind = _kind(item.get("credential_type", item.get("type")))
        number = item.get("credential_index", item.get("index", item.get("number")))
        if kind is not None and isinstance(number, int):
            found[(kind.value, number)] = item
    return found


def _kind(value: Any) -> CredentialKind | None:
    if not isinstance(value, str):
        return None
    if value in KIND_OF_MATTER:
        return KIND_OF_MATTER[value]
    try:
        return CredentialKind(value.lower())
    except ValueError:
        return None


def _enrolled_at(item: dict[str, Any]) -> float | None:
    value = item.get("created_at")
    return float(value) if isinstance(value, int | float) and value > 0 else None


def uses_of(state: dict[str, Any]) -> dict[tuple[str, int], tuple[int, int | None]]:
    """(kind, number) -> (uses so far, uses left) of every credential the lock reports (A7 temporary)."""
    found: dict[tuple[str, int], tuple[int, int | None]] = {}
    for key, item in (reported_credentials(state) or {}).items():
        raw_uses, max_uses = item.get("uses"), item.get("max_uses")
        uses = raw_uses if isinstance(raw_uses, int) else 0
        found[key] = (uses, max(0, max_uses - uses) if isinstance(max_uses, int) else None)
    return found


async def reconcile(session: AsyncSession, device: Device, state: dict[str, Any]) -> bool:
    """Bring the hub's credential rows in line with what the lock reports; True when something changed."""
    reported = reported_credentials(state)
    if reported is None:
        return False
    rows = (await session.scalars(select(LockCredential).where(LockCredential.device_id == device.id))).all()
    changed = False
    known: set[tuple[str, int]] = set()
    for row in rows:
        if row.number is None:
            continue
        key = (row.kind, row.number)
        item = reported.get(key)
        just_added = row.enrolled_at is None and utcnow() - row.created_at < _CONFIRM_GRACE
        if item is None and just_added and row.sync_state != SyncState.DELETING:
            known.add(key)  # acknowledged just now; the state that lists it may still be on its way
            continue
        enrolled = None if item is None else _enrolled_at(item)
        reused = enrolled is not None and row.enrolled_at is not None and enrolled != row.enrolled_at
        if item is None or reused:
            # Gone from the lock (deleted, cleared or initialized at the keypad, L6/L7), or its number
            # now holds another credential: the lock is the authority, the row goes.
            await session.delete(row)
            changed = True
            continue
        known.add(key)
        updates = {
            "sync_state": SyncState.SYNCED.value if row.sync_state != SyncState.DELETING else row.sync_state,
            "error": None if row.sync_state != SyncState.DELETING else row.error,
            "enrolled_at": enrolled if enrolled is not None else row.enrolled_at,
            "user_type": str(item.get("user_type") or row.user_type)[:32],  # the lock decides (L2.3)
        }
        for field, value in updates.items():
            if getattr(row, field) != value:
                setattr(row, field, value)
                changed = True
    if changed:
        await session.flush()  # rows of reused numbers are gone before their successors are added
    pending = [r for r in rows if r.number is None]  # sent, but no number yet (no ack, or a lost one)
    for kind, number in sorted(set(reported) - known):
        item = reported[(kind, number)]
        match = next(
            (r for r in pending if r.kind == kind and r.user_name and r.user_name == item.get("name")), None
        )
        if match is not None:  # the lock has it under the name the app gave: adopt its number
            match.number, match.sync_state, match.error = number, SyncState.SYNCED.value, None
            match.enrolled_at = _enrolled_at(item)
            pending.remove(match)
            changed = True
            continue
        if any(r.kind == kind and r.sync_state == SyncState.ADDING for r in pending):
            continue  # probably the one being provisioned right now; its ack brings the number
        # Enrolled at the lock itself (keypad menu, L5): it has a number, maybe no name yet.
        session.add(
            LockCredential(
                device_id=device.id,
                kind=kind,
                number=number,
                user_name=str(item.get("name") or "")[:64],
                user_type=str(item.get("user_type") or UserType.ProgrammingUser)[:32],
                sync_state=SyncState.SYNCED.value,
                enrolled_at=_enrolled_at(item),
            )
        )
        changed = True
    if changed:
        await session.commit()
    return changed


@dataclass(frozen=True, slots=True)
class Operation:
    event_id: str
    ts: datetime
    type: str
    operation: str | None
    source: str | None
    credential_kind: str | None
    credential_number: int | None
    user_name: str | None
    error: str | None
    data: dict[str, Any]


async def operation_log(
    session: AsyncSession,
    device_id: int,
    since: datetime | None,
    limit: int,
    before: datetime | None = None,
    types: tuple[str, ...] = LOG_TYPES,
    source: str | None = None,
) -> list[Operation]:
    """Who did what and how (A7), newest first, credential numbers mapped to the names given in the app."""
    query = select(DeviceEvent).where(
        DeviceEvent.device_id == device_id, DeviceEvent.type.in_((*types, REMOTE_COMMAND))
    )
    if since is not None:
        query = query.where(DeviceEvent.ts >= since)
    if before is not None:
        query = query.where(DeviceEvent.ts < before)
    events = (await session.scalars(query.order_by(DeviceEvent.ts.desc()).limit(limit * 4))).all()
    names = {
        (c.kind, c.number): c.user_name
        for c in (await session.scalars(select(LockCredential).where(LockCredential.device_id == device_id)))
        if c.number is not None
    }
    remote = [e for e in events if e.type == REMOTE_COMMAND]
    result = []
    for event in events:
        data = event.data or {}
        if event.type == REMOTE_COMMAND or (source is not None and data.get("operation_source") != source):
            continue
        credential = data.get("credential") if isinstance(data.get("credential"), dict) else None
        kind = _kind(credential.get("credential_type")) if credential else None
        number = credential.get("credential_index") if credential else None
        who = names.get((kind.value, number)) if kind and isinstance(number, int) else None
        if data.get("operation_source") == OperationSource.Remote:
            who = _remote_user(remote, event.ts) or who
        result.append(
            Operation(
                event_id=event.event_id,
                ts=event.ts,
                type=event.type,
                operation=data.get("lock_operation_type"),
                source=data.get("operation_source"),
                credential_kind=kind.value if kind else None,
                credential_number=number if isinstance(number, int) else None,
                user_name=who or None,
                error=data.get("operation_error"),
                data=data,
            )
        )
    return result[:limit]


def _remote_user(remote: list[DeviceEvent], ts: datetime) -> str | None:
    """The app user whose remote command came just before a Remote operation."""
    best = None
    for command in remote:
        in_window = command.ts <= ts + timedelta(seconds=2) and ts - command.ts <= _REMOTE_MATCH
        if in_window and (best is None or command.ts > best.ts):
            best = command
    return str(best.data.get("user")) if best is not None else None
