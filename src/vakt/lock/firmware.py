"""The lock firmware: a pure, deterministic state machine (L1-L13).

Physical inputs are methods that return an ``Output`` (prompts, keypad display, tones, motor, alarms,
events). Time comes only from the injected clock: timers (keypad sleep, menu timeout, relock, tamper
alarm, lockout) fire when an input arrives or ``tick()`` is called after the clock moved, stamped with
the instant they were due. Non-volatile memory is the injected store.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Concatenate, Literal, ParamSpec, TypeVar

from vakt.lock import fingerprint
from vakt.lock.clock import Clock
from vakt.lock.credentials import Credential, CredentialStore
from vakt.lock.events import (
    CredentialRef,
    DoorLockAlarm,
    LockEvent,
    LockOperation,
    LockOperationErrorEvent,
    LockUserChange,
    LowBattery,
    OperatingModeChanged,
    PairingMode,
)
from vakt.lock.menu import Menu
from vakt.lock.outputs import Display, Output
from vakt.lock.persistence import CorruptStateError, InMemoryStore, LockMemory, MemoryStore, boot
from vakt.lock.types import (
    DATA_TYPE_OF,
    DEAD_BATTERY_V,
    LOW_BATTERY_V,
    MAX_TYPED_DIGITS,
    MENU_CODE,
    PAIRING_HOLD_S,
    SOURCE_OF,
    AlarmCode,
    CredentialType,
    DataOperationType,
    LockOperationType,
    LockSettings,
    MotorState,
    OperatingMode,
    OperationError,
    OperationSource,
    Prompt,
    Sound,
    Volume,
)

log = logging.getLogger(__name__)

P = ParamSpec("P")
CoreT = TypeVar("CoreT", bound="LockCore")


class StorageFault(RuntimeError):
    """The non-volatile memory could not be written (e.g. disk full); the change was undone."""


def physical_input(
    method: Callable[Concatenate[CoreT, P], Output],
) -> Callable[Concatenate[CoreT, P], Output]:
    """An input whose change cannot be stored is undone and answered with ``storage_error``."""

    @functools.wraps(method)
    def wrapper(self: CoreT, *args: P.args, **kwargs: P.kwargs) -> Output:
        try:
            return method(self, *args, **kwargs)
        except StorageFault as exc:
            return self.rollback(exc)

    return wrapper


Timer = Literal["lockout", "tamper", "relock", "idle", "reset_hold"]


class LockCore:
    """State, timers, power and verification; physical inputs live in ``vakt.lock.panel``."""

    def __init__(self, clock: Clock, store: MemoryStore | None = None, *, sensor_seed: int = 0) -> None:
        self.clock = clock
        self.store: MemoryStore = store if store is not None else InMemoryStore()
        self.sensor = fingerprint.Sensor(sensor_seed)
        self.recovered_from: str | None = None
        self.memory_lost: str | None = None  # no copy of the memory readable: locked, menu refused
        self.storage_error: str | None = None
        self.motor = MotorState.LOCKED
        self.batteries_in = True
        self.battery_voltage = 6.0
        self.usb_power = False
        self.front_panel_removed = False
        self.bolt_jammed = False  # something blocks the bolt (a warped door, L-FAQ); physical, not memory
        self.jam_detected = False
        self.reset_down_at: float | None = None
        self.reset_hold_done = False  # the 3 s RESET prompt already came while the pin is held (L12.2)
        self._pending: list[LockEvent] = []
        self._last_prompts: list[Prompt] = []
        self._low_reported = False
        self._out = Output()
        self._power_on()
        self._pending.extend(self._out.events)  # raised at boot (a lost memory's alarm)
        self._begin()

    # -- volatile state -----------------------------------------------------------------------
    def _power_on(self) -> None:
        """Boot: volatile state starts over, non-volatile memory is read again (L10.3)."""
        found = boot(self.store)
        self.memory = found.memory
        self.recovered_from = found.recovered_from or self.recovered_from
        self.memory_lost = found.lost
        if found.lost:
            self.emit(DoorLockAlarm(ts=self.now, alarm_code=AlarmCode.MemoryDamaged))
        self.awake = False
        self.keys = ""
        self.menu: Menu | None = None
        self.last_input = self.now
        self.relock_at: float | None = None
        self.tamper_until: float | None = None
        self.pairing = False
        self.factory_reset_armed = False
        self.reset_held_at_boot = self.reset_down_at is not None
        self.display = Display()

    @property
    def now(self) -> float:
        return self.clock.now()

    @property
    def credential_store(self) -> CredentialStore:
        return self.memory.credentials

    @property
    def initial_mode(self) -> bool:
        """L2.1: no user information at all (never when the memory could not be read)."""
        return self.memory_lost is None and self.credential_store.is_empty()

    @property
    def powered(self) -> bool:
        return self.usb_power or (self.batteries_in and self.battery_voltage >= DEAD_BATTERY_V)

    @property
    def battery_low(self) -> bool:
        return self.batteries_in and self.battery_voltage < LOW_BATTERY_V

    @property
    def locked_out(self) -> bool:
        until = self.memory.lockout_until
        return until is not None and self.now < until

    @property
    def muted(self) -> bool:
        return self.memory.settings.volume == Volume.MUTE

    def alarms(self) -> list[AlarmCode]:
        """Alarms sounding now (L10.1, L10.2); they need power to sound."""
        if not self.powered:
            return []
        active = []
        if self.tamper_until is not None:
            active.append(AlarmCode.FrontEsceutcheonRemoved)
        if self.memory.lockout_until is not None:
            active.append(AlarmCode.WrongCodeEntryLimit)
        if self.jam_detected:
            active.append(AlarmCode.LockJammed)
        if self.memory_lost:
            active.append(AlarmCode.MemoryDamaged)
        return active

    # -- one step -----------------------------------------------------------------------------
    def _begin(self) -> None:
        self._out = Output()
        self._run_timers()

    def _end(self) -> Output:
        out = self._out
        out.display = self.display.model_copy()
        out.motor = self.motor
        out.alarms = self.alarms()
        self._pending.extend(out.events)
        if out.prompts:
            self._last_prompts = list(out.prompts)
        self._out = Output()
        return out

    def say(self, *prompts: Prompt) -> None:
        self._out.prompts.extend(prompts)

    def show(self, text: str, blinking: bool = False) -> None:
        self.display = Display(lit=True, text=text, blinking=blinking)

    def emit(self, event: LockEvent) -> None:
        self._out.events.append(event)

    def sound(self, sound: Sound) -> None:
        if not self.muted:  # L9.2: mute silences the verification sound only
            self._out.sound = sound

    def key_tone(self) -> None:
        if not self.muted:
            self._out.key_tone = True

    def save(self) -> None:
        """Write the memory; a failed write raises StorageFault (the input is then undone, see rollback)."""
        if self.memory_lost:  # never write the empty stand-in over the damaged copies (it would boot open)
            raise StorageFault("the lock memory is damaged; factory reset (L12.1) or restore from the app")
        try:
            self.store.save(self.memory)
        except OSError as exc:
            log.error("lock memory write failed: %s", exc)
            raise StorageFault(str(exc)) from exc
        self.storage_error = None

    def save_quietly(self) -> None:
        """Write counters and modes; if flash fails they still hold in RAM (a full disk opens no lockout)."""
        try:
            self.save()
        except StorageFault as exc:
            self.storage_error = str(exc)

    def rollback(self, exc: StorageFault) -> Output:
        """Undo an input whose change could not be stored: memory back to what flash holds, a clear prompt."""
        try:
            stored = self.store.load()
            if stored is not None:
                stored.credentials.bind(self.store.secure_element)  # hashes keep the lock's key
                self.memory = stored
        except CorruptStateError:
            log.exception("lock memory unreadable during rollback")
        self._out.events.clear()
        self._out.prompts.clear()
        if self.menu is not None:
            self.menu.after_fault()
        self.display = Display(lit=self.awake)
        self.storage_error = str(exc)
        self.say(Prompt.STORAGE_ERROR)
        return self._end()

    # -- timers -------------------------------------------------------------------------------
    def _due(self) -> list[tuple[float, Timer]]:
        timers: list[tuple[float, Timer]] = []
        if self.memory.lockout_until is not None:
            timers.append((self.memory.lockout_until, "lockout"))
        if self.tamper_until is not None:
            timers.append((self.tamper_until, "tamper"))
        if self.relock_at is not None:
            timers.append((self.relock_at, "relock"))
        if self.reset_down_at is not None and not self.reset_hold_done and not self.reset_held_at_boot:
            timers.append((self.reset_down_at + PAIRING_HOLD_S, "reset_hold"))
        if self.awake or self.menu is not None or self.pairing:
            s = self.memory.settings
            idle = s.menu_timeout if (self.menu is not None or self.pairing) else s.keypad_sleep_time
            timers.append((self.last_input + idle, "idle"))
        return sorted(t for t in timers if t[0] <= self.now)

    def _run_timers(self) -> None:
        for due, timer in self._due():
            self._fire(timer, due)

    def _fire(self, timer: Timer, due: float) -> None:
        if timer == "lockout":  # L10.2: after exactly the disable time the count starts over
            self.memory.lockout_until = None
            self.memory.failed_attempts = 0
            self.save_quietly()
            self.emit(DoorLockAlarm(ts=due, alarm_code=AlarmCode.WrongCodeEntryLimit, active=False))
        elif timer == "tamper":
            self.tamper_until = None
            self.emit(DoorLockAlarm(ts=due, alarm_code=AlarmCode.FrontEsceutcheonRemoved, active=False))
        elif timer == "relock":
            self.relock_at = None
            if self.motor == MotorState.UNLOCKED and self.memory.operating_mode != OperatingMode.Passage:
                self._drive(MotorState.LOCKED, OperationSource.Auto, ts=due, mechanism="auto_relock")
        elif timer == "reset_hold":  # L12.2: the prompt and the blinking 5 come while RESET is held
            self.reset_hold_done = True
            if self.powered:
                self.enter_pairing(due)
        elif timer == "idle":
            if self.menu is not None:
                self.menu = None
                self.say(Prompt.MENU_CLOSED)
            if self.pairing:
                self.leave_pairing()
            self.sleep()

    def sleep(self) -> None:
        self.awake = False
        self.keys = ""
        self.factory_reset_armed = False
        self.display = Display()

    def touched(self) -> None:
        """Any front-panel input: wakes the lock (L3.1, L10.4) and restarts the idle timers."""
        self.last_input = self.now
        if self.awake:
            return
        self.awake = True
        self._last_prompts = []  # what the voice said before this wake is not current (issue 15 item 17)
        self.display = Display(lit=True)
        if self.memory_lost:
            self.say(Prompt.MEMORY_DAMAGED)
        if self.battery_low and not self.usb_power:
            self.say(Prompt.LOW_BATTERY)  # L10.4: at each wake
            if not self._low_reported:
                self._low_reported = True
                self.emit(LowBattery(ts=self.now, voltage=self.battery_voltage))

    # -- motor --------------------------------------------------------------------------------
    def _drive(
        self,
        target: MotorState,
        source: OperationSource,
        *,
        credential: Credential | None = None,
        ts: float | None = None,
        mechanism: str | None = None,
    ) -> bool:
        """Move the bolt; False (and a LockJammed alarm) when it is blocked."""
        if self.bolt_jammed and target != self.motor:
            if not self.jam_detected:
                self.jam_detected = True
                self.emit(DoorLockAlarm(ts=self.now if ts is None else ts, alarm_code=AlarmCode.LockJammed))
            self.relock_at = None
            return False
        self.motor = target
        op = LockOperationType.Unlock if target == MotorState.UNLOCKED else LockOperationType.Lock
        ref = (
            None
            if credential is None
            else CredentialRef(credential_type=credential.credential_type, credential_index=credential.index)
        )
        self.emit(
            LockOperation(
                ts=self.now if ts is None else ts,
                lock_operation_type=op,
                operation_source=source,
                user_index=None if credential is None else credential.index,
                credential=ref,
                mechanism=mechanism,
            )
        )
        if target == MotorState.UNLOCKED and self.memory.operating_mode != OperatingMode.Passage:
            self.relock_at = self.now + self.memory.settings.auto_relock_time  # L8.3
        else:
            self.relock_at = None
        return True

    def unlock(
        self, source: OperationSource, credential: Credential | None = None, mechanism: str | None = None
    ) -> None:
        moved = self._drive(MotorState.UNLOCKED, source, credential=credential, mechanism=mechanism)
        self.say(Prompt.UNLOCKED if moved else Prompt.BOLT_JAMMED)

    def lock(self, source: OperationSource, mechanism: str | None = None) -> None:
        moved = self._drive(MotorState.LOCKED, source, mechanism=mechanism)
        self.say(Prompt.LOCKED if moved else Prompt.BOLT_JAMMED)

    def set_mode(self, mode: OperatingMode, source: OperationSource) -> None:
        if self.memory.operating_mode == mode:
            return
        self.memory.operating_mode = mode
        self.save_quietly()
        self.emit(OperatingModeChanged(ts=self.now, operating_mode=mode, operation_source=source))

    # -- verification (L8, L10.2, L11) --------------------------------------------------------
    def refuse(
        self, source: OperationSource, error: OperationError, reason: str, cred: Credential | None = None
    ) -> None:
        ref = (
            None
            if cred is None
            else CredentialRef(credential_type=cred.credential_type, credential_index=cred.index)
        )
        self.emit(
            LockOperationErrorEvent(
                ts=self.now,
                lock_operation_type=LockOperationType.Unlock,
                operation_source=source,
                operation_error=error,
                credential=ref,
                user_index=None if cred is None else cred.index,
                reason=reason,
            )
        )

    def verification_failed(self, source: OperationSource, reason: str) -> None:
        """One failed verification; the fifth in a row locks the system out (L10.2)."""
        mem = self.memory
        mem.failed_attempts += 1
        self.sound(Sound.FAILURE)
        self.say(Prompt.FAILURE)
        self.refuse(source, OperationError.InvalidCredential, reason)
        if mem.failed_attempts >= mem.settings.wrong_code_entry_limit:
            mem.lockout_until = self.now + mem.settings.user_code_temporary_disable_time
            self.say(Prompt.LOCKED_OUT)
            self.emit(DoorLockAlarm(ts=self.now, alarm_code=AlarmCode.WrongCodeEntryLimit))
            self.menu = None
            log.warning("lockout after %d failed verifications", mem.failed_attempts)
        self.save_quietly()  # L10.3: the count survives a power cycle

    def verification_succeeded(self) -> None:
        self.sound(Sound.SUCCESS)
        if self.memory.failed_attempts:
            self.memory.failed_attempts = 0
            self.save_quietly()

    def verify_outside(self, kind: CredentialType, found: Credential | None) -> None:
        """A fingerprint, code or card at the outside panel, outside the menu (L8.1, L11)."""
        source = SOURCE_OF[kind]
        if self.memory_lost:  # nothing is known, so nothing opens; not a failure of the person
            self.say(Prompt.MEMORY_DAMAGED)
            self.refuse(source, OperationError.Restricted, "the lock memory is damaged")
            return
        if self.locked_out:
            self.say(Prompt.LOCKED_OUT)
            self.refuse(source, OperationError.Restricted, "locked out after too many failures")
            return
        if found is None:
            self.verification_failed(source, "no matching credential")
            return
        if not found.usable_at(self.now):
            self.sound(Sound.FAILURE)
            self.say(Prompt.NOT_VALID_NOW)
            error = OperationError.DisabledUserDenied if found.max_uses is None else OperationError.Restricted
            self.refuse(source, error, "outside its validity or uses", found)
            return
        mode = self.memory.operating_mode
        if mode == OperatingMode.Privacy and not found.is_admin:
            self.sound(Sound.FAILURE)
            self.say(Prompt.PRIVACY_MODE)
            self.refuse(source, OperationError.Restricted, "privacy mode", found)
            return
        self.verification_succeeded()
        if found.max_uses is not None:
            found.uses += 1
            self.save_quietly()
        if mode == OperatingMode.Passage:  # L11.1: a verification at the lock ends normally-open
            self.set_mode(OperatingMode.Normal, source)
            moved = self._drive(MotorState.LOCKED, source, credential=found)
            self.say(Prompt.PASSAGE_MODE_ENDED, Prompt.LOCKED if moved else Prompt.BOLT_JAMMED)
            return
        if mode == OperatingMode.Privacy:
            self.set_mode(OperatingMode.Normal, source)
        self.unlock(source, found)

    # -- keypad outside the menu --------------------------------------------------------------
    def keypad_hash(self) -> None:
        typed, self.keys = self.keys, ""
        if typed == MENU_CODE:
            self.open_menu()
        elif typed:
            too_long = len(typed) > MAX_TYPED_DIGITS  # L8.2: more than 20 digits always fails
            found = None if too_long or self.locked_out else self.credential_store.find_code(typed)
            self.verify_outside(CredentialType.PIN, found)

    def open_menu(self) -> None:
        if self.memory_lost:  # a memory that cannot be read must not open like a factory-new lock (L2.1)
            self.say(Prompt.MEMORY_DAMAGED)
            return
        if self.locked_out:
            self.say(Prompt.LOCKED_OUT)
            return
        self.menu = Menu(self)

    def close_menu(self, prompt: Prompt) -> None:
        self.menu = None
        self.say(prompt)
        self.display = Display(lit=True)

    def enter_pairing(self, ts: float) -> None:
        """L12.2: the voice prompt, the digit 5 blinking; the gateway can add the lock now."""
        self.touched()
        if self.memory_lost:  # a pairing could not be stored; the gateway keeps the one it has
            self.say(Prompt.MEMORY_DAMAGED)
            return
        self.menu = None
        self.pairing = True
        self.show("5", blinking=True)
        self.say(Prompt.PAIRING)
        self.emit(PairingMode(ts=ts, active=True))

    def leave_pairing(self) -> None:
        self.pairing = False
        self.display = Display(lit=self.awake)
        self.say(Prompt.PAIRING_ENDED)
        self.emit(PairingMode(ts=self.now, active=False))

    # -- initialize and factory reset (L7, L12.1) ---------------------------------------------
    def initialize(self) -> None:
        """L7: all user information and settings cleared, back to initial mode; pairing kept (L7.2)."""
        kinds = [k for k in CredentialType if self.credential_store.of_type(k)]
        self.credential_store.clear()
        self.memory.settings = LockSettings()
        self.memory.operating_mode = OperatingMode.Normal
        self.save()
        for kind in kinds:
            self.emit(
                LockUserChange(
                    ts=self.now,
                    lock_data_type=DATA_TYPE_OF[kind],
                    data_operation_type=DataOperationType.Clear,
                    operation_source=OperationSource.Keypad,
                    data_index=None,
                )
            )

    def factory_reset(self) -> None:
        """L12.1: users, settings and the gateway pairing cleared; a new per-lock HMAC key.

        Also the way out of a damaged memory (someone with access to the inside panel, L12.1).
        """
        was_lost, self.memory_lost = self.memory_lost, None
        self.store.secure_element.new_key()
        self.memory = LockMemory()
        self.memory.credentials.bind(self.store.secure_element)
        self.save()
        if was_lost:
            self.emit(DoorLockAlarm(ts=self.now, alarm_code=AlarmCode.MemoryDamaged, active=False))
        self.menu = None
        self.emit(DoorLockAlarm(ts=self.now, alarm_code=AlarmCode.LockFactoryReset))
        self.say(Prompt.FACTORY_RESET_DONE)
