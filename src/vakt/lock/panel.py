"""The lock's physical inputs: front panel, back panel, batteries, emergency power (L3, L8-L13)."""

from __future__ import annotations

import numpy as np

from vakt.lock import fingerprint
from vakt.lock.events import Doorbell, DoorLockAlarm
from vakt.lock.firmware import LockCore, physical_input
from vakt.lock.outputs import Display, Output
from vakt.lock.types import (
    FACTORY_RESET_HOLD_S,
    MAX_TYPED_DIGITS,
    PAIRING_HOLD_S,
    AlarmCode,
    CredentialType,
    MotorState,
    OperatingMode,
    OperationSource,
    Prompt,
)

KEYS = frozenset("0123456789*#")


class PanelLock(LockCore):
    """Each method is one physical action and returns what the lock did in response."""

    # -- front panel --------------------------------------------------------------------------
    def touch_keypad(self) -> Output:
        """L3.1: touching the keypad area wakes the lock."""
        self._begin()
        if self.powered and not self.front_panel_removed:
            self.touched()
        return self._end()

    @physical_input
    def press_key(self, key: str) -> Output:
        """One key, 0-9, * or #. A sleeping keypad only wakes; the key itself is not taken (L3.1)."""
        if key not in KEYS or len(key) != 1:
            raise ValueError(f"no key {key!r} on the keypad (0-9, *, #)")
        self._begin()
        if not self.powered or self.front_panel_removed:
            return self._end()
        was_awake = self.awake
        self.touched()
        if not was_awake:
            return self._end()
        self.key_tone()  # L3.3
        if self.menu is not None:
            self.menu.on_key(key)
        elif self.pairing:
            if key == "*":
                self.leave_pairing()
        elif self.factory_reset_armed:
            self.factory_reset_armed = False
            if key == "#":
                self.factory_reset()
        elif key == "*":
            self.keys = ""
        elif key == "#":
            self.keypad_hash()
        elif len(self.keys) <= MAX_TYPED_DIGITS:  # one digit past the limit marks the entry too long
            self.keys += key
        return self._end()

    def press_keys(self, keys: str) -> list[Output]:
        """Convenience: each character of ``keys`` pressed in turn."""
        return [self.press_key(k) for k in keys]

    @physical_input
    def place_finger(self, finger: fingerprint.Finger | fingerprint.Points) -> Output:
        """A finger on the sensor (the sensor turns a Finger into a noisy sample, L15.1); wakes the lock."""
        sample = self.sensor.capture(finger) if isinstance(finger, fingerprint.Finger) else np.asarray(finger)
        self._begin()
        if self.powered and not self.front_panel_removed:
            self.touched()
            if self.menu is not None:
                self.menu.on_finger(sample)
            elif not self.pairing:
                found = None if self.locked_out else self.credential_store.find_finger(sample)
                self.verify_outside(CredentialType.Fingerprint, found)
        return self._end()

    @physical_input
    def present_card(self, uid: str) -> Output:
        """A card held to the reader area; wakes the lock."""
        self._begin()
        if self.powered and not self.front_panel_removed:
            self.touched()
            if self.menu is not None:
                self.menu.on_card(uid)
            elif not self.pairing:
                found = None if self.locked_out else self.credential_store.find_card(uid)
                self.verify_outside(CredentialType.RFID, found)
        return self._end()

    def press_doorbell(self) -> Output:
        """L13.1: rings (not silenced by mute) and tells the app through the gateway."""
        self._begin()
        if self.powered:
            self._out.ringing = True
            self.emit(Doorbell(ts=self.now))
        return self._end()

    def turn_key(self) -> Output:
        """The mechanical key: works without power and during lockout (L8.1, L10.2, L10.5)."""
        return self._manual("key")

    def turn_inside_knob(self) -> Output:
        """The inside knob (låsvred): toggles the bolt; ends privacy mode (L11.2)."""
        self._begin()
        if self.memory.operating_mode == OperatingMode.Privacy:
            self.set_mode(OperatingMode.Normal, OperationSource.Manual)
        return self._manual("inside_knob", begun=True)

    def _manual(self, mechanism: str, begun: bool = False) -> Output:
        if not begun:
            self._begin()
        if self.memory.operating_mode == OperatingMode.Passage and self.motor == MotorState.UNLOCKED:
            return self._end()  # normally-open holds the bolt back; only a verification ends it (L11.1)
        if self.motor == MotorState.LOCKED:
            self.unlock(OperationSource.Manual, mechanism=mechanism)
            if not self.powered:
                self.relock_at = None  # no power, no motor to relock
        else:
            self.lock(OperationSource.Manual, mechanism=mechanism)
        return self._end()

    # -- back panel ---------------------------------------------------------------------------
    def press_privacy_button(self) -> Output:
        """L11.2: only while locked; pressing again (or the knob) returns to normal."""
        self._begin()
        mode = self.memory.operating_mode
        if self.powered:
            if mode == OperatingMode.Privacy:
                self.set_mode(OperatingMode.Normal, OperationSource.Button)
            elif mode == OperatingMode.Normal and self.motor == MotorState.LOCKED:
                self.set_mode(OperatingMode.Privacy, OperationSource.Button)
                self.say(Prompt.PRIVACY_MODE)
        return self._end()

    def press_reset(self) -> Output:
        """Push a pin into the RESET hole and keep it there (released by ``release_reset``).

        After 3 s held the pairing prompt comes by itself, while the pin is still in (L12.2): a timer
        that fires on ``tick()`` once the clock has moved.
        """
        self._begin()
        self.reset_down_at = self.now
        self.reset_hold_done = False
        return self._end()

    def release_reset(self) -> Output:
        """Held 3 s: pairing (L12.2), if the timer has not started it yet. Held 5 s since before
        power-up: the factory reset prompt (L12.1)."""
        self._begin()  # a 3 s hold that is due fires here, stamped with the instant it was due
        down, self.reset_down_at = self.reset_down_at, None
        held = 0.0 if down is None else self.now - down
        if self.powered and down is not None:
            if self.reset_held_at_boot and held >= FACTORY_RESET_HOLD_S:
                self.touched()
                self.factory_reset_armed = True
                self.say(Prompt.FACTORY_RESET_CONFIRM)
            elif held >= PAIRING_HOLD_S and not self.reset_hold_done:
                self.enter_pairing(self.now)
        self.reset_held_at_boot = False
        self.reset_hold_done = False
        return self._end()

    def hold_reset(self, seconds: float) -> Output:
        """The RESET hole held for ``seconds`` ending now (the press started that long ago)."""
        self._begin()
        self.reset_down_at = self.now - seconds
        self.reset_hold_done = False
        self._end()
        return self.release_reset()

    def remove_batteries(self) -> Output:
        return self._power(batteries_in=False)

    def insert_batteries(self) -> Output:
        return self._power(batteries_in=True)

    def set_battery_voltage(self, volts: float) -> Output:
        if not 0.0 <= volts <= 7.0:
            raise ValueError(f"{volts} V is not a voltage 4xAA can have (0-7 V)")
        return self._power(voltage=volts)

    def connect_usb(self) -> Output:
        """L10.5: a power bank on the emergency micro-USB input."""
        return self._power(usb=True)

    def disconnect_usb(self) -> Output:
        return self._power(usb=False)

    def _power(
        self, batteries_in: bool | None = None, voltage: float | None = None, usb: bool | None = None
    ) -> Output:
        self._begin()
        was = self.powered
        if batteries_in is not None:
            self.batteries_in = batteries_in
        if voltage is not None:
            self.battery_voltage = voltage
            if voltage >= 4.8:
                self._low_reported = False
        if usb is not None:
            self.usb_power = usb
        if self.powered and not was:
            self._power_on()
        elif was and not self.powered:
            self.sleep()
            self.menu = None
            self.pairing = False
            self.display = Display()
        return self._end()

    # -- tamper (L10.1) -----------------------------------------------------------------------
    def remove_front_panel(self) -> Output:
        self._begin()
        self.front_panel_removed = True
        self.menu = None  # the keypad is disconnected: dark, and an open menu is gone with it
        self.sleep()
        if self.powered:
            self.tamper_until = self.now + self.memory.settings.tamper_alarm_time
            self.emit(DoorLockAlarm(ts=self.now, alarm_code=AlarmCode.FrontEsceutcheonRemoved))
        return self._end()

    def replace_front_panel(self) -> Output:
        self._begin()
        self.front_panel_removed = False
        return self._end()

    def set_bolt_jammed(self, jammed: bool) -> Output:
        """Something blocks the bolt (or is cleared): the motor cannot move it (Matter LockJammed)."""
        self._begin()
        self.bolt_jammed = jammed
        if not jammed and self.jam_detected:
            self.jam_detected = False
            self.emit(DoorLockAlarm(ts=self.now, alarm_code=AlarmCode.LockJammed, active=False))
        return self._end()

    def tick(self) -> Output:
        """Let timers due by the clock's current time fire (relock, sleep, menu timeout, alarms)."""
        self._begin()
        return self._end()
