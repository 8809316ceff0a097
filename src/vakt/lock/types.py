"""The lock's vocabulary: Matter Door Lock cluster (0x0101) names plus the panel's prompts (L1-L15)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Prompt(StrEnum):
    """Voice prompts; stable identifiers the panel, the gateway and the web app show."""

    WELCOME = "welcome"
    MENU = "menu"
    VERIFY_ADMIN = "verify_admin"
    ENTER_SETTING = "enter_setting"
    TOUCH_FINGER = "touch_finger"
    TOUCH_AGAIN = "touch_again"
    ENTER_CODE = "enter_code"
    ENTER_CODE_AGAIN = "enter_code_again"
    PRESENT_CARD = "present_card"
    ENTER_NUMBER = "enter_number"
    CONFIRM = "confirm"
    SUCCESS = "success"
    FAILURE = "failure"
    UNLOCKED = "unlocked"
    LOCKED = "locked"
    ALREADY_EXISTS = "already_exists"
    STORAGE_FULL = "storage_full"
    CANNOT_DELETE_CURRENT = "cannot_delete_current"
    NUMBER_EMPTY = "number_empty"
    INVALID_SETTING = "invalid_setting"
    INVALID_CODE_LENGTH = "invalid_code_length"
    CODES_DIFFER = "codes_differ"
    NOT_ADMIN = "not_admin"
    NOT_VALID_NOW = "not_valid_now"
    LOCKED_OUT = "locked_out"
    LOW_BATTERY = "low_battery"
    PRIVACY_MODE = "privacy_mode"
    PASSAGE_MODE_ENDED = "passage_mode_ended"
    PAIRING = "pairing"
    PAIRING_ENDED = "pairing_ended"
    FACTORY_RESET_CONFIRM = "factory_reset_confirm"
    FACTORY_RESET_DONE = "factory_reset_done"
    INITIALIZED = "initialized"
    MENU_CLOSED = "menu_closed"
    BOLT_JAMMED = "bolt_jammed"
    STORAGE_ERROR = "storage_error"
    MEMORY_DAMAGED = "memory_damaged"


class MotorState(StrEnum):
    LOCKED = "locked"
    UNLOCKED = "unlocked"


class Volume(StrEnum):
    HIGH = "high"
    LOW = "low"
    MUTE = "mute"


class Sound(StrEnum):
    """The verification sound (L9.2: silenced by mute, unlike alarms and prompts)."""

    SUCCESS = "success"
    FAILURE = "failure"


class OperatingMode(StrEnum):
    """Matter ``OperatingModeEnum`` (subset the lock supports)."""

    Normal = "Normal"
    Passage = "Passage"
    Privacy = "Privacy"


class LockOperationType(StrEnum):
    Lock = "Lock"
    Unlock = "Unlock"


class OperationSource(StrEnum):
    """Matter ``OperationSourceEnum``."""

    Unspecified = "Unspecified"
    Manual = "Manual"
    Keypad = "Keypad"
    Auto = "Auto"
    Button = "Button"
    Remote = "Remote"
    RFID = "RFID"
    Biometric = "Biometric"


class OperationError(StrEnum):
    """Matter ``OperationErrorEnum``."""

    Unspecified = "Unspecified"
    InvalidCredential = "InvalidCredential"
    DisabledUserDenied = "DisabledUserDenied"
    Restricted = "Restricted"
    InsufficientBattery = "InsufficientBattery"


class CredentialType(StrEnum):
    """Matter ``CredentialTypeEnum`` (the three the lock has)."""

    PIN = "PIN"
    RFID = "RFID"
    Fingerprint = "Fingerprint"

    # Friendlier aliases used by the app's provisioning calls.
    CODE = "PIN"
    CARD = "RFID"


class UserType(StrEnum):
    """Matter ``UserTypeEnum`` (subset). ProgrammingUser = administrator (L2.3)."""

    UnrestrictedUser = "UnrestrictedUser"
    YearDayScheduleUser = "YearDayScheduleUser"
    ProgrammingUser = "ProgrammingUser"
    NonAccessUser = "NonAccessUser"
    DisposableUser = "DisposableUser"
    ExpiringUser = "ExpiringUser"


class LockDataType(StrEnum):
    """Matter ``LockDataTypeEnum`` (subset)."""

    PIN = "PIN"
    RFID = "RFID"
    Fingerprint = "Fingerprint"
    ProgrammingCode = "ProgrammingCode"


class DataOperationType(StrEnum):
    Add = "Add"
    Clear = "Clear"
    Modify = "Modify"


class AlarmCode(StrEnum):
    """Matter ``AlarmCodeEnum`` (subset)."""

    LockJammed = "LockJammed"
    LockFactoryReset = "LockFactoryReset"
    WrongCodeEntryLimit = "WrongCodeEntryLimit"
    FrontEsceutcheonRemoved = "FrontEsceutcheonRemoved"
    DoorForcedOpen = "DoorForcedOpen"
    # vakt's own (Matter has no code for it): no copy of the lock's memory can be read; it stays locked.
    MemoryDamaged = "MemoryDamaged"


DATA_TYPE_OF = {
    CredentialType.PIN: LockDataType.PIN,
    CredentialType.RFID: LockDataType.RFID,
    CredentialType.Fingerprint: LockDataType.Fingerprint,
}

SOURCE_OF = {
    CredentialType.PIN: OperationSource.Keypad,
    CredentialType.RFID: OperationSource.RFID,
    CredentialType.Fingerprint: OperationSource.Biometric,
}


class LockSettings(BaseModel):
    """Settings of the lock (L3.2, L8.3, L9, L10.2); restored to these defaults by initialize (L7.2)."""

    model_config = ConfigDict(validate_assignment=True)

    volume: Volume = Field(Volume.HIGH, title="Volume", description="41# high, 42# low, 43# mute (L9)")
    auto_relock_time: float = Field(
        5.0, ge=1, le=300, title="AutoRelockTime", description="seconds until the bolt relocks (L8.3)"
    )
    keypad_sleep_time: float = Field(10.0, ge=3, le=120, description="keypad sleeps after this (L3.2)")
    menu_timeout: float = Field(30.0, ge=10, le=300, description="an idle menu closes after this (L3.2)")
    wrong_code_entry_limit: int = Field(5, ge=1, le=10, title="WrongCodeEntryLimit (L10.2)")
    user_code_temporary_disable_time: float = Field(
        180.0, ge=10, le=3600, title="UserCodeTemporaryDisableTime", description="lockout seconds (L10.2)"
    )
    tamper_alarm_time: float = Field(60.0, ge=10, le=600, description="tamper alarm duration (L10.1)")


MAX_PER_TYPE = 50  # L1.1
MIN_CODE_DIGITS = 6  # L5.2
MAX_CODE_DIGITS = 10  # L5.2
MAX_TYPED_DIGITS = 20  # L8.2
MENU_CODE = "3571"  # L4.1
LOW_BATTERY_V = 4.8  # L10.4
DEAD_BATTERY_V = 4.0  # L10.4
PAIRING_HOLD_S = 3.0  # L12.2
FACTORY_RESET_HOLD_S = 5.0  # L12.1

PROMPT_TEXT: dict[Prompt, str] = {
    Prompt.WELCOME: "Welcome.",
    Prompt.MENU: "Menu.",
    Prompt.VERIFY_ADMIN: "Please verify an administrator fingerprint, code or card.",
    Prompt.ENTER_SETTING: "Enter a setting code.",
    Prompt.TOUCH_FINGER: "Place your finger on the sensor.",
    Prompt.TOUCH_AGAIN: "Place your finger again.",
    Prompt.ENTER_CODE: "Enter a door code of 6 to 10 digits, then #.",
    Prompt.ENTER_CODE_AGAIN: "Enter the door code again, then #.",
    Prompt.PRESENT_CARD: "Hold the card to the reader.",
    Prompt.ENTER_NUMBER: "Enter the number, then #.",
    Prompt.CONFIRM: "Press # to confirm.",
    Prompt.SUCCESS: "Done.",
    Prompt.FAILURE: "Verification failed.",
    Prompt.UNLOCKED: "Unlocked.",
    Prompt.LOCKED: "Locked.",
    Prompt.ALREADY_EXISTS: "Already added.",
    Prompt.STORAGE_FULL: "Storage full.",
    Prompt.CANNOT_DELETE_CURRENT: "Cannot delete what you verified with.",
    Prompt.NUMBER_EMPTY: "That number is empty.",
    Prompt.INVALID_SETTING: "Invalid setting code.",
    Prompt.INVALID_CODE_LENGTH: "A door code has 6 to 10 digits.",
    Prompt.CODES_DIFFER: "The codes do not match.",
    Prompt.NOT_ADMIN: "Administrator verification needed.",
    Prompt.NOT_VALID_NOW: "This credential is not valid now.",
    Prompt.LOCKED_OUT: "System locked. Try again later.",
    Prompt.LOW_BATTERY: "Low battery, please replace the batteries.",
    Prompt.PRIVACY_MODE: "Do not disturb mode is on.",
    Prompt.PASSAGE_MODE_ENDED: "Normally-open mode ended.",
    Prompt.PAIRING: "Pairing mode. Add the lock in the app.",
    Prompt.PAIRING_ENDED: "Pairing mode closed.",
    Prompt.FACTORY_RESET_CONFIRM: "Press # to restore factory settings.",
    Prompt.FACTORY_RESET_DONE: "Factory settings restored.",
    Prompt.INITIALIZED: "Initialized.",
    Prompt.MENU_CLOSED: "Menu closed.",
    Prompt.BOLT_JAMMED: "The bolt is blocked.",
    Prompt.STORAGE_ERROR: "Could not save. Nothing was changed.",
    Prompt.MEMORY_DAMAGED: "The lock's memory is damaged. Restore it from the app or reset it inside.",
}
