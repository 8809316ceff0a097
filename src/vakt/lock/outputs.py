"""What the lock shows after each input, and its state as the remote interface reports it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from vakt.lock.events import LockEvent
from vakt.lock.types import (
    AlarmCode,
    CredentialType,
    MotorState,
    OperatingMode,
    OperationSource,
    Prompt,
    Sound,
    UserType,
    Volume,
)


class Display(BaseModel):
    """The keypad: lit or asleep, and what it shows (touch count, a blinking number, pairing digit 5)."""

    lit: bool = False
    text: str = ""
    blinking: bool = False


class Output(BaseModel):
    """Everything observable that one input (or ``tick``) produced."""

    prompts: list[Prompt] = Field(default_factory=list, description="voice prompts, in order")
    display: Display = Field(default_factory=Display)
    key_tone: bool = Field(False, description="a key tone sounded (never when muted, L9.2)")
    sound: Sound | None = Field(None, description="verification sound (never when muted, L9.2)")
    ringing: bool = Field(False, description="the doorbell chime sounded (L13.1)")
    motor: MotorState = MotorState.LOCKED
    alarms: list[AlarmCode] = Field(default_factory=list, description="alarms sounding now")
    events: list[LockEvent] = Field(default_factory=list)

    @property
    def prompt(self) -> Prompt | None:
        """The last voice prompt of this step, if any."""
        return self.prompts[-1] if self.prompts else None


class CredentialInfo(BaseModel):
    """A credential as the remote interface lists it: never its code digits, UID or template."""

    credential_type: CredentialType
    index: int
    user_type: UserType
    source: OperationSource
    name: str | None = None
    valid_from: float | None = None
    valid_until: float | None = None
    max_uses: int | None = None
    uses: int = 0
    created_at: float = Field(0.0, description="lock clock when stored; tells a reused number apart")

    @property
    def uses_left(self) -> int | None:
        return None if self.max_uses is None else max(0, self.max_uses - self.uses)


class LockState(BaseModel):
    """The lock's state for the gateway's retained ``state`` message and the app (A3, A7)."""

    kind: Literal["lock"] = "lock"
    emulated: bool = True
    motor: MotorState
    operating_mode: OperatingMode
    powered: bool
    battery_voltage: float
    battery_low: bool
    battery_dead: bool
    usb_power: bool
    alarms: list[AlarmCode]
    volume: Volume
    failed_attempts: int
    lockout_until: float | None
    counts: dict[CredentialType, int]
    initial_mode: bool
    paired: bool
    pairing_mode: bool
    menu_open: bool
    front_panel_removed: bool
    bolt_jammed: bool = False
    display: Display
    last_prompts: list[Prompt]
    recovered_from: str | None = Field(None, description="a damaged copy of the memory passed over at boot")
    memory_damaged: str | None = Field(
        None, description="no copy of the memory readable: locked, menu refused until reset or restore"
    )
    storage_error: str | None = Field(None, description="the last failed memory write, until one succeeds")
