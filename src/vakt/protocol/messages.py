"""Payload models of the device protocol; every payload is UTF-8 JSON validated by these models."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

MAX_PAYLOAD_BYTES = 64 * 1024


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


class Command(_Message):
    """A request from the hub to a device; answered by exactly one Ack with the same id."""

    id: str = Field(default_factory=_new_id, min_length=8, max_length=64)
    ts: AwareDatetime = Field(default_factory=_now)
    target: str = Field(min_length=1, max_length=64, description="serial of the device that must act")
    name: str = Field(min_length=1, max_length=64, description="e.g. lock.unlock, camera.siren")
    args: dict[str, Any] = Field(default_factory=dict)


class Ack(_Message):
    id: str = Field(min_length=8, max_length=64, description="the id of the command answered")
    ts: AwareDatetime = Field(default_factory=_now)
    ok: bool
    error: str | None = None
    result: dict[str, Any] = Field(default_factory=dict)


class Availability(_Message):
    status: Literal["online", "offline"]


M = TypeVar("M", bound=BaseModel)


def encode(message: BaseModel) -> bytes:
    return message.model_dump_json().encode()


def decode(model: type[M], payload: bytes | bytearray | str) -> M:
    """Validate a payload; raise ProtocolError with a readable reason when it is bad."""
    raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(f"payload of {len(raw)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "payload"
        raise ProtocolError(f"invalid {model.__name__}: {where}: {first['msg']}") from None
