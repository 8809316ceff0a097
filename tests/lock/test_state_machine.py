"""Property-based tests: random sequences of every physical and remote input (hypothesis).

Invariants: nothing unknown unlocks; at most 50 per type; a lockout lasts exactly 180 s of the lock's
clock; the credential a menu session verified with is never deleted; an empty lock (initial mode, e.g.
after initialize) is opened by no fingerprint, code or card.
"""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from vakt.lock import AlarmCode, CredentialType, Finger, InMemoryStore, Lock, ManualClock, Output, RemoteError
from vakt.lock.events import DoorLockAlarm, LockOperation

CODES = ["135790", "2468024", "11223344", "908172635"]
CARDS = ["04A1B2C3", "0411223344556677", "04FFEE00"]
FINGERS = [Finger.from_name(n, flat=False) for n in ("sm-alice", "sm-bob")]
STRANGER = Finger.from_name("sm-stranger", flat=False)
STATS = {"menu": 0, "lockout": 0}
CREDENTIAL_SOURCES = {"Keypad", "RFID", "Biometric"}


class LockMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock()
        self.lock = Lock(self.clock, InMemoryStore(), sensor_seed=5)
        self.enrolled_codes: set[str] = set()
        self.lockout_started: float | None = None

    # -- helpers ----------------------------------------------------------------------------
    def _check(self, out: Output | None = None, unknown: bool = False, was_empty: bool = False) -> None:
        """Check every event raised since the last check (including timers fired inside remote calls)."""
        for e in self.lock.drain_events():
            by_credential = isinstance(e, LockOperation) and e.operation_source in CREDENTIAL_SOURCES
            if by_credential and e.lock_operation_type == "Unlock":
                assert not unknown, "an unknown credential unlocked the door"
                assert not was_empty, "an empty lock opened for a credential"
            if isinstance(e, DoorLockAlarm) and e.alarm_code == AlarmCode.WrongCodeEntryLimit:
                if e.active:
                    self.lockout_started = e.ts
                else:
                    assert self.lockout_started is not None
                    assert e.ts - self.lockout_started == 180.0
                    self.lockout_started = None

    def _keys(self, keys: str, unknown: bool = False) -> None:
        empty = self.lock.state().initial_mode
        for k in keys:
            self._check(self.lock.press_key(k), unknown=unknown, was_empty=empty)

    # -- rules ------------------------------------------------------------------------------
    @rule(seconds=st.sampled_from([0.5, 3, 6, 11, 31, 60, 179.5, 180, 200]))
    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self._check(self.lock.tick())

    @rule()
    def touch(self) -> None:
        self._check(self.lock.touch_keypad())

    @rule(keys=st.text(alphabet="0123456789*#", max_size=25))
    def random_keys(self, keys: str) -> None:
        known = any(c in keys for c in self.enrolled_codes) or "3571" in keys
        self._keys(keys, unknown=not known and not self.lock.menu)

    @rule(code=st.sampled_from(CODES), scramble=st.text(alphabet="0123456789", max_size=6))
    def type_code(self, code: str, scramble: str) -> None:
        self.lock.touch_keypad()
        typed = scramble + code
        known = any(c in typed for c in self.enrolled_codes)
        self._keys(typed + "#", unknown=not known and self.lock.menu is None)

    @rule(card=st.sampled_from(CARDS))
    def card(self, card: str) -> None:
        self._check(self.lock.present_card(card), was_empty=self.lock.state().initial_mode)

    @rule(stranger=st.booleans(), which=st.integers(0, len(FINGERS) - 1))
    def finger(self, stranger: bool, which: int) -> None:
        f = STRANGER if stranger else FINGERS[which]
        self._check(self.lock.place_finger(f), unknown=stranger, was_empty=self.lock.state().initial_mode)

    @rule(
        action=st.sampled_from(
            ["key", "knob", "privacy", "bell", "tamper", "panel_back", "usb", "no_usb", "jam", "unjam"]
        )
    )
    def physical(self, action: str) -> None:
        lk = self.lock
        out = {
            "key": lk.turn_key,
            "knob": lk.turn_inside_knob,
            "privacy": lk.press_privacy_button,
            "bell": lk.press_doorbell,
            "tamper": lk.remove_front_panel,
            "panel_back": lk.replace_front_panel,
            "usb": lk.connect_usb,
            "no_usb": lk.disconnect_usb,
            "jam": lambda: lk.set_bolt_jammed(True),
            "unjam": lambda: lk.set_bolt_jammed(False),
        }[action]()
        self._check(out)

    @rule(volts=st.sampled_from([3.5, 4.2, 4.9, 6.0]))
    def battery(self, volts: float) -> None:
        self._check(self.lock.set_battery_voltage(volts))

    @rule()
    def power_cycle(self) -> None:
        self._check(self.lock.remove_batteries())
        self._check(self.lock.insert_batteries())

    @rule(seconds=st.sampled_from([1, 3, 4]))
    def reset_hole(self, seconds: float) -> None:
        self._check(self.lock.hold_reset(seconds))

    @rule(code=st.sampled_from(CODES), admin=st.booleans())
    def app_adds_code(self, code: str, admin: bool) -> None:
        try:
            self.lock.add_credential(
                CredentialType.PIN, code, user_type="ProgrammingUser" if admin else "UnrestrictedUser"
            )
            self.enrolled_codes.add(code)
        except RemoteError:
            pass
        self._check()

    @rule(kind=st.sampled_from(list(CredentialType)), index=st.integers(1, 3))
    def app_deletes(self, kind: CredentialType, index: int) -> None:
        with contextlib.suppress(RemoteError):
            self.lock.delete_credential(kind, index)
        self._check()
        self._forget_deleted_codes()

    @rule(
        setting=st.sampled_from(
            ["12#", "13#", "11#", "21#1#", "22#1#", "23#1#", "31#", "32#", "33#", "3570#", "41#", "43#"]
        )
    )
    def menu_setting(self, setting: str) -> None:
        """A menu procedure, if the menu is open past verification."""
        self.lock.touch_keypad()
        self._keys(setting)
        self._keys("#")  # confirm (or a code/number entry that is just '#')
        self._forget_deleted_codes()

    @rule(verify=st.sampled_from(CODES))
    def open_menu(self, verify: str) -> None:
        self.lock.touch_keypad()
        self._keys("3571#")
        if (
            self.lock.menu is not None
            and self.lock.menu.verified_by is None
            and not self.lock.state().initial_mode
        ):
            self._keys(verify + "#", unknown=verify not in self.enrolled_codes)
        STATS["menu"] += self.lock.menu is not None
        STATS["lockout"] += self.lock.locked_out

    @rule(which=st.integers(0, len(FINGERS) - 1))
    def menu_touches(self, which: int) -> None:
        for _ in range(5):
            self._check(self.lock.place_finger(FINGERS[which]))

    @rule(code=st.sampled_from(CODES))
    def menu_add_code(self, code: str) -> None:
        self.lock.touch_keypad()
        self._keys("12#" + code + "#" + code + "#")
        if self.lock.credential_store.find_code(code) is not None:
            self.enrolled_codes.add(code)

    def _forget_deleted_codes(self) -> None:
        self.enrolled_codes = {c for c in self.enrolled_codes if self.lock.credential_store.find_code(c)}

    # -- invariants -------------------------------------------------------------------------
    @invariant()
    def at_most_fifty_per_type(self) -> None:
        assert all(n <= 50 for n in self.lock.state().counts.values())

    @invariant()
    def verifying_credential_still_stored(self) -> None:
        menu = self.lock.menu
        if menu is not None and menu.verified_by is not None:
            v = menu.verified_by
            assert self.lock.credential_store.get(v.credential_type, v.index) is not None

    @invariant()
    def lockout_is_exactly_180s(self) -> None:
        until = self.lock.state().lockout_until
        if until is not None:
            assert self.lockout_started is not None and until - self.lockout_started == 180.0


TestLockMachine = LockMachine.TestCase
TestLockMachine.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def test_state_machine_reaches_menu_and_lockout() -> None:
    """The random runs above did open the menu and did lock out (so the invariants were exercised)."""
    if STATS["menu"] == 0:
        TestLockMachine().runTest()
    assert STATS["menu"] > 0 and STATS["lockout"] > 0, STATS
