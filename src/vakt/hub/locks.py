"""Lock management logic (A7): credential reconciliation against the lock's state, the operation log.

The lock's retained state lists the credentials it holds; the hub's rows carry the names given in the
app and a sync state. Reconciling the two (on every state) keeps ``adding``/``deleting`` honest and
brings in credentials enrolled at the keypad (fingerprints, L2.3).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.models.devices import Device, DeviceEvent
from vakt.hub.models.locks import KIND_OF_MATTER, CredentialKind, LockCredential, SyncState

log = logging.getLogger(__name__)
OPERATION_TYPES = ("LockOperation", "LockOperationError")
LOG_TYPES = (*OPERATION_TYPES, "DoorLockAlarm", "LockUserChange")
REMOTE_COMMAND = "RemoteCommand"  # stored by the hub when a user operates a lock from the app
_REMOTE_MATCH = timedelta(seconds=30)


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
        known.add(key)
        present = key in reported
        if row.sync_state == SyncState.DELETING and not present:
            await session.delete(row)
            changed = True
        elif row.sync_state in (SyncState.ADDING, SyncState.OUT_OF_SYNC) and present:
            row.sync_state, row.error, changed = SyncState.SYNCED.value, None, True
        elif row.sync_state == SyncState.SYNCED and not present:
            row.sync_state, row.error = SyncState.OUT_OF_SYNC.value, "the lock no longer has this credential"
            changed = True
    pending = [r for r in rows if r.number is None]  # sent, but no number yet (no ack, or a lost one)
    for kind, number in sorted(set(reported) - known):
        item = reported[(kind, number)]
        match = next(
            (r for r in pending if r.kind == kind and r.user_name and r.user_name == item.get("name")), None
        )
        if match is not None:  # the lock has it under the name the app gave: adopt its number
            match.number, match.sync_state, match.error = number, SyncState.SYNCED.value, None
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
                user_type=str(item.get("user_type") or "ProgrammingUser")[:32],
                sync_state=SyncState.SYNCED.value,
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
        if data.get("operation_source") == "Remote":
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
