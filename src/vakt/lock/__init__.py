"""Lock firmware: a pure, deterministic state machine of spec/lock.md (L1-L15). See docs/lock.md."""

from vakt.lock.clock import Clock, ManualClock, WallClock
from vakt.lock.events import LockEvent, parse_event
from vakt.lock.fingerprint import Finger
from vakt.lock.outputs import CredentialInfo, Display, LockState, Output
from vakt.lock.persistence import CorruptStateError, FileStore, InMemoryStore
from vakt.lock.remote import Lock, RemoteError
from vakt.lock.types import (
    AlarmCode,
    CredentialType,
    MotorState,
    OperatingMode,
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
    "FileStore",
    "Finger",
    "InMemoryStore",
    "Lock",
    "LockEvent",
    "LockState",
    "ManualClock",
    "MotorState",
    "OperatingMode",
    "OperationSource",
    "Output",
    "Prompt",
    "RemoteError",
    "UserType",
    "Volume",
    "WallClock",
    "parse_event",
]
