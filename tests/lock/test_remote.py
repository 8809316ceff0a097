"""The remote interface the gateway drives (A7, G7, L11, L12.2) and named panel inputs."""

from __future__ import annotations

import json

import pytest

from tests.lock.conftest import CARD_A, add_code, open_menu, press
from vakt.lock import (
    CredentialType,
    Lock,
    ManualClock,
    MotorState,
    OperatingMode,
    RemoteError,
    UserType,
    Volume,
    parse_event,
)
from vakt.lock.inputs import INPUTS, apply_input


def test_events_round_trip_through_protocol_data(lock: Lock, clock: ManualClock) -> None:
    open_menu(lock)
    add_code(lock, "123456")
    press(lock, "*")
    lock.remote_unlock()
    lock.press_doorbell()
    lock.remove_front_panel()
    lock.replace_front_panel()
    lock.hold_reset(3)
    press(lock, "*")
    clock.advance(61)  # tamper alarm over, keypad asleep
    lock.set_battery_voltage(4.5)
    lock.touch_keypad()
    events = lock.drain_events()
    kinds = {e.type for e in events}
    assert {
        "LockUserChange",
        "LockOperation",
        "Doorbell",
        "DoorLockAlarm",
        "PairingMode",
        "LowBattery",
    } <= kinds
    for e in events:
        data = json.loads(json.dumps(e.to_protocol_data()))
        assert parse_event(e.type, data) == e
    assert lock.drain_events() == []


def test_remote_modes_volume_and_privacy_refusal(lock: Lock) -> None:
    lock.set_operating_mode(OperatingMode.Passage)
    assert lock.state().motor == MotorState.UNLOCKED
    lock.set_operating_mode(OperatingMode.Normal)
    assert lock.state().motor == MotorState.LOCKED
    with pytest.raises(RemoteError, match="privacy"):
        lock.set_operating_mode(OperatingMode.Privacy)
    lock.press_privacy_button()
    with pytest.raises(RemoteError, match="privacy mode"):
        lock.remote_unlock()
    lock.set_volume(Volume.MUTE)
    state = json.loads(lock.state().model_dump_json())
    assert state["kind"] == "lock" and state["emulated"] and state["volume"] == "mute"


def test_credentials_listing_never_shows_secrets(lock: Lock) -> None:
    lock.add_credential(CredentialType.CARD, CARD_A, user_type=UserType.ProgrammingUser, name="Anna")
    index = lock.add_credential(CredentialType.CODE, "13572468", name="guest", max_uses=3)
    assert index == 1
    text = json.dumps([c.model_dump(mode="json") for c in lock.credentials()])
    assert "13572468" not in text and CARD_A not in text and "Anna" in text


def test_pairing_only_while_the_interface_is_open(lock: Lock) -> None:
    assert not lock.complete_pairing()
    lock.hold_reset(3.2)
    assert lock.state().pairing_mode and lock.complete_pairing()
    assert lock.state().paired and not lock.state().pairing_mode
    lock.unpair()
    assert not lock.state().paired


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_every_named_input_works(lock: Lock, name: str) -> None:
    value = {
        "key": "5",
        "keys": "12#",
        "finger": "someone",
        "card": CARD_A,
        "reset": "1",
        "batteries": "on",
        "battery": "5.5",
        "usb": "on",
        "tamper": "on",
    }.get(name)
    out = apply_input(lock, name, value)
    assert out.motor in (MotorState.LOCKED, MotorState.UNLOCKED)


def test_jammed_bolt_raises_lock_jammed_and_stays_put(lock: Lock, clock: ManualClock) -> None:
    """A blocked bolt (the manual's warped-door FAQ): Matter LockJammed, reported until freed."""
    lock.set_bolt_jammed(True)
    out = lock.remote_unlock()
    assert out.motor == MotorState.LOCKED and "bolt_jammed" in out.prompts
    assert "LockJammed" in out.alarms and lock.state().bolt_jammed
    assert [e.type for e in out.events] == ["DoorLockAlarm"]
    out = lock.set_bolt_jammed(False)
    assert not out.alarms and out.events[0].model_dump()["active"] is False
    assert lock.remote_unlock().motor == MotorState.UNLOCKED


def test_every_prompt_has_words() -> None:
    from vakt.lock.types import PROMPT_TEXT, Prompt

    assert set(PROMPT_TEXT) == set(Prompt)
