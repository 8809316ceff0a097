"""Payload models of the device protocol; every payload is UTF-8 JSON validated by these models."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32  # (chosen) real payloads nest 3-4 levels; a deep one would exhaust recursion (G7)
EARLIEST_TS = datetime(2000, 1, 1, tzinfo=UTC)  # (chosen) no vakt device reports from before 2000
MAX_CLOCK_AHEAD = timedelta(days=1)  # (chosen) a device clock this far ahead of ours is wrong
MAX_RECEIPT_IDS = 1000


class ProtocolError(ValueError):
    """A payload that is not valid for its channel; the message says why."""


class DeviceKind(StrEnum):
    LOCK = "lock"
    GATEWAY = "gateway"
    CAMERA = "camera"


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Event(_Message):
    """Something that happened on a device. ``id`` is unique; the hub stores each id once."""

    id: str = Field(default_factory=_new_id, min_length=8, max_length=64)
    ts: AwareDatetime = Field(default_factory=_now)
    source: str = Field(min_length=1, max_length=64, description="serial of the device it happened on")
    type: str = Field(min_length=1, max_length=64, description="e.g. LockOperation, DoorLockAlarm, Doorbell")
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("ts")
    @classmethod
    def _sane_time(cls, ts: datetime) -> datetime:
        """A time outside the window cannot be what happened, and year 1 or 9999 overflow on storage."""
        if ts < EARLIEST_TS:
            raise ValueError(
                f"event time {ts.isoformat()} is before {EARLIEST_TS.year}: the device clock is wrong"
            )
        if ts > _now() + MAX_CLOCK_AHEAD:
            raise ValueError(
                f"event time {ts.isoformat()} is more than a day ahead: the device clock is wrong"
            )
        return ts


class Command(_Message):
    """A request from the hub to a device; answered by exactly one Ack with the same id."""

    id: str = Field(default_factory=_new_id, min_length=8, max_length=64)
    ts: AwareDatetime = Field(default_factory=_now)
    target: str = Field(min_length=1, max_length=64, description="serial of the device that must act")
    name: str = Field(min_length=1, max_length=64, description="e.g. lock.unlock, camera.siren")
    args: dict[str, Any] = Field(default_factory=dict)
    expires_at: AwareDatetime | None = Field(
        None, description="the sender stops waiting then: a device refuses it after this time"
    )


class Ack(_Message):
    id: str = Field(min_length=8, max_length=64, description="the id of the command answered")
    ts: AwareDatetime = Field(default_factory=_now)
    ok: bool
    error: str | None = None
    result: dict[str, Any] = Field(default_factory=dict)


class Availability(_Message):
    status: Literal["online", "offline"]


class RefusedEvent(_Message):
    id: str = Field(min_length=1, max_length=64)
    reason: str = Field(max_length=500, description="why the hub can never store it")


class Receipt(_Message):
    """Hub -> device on ``vakt/v1/<serial>/receipt``: events committed to the hub's database (G7).

    ``stored`` also lists ids the hub already had (a re-send); ``refused`` lists events that can never
    be stored (kept in the hub's dead letters). Either way the device may forget them.
    """

    ts: AwareDatetime = Field(default_factory=_now)
    stored: list[str] = Field(default_factory=list, max_length=MAX_RECEIPT_IDS)
    refused: list[RefusedEvent] = Field(default_factory=list, max_length=MAX_RECEIPT_IDS)


M = TypeVar("M", bound=BaseModel)


def encode(message: BaseModel) -> bytes:
    return message.model_dump_json().encode()


_BRACKETS = bytes(range(256)).translate(None, b"[]{}")  # every byte but brackets: deleted by translate
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


def json_depth(raw: bytes, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep the JSON text nests (strings ignored), counted only up to ``limit + 1``: cheap, no parsing."""
    brackets = _STRING.sub(b"", raw).translate(None, _BRACKETS)
    depth = deepest = 0
    for char in brackets:
        if char in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth -= 1
    return deepest


def check_size_and_depth(raw: bytes) -> None:
    """Refuse what no parser or database should be handed: oversize or too deeply nested JSON."""
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(f"payload of {len(raw)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise ProtocolError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")


def read_id(payload: bytes) -> str | None:
    """The ``id`` of a message that failed validation, when one can still be read from it safely."""
    if len(payload) > 16 * MAX_PAYLOAD_BYTES or json_depth(payload) > MAX_JSON_DEPTH:
        return None  # parsing it could cost too much memory or recursion
    try:
        raw = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    ident = raw.get("id") if isinstance(raw, dict) else None
    return ident if isinstance(ident, str) and 1 <= len(ident) <= 64 else None


def decode(model: type[M], payload: bytes | bytearray | str) -> M:
    """Validate a payload; raise ProtocolError with a readable reason when it is bad."""
    raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    check_size_and_depth(raw)
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "payload"
        raise ProtocolError(f"invalid {model.__name__}: {where}: {first['msg']}") from None
