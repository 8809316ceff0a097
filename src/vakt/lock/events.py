"""Events the lock raises, named after the Matter Door Lock cluster events (L8.4, L10, L12, L13).

Each is a pydantic model with a ``type`` literal; ``event.model_dump(mode="json")`` without ``type``
and ``ts`` is the ``data`` of a protocol ``Event(type=..., data=...)`` (see ``to_protocol_data``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from vakt.lock.types import (
    AlarmCode,
    CredentialType,
    DataOperationType,
    LockDataType,
    LockOperationType,
    OperatingMode,
    OperationError,
    OperationSource,
)


class EventType(StrEnum):
    """The ``type`` of each lock event (Matter Door Lock event names plus the panel's own); the hub and
    the web app compare with these, never with retyped strings."""

    LockOperation = "LockOperation"
    LockOperationError = "LockOperationError"
    LockUserChange = "LockUserChange"
    DoorLockAlarm = "DoorLockAlarm"
    Doorbell = "Doorbell"
    LowBattery = "LowBattery"
    PairingMode = "PairingMode"
    OperatingModeChanged = "OperatingModeChanged"


class CredentialRef(BaseModel):
    """Matter ``CredentialStruct``: which credential (type and its number 1-50)."""

    model_config = ConfigDict(frozen=True)

    credential_type: CredentialType
    credential_index: int = Field(ge=1, le=50)


class _LockEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    ts: float = Field(description="time of the lock's clock, seconds")

    def to_protocol_data(self) -> dict[str, Any]:
        """The ``data`` dict of a protocol ``Event``; its ``type`` is ``self.type``."""
        return self.model_dump(mode="json", exclude={"type"})


class LockOperation(_LockEvent):
    type: Literal["LockOperation"] = "LockOperation"
    lock_operation_type: LockOperationType
    operation_source: OperationSource
    user_index: int | None = None
    credential: CredentialRef | None = None
    mechanism: str | None = Field(None, description="key, inside_knob, passage_mode ... for Manual/Auto")


class LockOperationErrorEvent(_LockEvent):
    type: Literal["LockOperationError"] = "LockOperationError"
    lock_operation_type: LockOperationType
    operation_source: OperationSource
    operation_error: OperationError
    user_index: int | None = None
    credential: CredentialRef | None = None
    reason: str = ""


class LockUserChange(_LockEvent):
    type: Literal["LockUserChange"] = "LockUserChange"
    lock_data_type: LockDataType
    data_operation_type: DataOperationType
    operation_source: OperationSource
    data_index: int | None = Field(None, description="the credential number; None for clear-all")


class DoorLockAlarm(_LockEvent):
    type: Literal["DoorLockAlarm"] = "DoorLockAlarm"
    alarm_code: AlarmCode
    active: bool = True


class Doorbell(_LockEvent):
    type: Literal["Doorbell"] = "Doorbell"


class LowBattery(_LockEvent):
    type: Literal["LowBattery"] = "LowBattery"
    voltage: float
    dead: bool = False


class PairingMode(_LockEvent):
    type: Literal["PairingMode"] = "PairingMode"
    active: bool


class OperatingModeChanged(_LockEvent):
    type: Literal["OperatingModeChanged"] = "OperatingModeChanged"
    operating_mode: OperatingMode
    operation_source: OperationSource


LockEvent = Annotated[
    LockOperation
    | LockOperationErrorEvent
    | LockUserChange
    | DoorLockAlarm
    | Doorbell
    | LowBattery
    | PairingMode
    | OperatingModeChanged,
    Field(discriminator="type"),
]

_ADAPTER: TypeAdapter[LockEvent] = TypeAdapter(LockEvent)


def parse_event(type_: str, data: dict[str, Any]) -> LockEvent:
    """Rebuild a lock event from a protocol ``Event``'s type and data (the hub's side)."""
    return _ADAPTER.validate_python({**data, "type": type_})
