"""Bad input at the panel and the remote interface: clear errors, nothing lost (L3-L8, A7)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.lock.conftest import CARD_A, add_code, leave_menu_and_sleep, open_menu, press, wake
from vakt.lock import CredentialType, InMemoryStore, Lock, ManualClock, MotorState, RemoteError
from vakt.lock.inputs import apply_input

STEP = st.one_of(
    st.sampled_from(list("0123456789*#")),
    st.floats(min_value=0, max_value=400, allow_nan=False).map(lambda s: ("wait", s)),
    st.just("touch"),
)


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(STEP, max_size=80))
def test_any_keys_any_length_any_timing_never_breaks_the_lock(steps: list[object]) -> None:
    clock = ManualClock()
    lock = Lock(clock, InMemoryStore())
    open_menu(lock)
    add_code(lock, "482915")
    leave_menu_and_sleep(lock, clock)
    for step in steps:
        if isinstance(step, tuple):
            clock.advance(step[1])
            lock.tick()
        elif step == "touch":
            lock.touch_keypad()
        else:
            lock.press_key(str(step))
    # whatever happened, the stored code survives unless the menu (opened by its admin) removed it
    clock.advance(400)
    lock.tick()
    lock.press_key("*")
    wake(lock)
    opened = press(lock, "482915#").motor == MotorState.UNLOCKED
    assert opened or lock.state().counts[CredentialType.PIN] == 0 or lock.locked_out


def test_keys_that_do_not_exist_are_refused(lock: Lock) -> None:
    for bad in ("A", "", "12", " ", "\n"):
        with pytest.raises(ValueError, match="keypad"):
            lock.press_key(bad)


def test_bad_card_uid_while_adding_gives_failure_and_stores_nothing(lock: Lock) -> None:
    open_menu(lock)
    press(lock, "13#")
    out = lock.present_card("not-a-uid")
    assert "failure" in out.prompts and lock.state().counts[CredentialType.RFID] == 0
    wake(lock)
    assert lock.present_card("zz").motor == MotorState.LOCKED


def test_delete_number_garbage_is_number_empty(lock: Lock) -> None:
    open_menu(lock)
    add_code(lock, "123456")
    for number in ("0", "51", "999", "", "00000000000000000001"):
        assert "number_empty" in press(lock, f"22#{number}#").prompts
    assert lock.state().counts[CredentialType.PIN] == 1


@pytest.mark.parametrize(
    ("kind", "secret", "message"),
    [
        ("PIN", "12345", "6 to 10 digits"),
        ("PIN", "12345678901", "6 to 10 digits"),
        ("PIN", "12ab56", "6 to 10 digits"),
        ("RFID", "xyz", "not 4, 7 or 10 bytes"),
        ("Fingerprint", "anything", "enrolled at the lock"),
    ],
)
def test_remote_add_refuses_bad_credentials_clearly(lock: Lock, kind: str, secret: str, message: str) -> None:
    with pytest.raises(RemoteError, match=message):
        lock.add_credential(CredentialType(kind), secret)
    assert lock.state().initial_mode


def test_remote_add_duplicate_and_full(lock: Lock) -> None:
    lock.add_credential(CredentialType.CARD, CARD_A)
    with pytest.raises(RemoteError, match="already stored"):
        lock.add_credential(CredentialType.CARD, CARD_A.lower())
    for i in range(49):
        lock.add_credential(CredentialType.CARD, f"{0x20000000 + i:08X}")
    with pytest.raises(RemoteError, match="all 50"):
        lock.add_credential(CredentialType.CARD, "0A0B0C0D")
    with pytest.raises(RemoteError, match="holds nothing"):
        lock.delete_credential(CredentialType.PIN, 7)


def test_remote_bad_window_and_dead_battery(lock: Lock) -> None:
    with pytest.raises(RemoteError, match="after valid_from"):
        lock.add_credential(CredentialType.PIN, "123456", valid_from=10.0, valid_until=5.0)
    lock.set_battery_voltage(3.0)
    with pytest.raises(RemoteError, match="no power"):
        lock.remote_unlock()
    events = lock.drain_events()
    assert events[-1].type == "LockOperationError"


def test_named_inputs_reject_unknown_names_and_values(lock: Lock) -> None:
    with pytest.raises(ValueError, match="unknown lock input"):
        apply_input(lock, "open-sesame")
    with pytest.raises(ValueError, match="expected a number"):
        apply_input(lock, "battery", "lots")
    with pytest.raises(ValueError, match="on or off"):
        apply_input(lock, "usb", "maybe")
    with pytest.raises(ValueError, match="voltage"):
        apply_input(lock, "battery", "99")
