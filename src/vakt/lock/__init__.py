"""Lock firmware: a pure, deterministic state machine of spec/lock.md (L1-L15). See docs/lock.md."""

from vakt.lock.clock import Clock, ManualClock, WallClock
from vakt.lock.events import EventType, LockEvent, parse_event
from vakt.lock.fingerprint import Finger
from vakt.lock.outputs import CredentialInfo, Display, LockState, Output
from vakt.lock.persistence import CorruptStateError, FileStore, InMemoryStore
from vakt.lock.remote import Lock, RemoteError
from vakt.lock.types import (
    AlarmCode,
    CredentialType,
    LockOperationType,
    MotorState,
    OperatingMode,
    OperationError,
    OperationSource,
    Prompt,
    UserType,
    Volume,
)

__all__ = [
    "AlarmCode",
    "Clock",
    "CorruptStateError",
    "CredentialInfo",
    "CredentialType",
    "Display",
    "EventType",
    "FileStore",
    "Finger",
    "InMemoryStore",
    "Lock",
    "LockEvent",
    "LockOperationType",
    "LockState",
    "ManualClock",
    "MotorState",
    "OperatingMode",
    "OperationError",
    "OperationSource",
    "Output",
    "Prompt",
    "RemoteError",
    "UserType",
    "Volume",
    "WallClock",
    "parse_event",
]
