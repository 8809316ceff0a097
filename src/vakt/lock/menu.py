"""The programming menu opened with 3571# (L4-L7, L9): one open session, key by key."""

from __future__ import annotations

from enum import Enum, auto
from typing import TYPE_CHECKING

from vakt.lock import fingerprint
from vakt.lock.credentials import Credential, CredentialError
from vakt.lock.events import LockUserChange
from vakt.lock.types import (
    DATA_TYPE_OF,
    MAX_CODE_DIGITS,
    MAX_PER_TYPE,
    MAX_TYPED_DIGITS,
    MIN_CODE_DIGITS,
    SOURCE_OF,
    CredentialType,
    DataOperationType,
    LockDataType,
    OperationSource,
    Prompt,
    Volume,
)

if TYPE_CHECKING:
    from vakt.lock.firmware import LockCore

ENROL_CAPTURES = 5  # L5.1

_KIND_OF_DIGIT = {"1": CredentialType.Fingerprint, "2": CredentialType.PIN, "3": CredentialType.RFID}
_VOLUME_OF = {"41": Volume.HIGH, "42": Volume.LOW, "43": Volume.MUTE}


class Step(Enum):
    VERIFY_ADMIN = auto()
    SETTING = auto()
    ADD_FINGER = auto()
    ADD_CODE = auto()
    CONFIRM_CODE = auto()
    ADD_CARD = auto()
    DELETE_NUMBER = auto()
    DELETE_CONFIRM = auto()
    CLEAR_CONFIRM = auto()
    INIT_CONFIRM = auto()


class Menu:
    """An open menu. ``verified_by`` is the administrator credential of this session (L6.2, L6.3)."""

    def __init__(self, lock: LockCore) -> None:
        self.lock = lock
        self.verified_by: Credential | None = None
        self.digits = ""
        self.kind = CredentialType.PIN
        self.captures: list[fingerprint.Points] = []
        self.first_code = ""
        self.target = 0
        if lock.initial_mode:
            self.step = Step.SETTING
            lock.say(Prompt.MENU, Prompt.ENTER_SETTING)
        else:
            self.step = Step.VERIFY_ADMIN
            lock.say(Prompt.VERIFY_ADMIN)

    # -- inputs -------------------------------------------------------------------------------
    def on_key(self, key: str) -> None:
        if key == "*":
            self._star()
        elif key == "#":
            typed, self.digits = self.digits, ""
            self._hash(typed)
        elif len(self.digits) <= MAX_TYPED_DIGITS:  # one digit past the limit marks the entry as too long
            self.digits += key

    def on_finger(self, sample: fingerprint.Points) -> None:
        if self.step == Step.VERIFY_ADMIN:
            self._verify(CredentialType.Fingerprint, self.lock.credential_store.find_finger(sample))
        elif self.step == Step.ADD_FINGER:
            self._capture(sample)

    def on_card(self, uid: str) -> None:
        if self.step == Step.VERIFY_ADMIN:
            self._verify(CredentialType.RFID, self.lock.credential_store.find_card(uid))
        elif self.step == Step.ADD_CARD:
            self._add_card(uid)

    def after_fault(self) -> None:
        """A setting whose change could not be stored: back to the menu, nothing half-done kept."""
        self.digits = ""
        self.captures = []
        self.first_code = ""
        if self.step != Step.VERIFY_ADMIN:
            self.step = Step.SETTING

    # -- keys ---------------------------------------------------------------------------------
    def _star(self) -> None:
        self.digits = ""
        if self.step in (Step.VERIFY_ADMIN, Step.SETTING):
            self.lock.close_menu(Prompt.MENU_CLOSED)
        else:  # * abandons the setting in progress and returns to the menu (L4.3)
            self._back()

    def _hash(self, typed: str) -> None:
        step = self.step
        if step == Step.VERIFY_ADMIN:
            found = self.lock.credential_store.find_code(typed) if len(typed) <= MAX_TYPED_DIGITS else None
            self._verify(CredentialType.PIN, found)
        elif step == Step.SETTING:
            self._choose(typed)
        elif step == Step.ADD_CODE:
            self._first_code(typed)
        elif step == Step.CONFIRM_CODE:
            self._confirm_code(typed)
        elif step == Step.DELETE_NUMBER:
            self._delete_number(typed)
        elif step == Step.DELETE_CONFIRM:
            self._delete_confirmed()
        elif step == Step.CLEAR_CONFIRM:
            self._clear_confirmed()
        elif step == Step.INIT_CONFIRM:
            self.lock.initialize()
            self.verified_by = None
            self._done(Prompt.INITIALIZED)

    # -- verification (L4.1, L2.2) ------------------------------------------------------------
    def _verify(self, kind: CredentialType, found: Credential | None) -> None:
        lock = self.lock
        if found is None:
            lock.verification_failed(SOURCE_OF[kind], "not an administrator credential of this lock")
            return
        if not found.is_admin:
            lock.say(Prompt.NOT_ADMIN)
            return
        if not found.usable_at(lock.now):
            lock.say(Prompt.NOT_VALID_NOW)
            return
        lock.verification_succeeded()
        self.verified_by = found
        self.step = Step.SETTING
        lock.say(Prompt.MENU, Prompt.ENTER_SETTING)

    # -- menu codes (L4.2, L4.4) --------------------------------------------------------------
    def _choose(self, code: str) -> None:
        lock = self.lock
        if code in _VOLUME_OF:
            lock.memory.settings.volume = _VOLUME_OF[code]
            lock.save()
            self._done(Prompt.SUCCESS)
        elif code == "3570":
            self._ask(Step.INIT_CONFIRM, Prompt.CONFIRM)
        elif len(code) == 2 and code[0] == "1" and code[1] in _KIND_OF_DIGIT:
            self.kind = _KIND_OF_DIGIT[code[1]]
            if lock.credential_store.is_full(self.kind):
                lock.say(Prompt.STORAGE_FULL)  # L1.3: refused before anything is captured
                return
            first = {
                CredentialType.Fingerprint: (Step.ADD_FINGER, Prompt.TOUCH_FINGER),
                CredentialType.PIN: (Step.ADD_CODE, Prompt.ENTER_CODE),
                CredentialType.RFID: (Step.ADD_CARD, Prompt.PRESENT_CARD),
            }[self.kind]
            self.captures = []
            self._ask(*first)
            if self.kind == CredentialType.Fingerprint:
                lock.show("0")
        elif len(code) == 2 and code[0] == "2" and code[1] in _KIND_OF_DIGIT:
            self.kind = _KIND_OF_DIGIT[code[1]]
            self._ask(Step.DELETE_NUMBER, Prompt.ENTER_NUMBER)
        elif len(code) == 2 and code[0] == "3" and code[1] in _KIND_OF_DIGIT:
            self.kind = _KIND_OF_DIGIT[code[1]]
            if self.verified_by is not None and self.verified_by.credential_type == self.kind:
                lock.say(Prompt.CANNOT_DELETE_CURRENT)  # L6.3
                return
            self._ask(Step.CLEAR_CONFIRM, Prompt.CONFIRM)
        else:
            lock.say(Prompt.INVALID_SETTING)  # L4.4

    def _ask(self, step: Step, prompt: Prompt) -> None:
        self.step = step
        self.lock.say(prompt)

    def _back(self) -> None:
        self.step = Step.SETTING
        self.lock.say(Prompt.MENU)

    def _done(self, prompt: Prompt) -> None:
        """A completed setting returns to the menu (L4.3)."""
        self.step = Step.SETTING
        self.lock.say(prompt)

    def _failed(self, prompt: Prompt) -> None:
        self.step = Step.SETTING
        self.lock.say(prompt)

    # -- adding (L5) --------------------------------------------------------------------------
    def _capture(self, sample: fingerprint.Points) -> None:
        if len(sample) < fingerprint.MIN_CAPTURE_MINUTIAE:
            self.lock.say(Prompt.TOUCH_AGAIN)  # too little contact: not counted
            return
        self.captures.append(sample)
        self.lock.show(str(len(self.captures)))
        if len(self.captures) < ENROL_CAPTURES:
            self.lock.say(Prompt.TOUCH_AGAIN)
            return
        store = self.lock.credential_store
        if any(store.find_finger(c) is not None for c in self.captures):
            self._failed(Prompt.ALREADY_EXISTS)  # L5.1: the same matcher finds it enrolled
            return
        template = fingerprint.template_to_list(fingerprint.enroll(self.captures))
        self._store(Credential(credential_type=CredentialType.Fingerprint, index=1, template=template))

    def _first_code(self, typed: str) -> None:
        if not MIN_CODE_DIGITS <= len(typed) <= MAX_CODE_DIGITS:
            self._failed(Prompt.INVALID_CODE_LENGTH)
            return
        self.first_code = typed
        self._ask(Step.CONFIRM_CODE, Prompt.ENTER_CODE_AGAIN)

    def _confirm_code(self, typed: str) -> None:
        code, self.first_code = self.first_code, ""
        if typed != code:
            self._failed(Prompt.CODES_DIFFER)
            return
        self._store(self.lock.credential_store.code_credential(code))

    def _add_card(self, uid: str) -> None:
        try:
            credential = self.lock.credential_store.card_credential(uid)
        except CredentialError:
            self._failed(Prompt.FAILURE)
            return
        self._store(credential)

    def _store(self, credential: Credential) -> None:
        lock = self.lock
        try:
            stored = lock.credential_store.add(credential.model_copy(update={"created_at": lock.now}))
        except CredentialError as exc:
            self._failed(Prompt.ALREADY_EXISTS if "already" in str(exc) else Prompt.STORAGE_FULL)
            return
        lock.save()
        lock.emit(
            LockUserChange(
                ts=lock.now,
                lock_data_type=DATA_TYPE_OF[stored.credential_type],
                data_operation_type=DataOperationType.Add,
                operation_source=OperationSource.Keypad,
                data_index=stored.index,
            )
        )
        lock.show(str(stored.index), blinking=True)  # L1.2
        self._done(Prompt.SUCCESS)

    # -- deleting and clearing (L6, L7) -------------------------------------------------------
    def _delete_number(self, typed: str) -> None:
        number = int(typed) if typed.isdigit() and len(typed) <= 2 else 0
        found = self.lock.credential_store.get(self.kind, number) if 1 <= number <= MAX_PER_TYPE else None
        if found is None:
            self._failed(Prompt.NUMBER_EMPTY)
            return
        if self.verified_by is not None and (found.credential_type, found.index) == (
            self.verified_by.credential_type,
            self.verified_by.index,
        ):
            self._failed(Prompt.CANNOT_DELETE_CURRENT)  # L6.2
            return
        self.target = number
        self.lock.show(str(number), blinking=True)
        self._ask(Step.DELETE_CONFIRM, Prompt.CONFIRM)

    def _delete_confirmed(self) -> None:
        lock = self.lock
        lock.credential_store.delete(self.kind, self.target)
        self._changed(DataOperationType.Clear, DATA_TYPE_OF[self.kind], self.target)
        self._done(Prompt.SUCCESS)

    def _clear_confirmed(self) -> None:
        self.lock.credential_store.clear(self.kind)
        self._changed(DataOperationType.Clear, DATA_TYPE_OF[self.kind], None)
        self._done(Prompt.SUCCESS)

    def _changed(self, op: DataOperationType, data: LockDataType, index: int | None) -> None:
        lock = self.lock
        lock.save()
        lock.emit(
            LockUserChange(
                ts=lock.now,
                lock_data_type=data,
                data_operation_type=op,
                operation_source=OperationSource.Keypad,
                data_index=index,
            )
        )
        if lock.initial_mode:  # L6.4: nothing left, so no verification holds any more
            self.verified_by = None
