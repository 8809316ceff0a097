"""Device messages into the database: validation, de-duplication by event id (G7), state and availability."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.db import utcnow
from vakt.hub.models.dead_letters import EXCERPT_CHARS, DeadLetter
from vakt.hub.models.devices import Device, DeviceEvent
from vakt.protocol import Availability, Channel, Event, ProtocolError, RefusedEvent, decode, topic
from vakt.protocol.messages import check_size_and_depth, read_id

log = logging.getLogger(__name__)


class Rejected(Exception):
    """A message the hub refuses; ``reason`` is a short counter key, the message says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Incoming:
    serial: str
    channel: Channel
    payload: bytes
    received_at: datetime
    ack: Callable[[], None] | None = None  # tells the broker we have it: called only once it is committed


@dataclass(slots=True)
class IngestStats:
    received: int = 0
    stored_events: int = 0
    dead_letters: int = 0
    states: int = 0
    availability: int = 0
    acks: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "stored_events": self.stored_events,
            "dead_letters": self.dead_letters,
            "states": self.states,
            "availability": self.availability,
            "acks": self.acks,
            "rejected": dict(self.rejected),
        }


def decode_state(payload: bytes) -> dict[str, Any]:
    """A device's retained state: a JSON object that names its ``kind``."""
    check_size_and_depth(payload)
    try:
        state = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"invalid state: not JSON ({exc})") from None
    if not isinstance(state, dict) or not isinstance(state.get("kind"), str):
        raise ProtocolError("invalid state: a JSON object with a 'kind' is required")
    _finite_json(state, "state")
    return state


@dataclass(frozen=True, slots=True)
class DeviceRef:
    id: int
    serial: str
    parent_id: int | None


@dataclass(slots=True)
class Receipts:
    """Per topic serial: event ids committed (new or already stored) and events refused for good."""

    stored: dict[str, list[str]] = field(default_factory=dict)
    refused: dict[str, list[RefusedEvent]] = field(default_factory=dict)

    def store(self, serial: str, event_id: str) -> None:
        self.stored.setdefault(serial, []).append(event_id)

    def refuse(self, serial: str, event_id: str, reason: str) -> None:
        self.refused.setdefault(serial, []).append(RefusedEvent(id=event_id, reason=reason[:500]))

    def merge(self, other: Receipts) -> None:
        for serial, ids in other.stored.items():
            self.stored.setdefault(serial, []).extend(ids)
        for serial, refused in other.refused.items():
            self.refused.setdefault(serial, []).extend(refused)

    def serials(self) -> list[str]:
        return list(dict.fromkeys([*self.stored, *self.refused]))


@dataclass(slots=True)
class Batch:
    """What one batch of messages changed, for the hooks and the bus once it is committed."""

    events: list[tuple[DeviceRef, Event]] = field(default_factory=list)
    states: dict[int, tuple[DeviceRef, dict[str, Any]]] = field(default_factory=dict)
    availability: dict[int, tuple[DeviceRef, bool]] = field(default_factory=dict)
    receipts: Receipts = field(default_factory=Receipts)


class DeviceDirectory:
    """Serial -> device lookups with a cache; the ingest path must not query per message."""

    def __init__(self) -> None:
        self._by_serial: dict[str, DeviceRef] = {}
        self._by_id: dict[int, DeviceRef] = {}

    def forget(self, serial: str | None = None) -> None:
        if serial is None:
            self._by_serial.clear()
            self._by_id.clear()
        elif (ref := self._by_serial.pop(serial, None)) is not None:
            self._by_id.pop(ref.id, None)

    async def resolve(self, session: AsyncSession, serials: set[str]) -> dict[str, DeviceRef]:
        missing = [s for s in serials if s not in self._by_serial]
        if missing:
            rows = await session.execute(
                select(Device.id, Device.serial, Device.parent_id).where(Device.serial.in_(missing))
            )
            for device_id, serial, parent_id in rows.all():
                ref = DeviceRef(device_id, serial, parent_id)
                self._by_serial[serial] = ref
                self._by_id[device_id] = ref
        return {s: self._by_serial[s] for s in serials if s in self._by_serial}

    def by_id(self, device_id: int) -> DeviceRef | None:
        return self._by_id.get(device_id)

    async def resolve_ids(self, session: AsyncSession, ids: set[int]) -> None:
        """Cache these devices too (a relayed lock's gateway, which gets the lock's receipts)."""
        missing = [i for i in ids if i not in self._by_id]
        if missing:
            rows = await session.execute(
                select(Device.id, Device.serial, Device.parent_id).where(Device.id.in_(missing))
            )
            for device_id, serial, parent_id in rows.all():
                ref = DeviceRef(device_id, serial, parent_id)
                self._by_serial[serial] = ref
                self._by_id[device_id] = ref

    def receipt_serial(self, serial: str) -> str:
        """Where a device's receipts go: its gateway's topic when one speaks for it (one receipt per
        connection and batch, not one per relayed lock), else its own."""
        ref = self._by_serial.get(serial)
        parent = self._by_id.get(ref.parent_id) if ref is not None and ref.parent_id is not None else None
        return parent.serial if parent is not None else serial


def _finite_json(value: Any, what: str) -> None:
    """Refuse NaN/Infinity: PostgreSQL's JSON type rejects them, which would fail the whole batch."""
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        raise ProtocolError(f"invalid {what}: NaN or Infinity is not JSON") from None


def _validate_event(ref: DeviceRef, known: dict[str, DeviceRef], payload: bytes) -> Event:
    event = decode(Event, payload)
    _finite_json(event.data, "Event data")
    if event.source != ref.serial:
        # A gateway may report on a paired lock's behalf; anything else is refused.
        source = known.get(event.source)
        if source is None or source.parent_id != ref.id:
            raise Rejected("source_mismatch", f"event source {event.source!r} is not {ref.serial!r}")
    return event


async def store_batch(
    session: AsyncSession, directory: DeviceDirectory, items: list[Incoming], stats: IngestStats
) -> Batch:
    """Validate and store a batch of event/state/availability messages in one transaction."""
    serials = {i.serial for i in items}
    known = await directory.resolve(session, serials)
    await directory.resolve_ids(session, {r.parent_id for r in known.values() if r.parent_id is not None})
    batch = Batch()
    events: dict[str, tuple[DeviceRef, Event, datetime]] = {}
    letters: list[DeadLetter] = []
    for item in items:
        ref = known.get(item.serial)
        try:
            if ref is None:
                raise Rejected("unknown_device", f"no device with serial {item.serial!r} at this hub")
            if item.channel is Channel.EVENT:
                event = _validate_event(ref, known, item.payload)
                batch.receipts.store(directory.receipt_serial(item.serial), event.id)
                if event.id in events:
                    _reject(stats, "duplicate", item, f"event {event.id} repeated")
                    continue
                target = known.get(event.source, ref)
                events[event.id] = (target, event, item.received_at)
            elif item.channel is Channel.STATE:
                batch.states[ref.id] = (ref, decode_state(item.payload))
            elif item.channel is Channel.AVAILABILITY:
                batch.availability[ref.id] = (ref, decode(Availability, item.payload).status == "online")
        except ProtocolError as exc:
            reason = "oversized" if "exceeds" in str(exc) else "malformed"
            _reject(stats, reason, item, str(exc))
            _refuse(batch, letters, ref, item, str(exc), directory.receipt_serial(item.serial))
        except Rejected as exc:
            _reject(stats, exc.reason, item, str(exc))
            _refuse(batch, letters, ref, item, str(exc), directory.receipt_serial(item.serial))
    if events:
        inserted = await _insert_events(session, list(events.values()))
        for event_id, (ref, event, _) in events.items():
            if event_id in inserted:
                batch.events.append((ref, event))
            else:
                stats.rejected["duplicate"] += 1
                log.info(
                    "event %s from %s already stored: confirmed again, not stored twice", event_id, ref.serial
                )
        stats.stored_events += len(inserted)
    session.add_all(letters)
    stats.dead_letters += len(letters)
    now = utcnow()
    for device_id, (_, state) in batch.states.items():
        await session.execute(
            update(Device).where(Device.id == device_id).values(state=state, last_seen_at=now)
        )
        stats.states += 1
    await _children_follow_offline_gateways(session, batch)
    for device_id, (_, online) in batch.availability.items():
        await session.execute(
            update(Device).where(Device.id == device_id).values(online=online, last_seen_at=now)
        )
        stats.availability += 1
    await session.commit()
    return batch


async def _children_follow_offline_gateways(session: AsyncSession, batch: Batch) -> None:
    """A gateway's last will covers only its own serial: the locks it speaks for go offline with it."""
    offline = [device_id for device_id, (_, online) in batch.availability.items() if not online]
    if not offline:
        return
    rows = await session.execute(
        select(Device.id, Device.serial, Device.parent_id).where(Device.parent_id.in_(offline), Device.online)
    )
    for device_id, serial, parent_id in rows.all():
        batch.availability.setdefault(device_id, (DeviceRef(device_id, serial, parent_id), False))


async def _insert_events(session: AsyncSession, rows: list[tuple[DeviceRef, Event, datetime]]) -> set[str]:
    """Insert events, skipping ids already stored; returns the ids inserted now."""
    values = [
        {
            "event_id": event.id,
            "device_id": ref.id,
            "type": event.type,
            "ts": event.ts,
            "received_at": received_at,
            "data": event.data,
        }
        for ref, event, received_at in rows
    ]
    dialect = session.get_bind().dialect.name
    statement: Any
    if dialect == "sqlite":
        statement = sqlite_insert(DeviceEvent).on_conflict_do_nothing(index_elements=["event_id"])
    elif dialect == "postgresql":
        statement = pg_insert(DeviceEvent).on_conflict_do_nothing(index_elements=["event_id"])
    else:
        statement = insert(DeviceEvent)
    result = await session.execute(statement.returning(DeviceEvent.event_id), values)
    return set(result.scalars().all())


def dead_letter(ref: DeviceRef, item: Incoming, reason: str) -> DeadLetter:
    """A row for a message that can never be stored, with enough of it to see what was wrong."""
    return DeadLetter(
        device_id=ref.id,
        topic=topic(item.serial, item.channel),
        event_id=read_id(item.payload),
        reason=reason[:500],
        payload_excerpt=item.payload[:EXCERPT_CHARS].decode("utf-8", errors="replace"),
        size=len(item.payload),
        received_at=item.received_at,
    )


def _refuse(
    batch: Batch,
    letters: list[DeadLetter],
    ref: DeviceRef | None,
    item: Incoming,
    reason: str,
    receipt_serial: str,
) -> None:
    """An event refused for good: a dead letter for its owner, a receipt so the device stops re-sending."""
    if item.channel is not Channel.EVENT:
        return  # a bad state or availability is replaced by the device's next one
    if ref is not None:
        letters.append(dead_letter(ref, item, reason))
    event_id = read_id(item.payload)
    if event_id is not None:
        batch.receipts.refuse(receipt_serial, event_id, reason)


def _reject(stats: IngestStats, reason: str, item: Incoming, detail: str) -> None:
    stats.rejected[reason] += 1
    # A device not (yet) added to an account is normal (powered before the QR scan); a re-send is normal too.
    level = logging.INFO if reason in ("unknown_device", "duplicate") else logging.WARNING
    log.log(
        level,
        "refused a message from device %s on %s: %s (%s)",
        item.serial,
        f"vakt/v1/{item.serial}/{item.channel.value}",
        reason,
        detail,
    )
