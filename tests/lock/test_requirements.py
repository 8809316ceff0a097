"""One test per requirement of spec/lock.md, each following the manual's procedure key by key."""

from __future__ import annotations

import json

import pytest

from tests.lock.conftest import (
    ALICE,
    BOB,
    CARD_A,
    CARD_B,
    add_card,
    add_code,
    add_finger,
    has,
    leave_menu_and_sleep,
    open_menu,
    press,
    wake,
)
from vakt.lock import (
    AlarmCode,
    CredentialType,
    InMemoryStore,
    Lock,
    ManualClock,
    MotorState,
    OperatingMode,
    OperationSource,
    Prompt,
    RemoteError,
    UserType,
    Volume,
)
from vakt.lock import fingerprint as fp
from vakt.lock.credentials import Credential
from vakt.lock.events import DoorLockAlarm, LockOperation, LockOperationErrorEvent, LockUserChange

# -- L1 capacity and numbering ---------------------------------------------------------------


def _fill_fingerprints(lock: Lock, n: int) -> None:
    """Store n enrolled templates directly (enrolling 50 by hand is covered for codes and cards)."""
    sensor = fp.Sensor(1)
    for i in range(n):
        f = fp.Finger.from_name(f"filler-{i}", flat=False)
        tpl = fp.template_to_list(fp.enroll([sensor.capture(f) for _ in range(5)]))
        lock.credential_store.add(
            Credential(credential_type=CredentialType.Fingerprint, index=1, template=tpl)
        )
    lock.save()


def test_L1_1_fifty_fingerprints_fifty_codes_fifty_cards(lock: Lock) -> None:
    open_menu(lock)
    for i in range(50):
        assert has(add_code(lock, f"{100000 + i * 7919:06d}"), Prompt.SUCCESS)
        assert has(add_card(lock, f"{0x10000000 + i:08X}"), Prompt.SUCCESS)
    _fill_fingerprints(lock, 50)
    assert lock.state().counts == {
        CredentialType.PIN: 50,
        CredentialType.RFID: 50,
        CredentialType.Fingerprint: 50,
    }


def test_L1_2_numbers_blink_per_type_lowest_free_first(lock: Lock) -> None:
    open_menu(lock)
    out = add_code(lock, "123456")
    assert out.display.text == "1" and out.display.blinking
    assert add_code(lock, "234567").display.text == "2"
    assert add_card(lock, CARD_A).display.text == "1"  # numbering is per type
    press(lock, "22#1#")
    press(lock, "#")  # delete code 1
    assert add_code(lock, "345678").display.text == "1"  # lowest free number first


def test_L1_3_full_store_refuses_with_prompt_and_changes_nothing(lock: Lock) -> None:
    open_menu(lock)
    for i in range(50):
        add_code(lock, f"{200000 + i:06d}")
    before = lock.state().counts
    out = press(lock, "12#")
    assert has(out, Prompt.STORAGE_FULL)
    _fill_fingerprints(lock, 50)
    assert has(press(lock, "11#"), Prompt.STORAGE_FULL)
    assert lock.state().counts[CredentialType.PIN] == before[CredentialType.PIN] == 50


# -- L2 modes ---------------------------------------------------------------------------------


def test_L2_1_initial_mode_menu_without_verification_and_only_key_unlocks(lock: Lock) -> None:
    assert lock.state().initial_mode
    wake(lock)
    assert has(press(lock, "123456#"), Prompt.FAILURE)
    assert lock.place_finger(ALICE).motor == MotorState.LOCKED
    assert lock.present_card(CARD_A).motor == MotorState.LOCKED
    out = press(lock, "3571#")
    assert has(out, Prompt.ENTER_SETTING) and not has(out, Prompt.VERIFY_ADMIN)
    press(lock, "*")
    assert lock.turn_key().motor == MotorState.UNLOCKED


def test_L2_2_non_initial_mode_menu_asks_for_admin(lock: Lock, clock: ManualClock) -> None:
    open_menu(lock)
    add_code(lock, "123456")
    leave_menu_and_sleep(lock, clock)
    out = open_menu(lock)
    assert has(out, Prompt.VERIFY_ADMIN)
    assert has(press(lock, "123456#"), Prompt.ENTER_SETTING)


def test_L2_3_keypad_credentials_are_admins_app_users_cannot_open_menu(
    lock: Lock, clock: ManualClock
) -> None:
    open_menu(lock)
    add_code(lock, "123456")
    leave_menu_and_sleep(lock, clock)
    assert lock.credentials()[0].user_type == UserType.ProgrammingUser
    lock.add_credential(CredentialType.PIN, "654321", user_type=UserType.UnrestrictedUser, name="cleaner")
    wake(lock)
    assert press(lock, "654321#").motor == MotorState.UNLOCKED
    out = open_menu(lock, "654321")
    assert has(out, Prompt.NOT_ADMIN) and lock.menu is not None and not has(out, Prompt.ENTER_SETTING)


# -- L3 waking --------------------------------------------------------------------------------


def test_L3_1_sleeping_keypad_ignores_keys_but_wakes(lock: Lock, clock: ManualClock) -> None:
    open_menu(lock)
    add_code(lock, "123456")
    leave_menu_and_sleep(lock, clock)
    first = lock.press_key("1")  # wakes; the 1 is not taken
    assert first.display.lit and not first.key_tone
    assert press(lock, "23456#").motor == MotorState.LOCKED
    assert press(lock, "123456#").motor == MotorState.UNLOCKED


def test_L3_2_keypad_sleeps_after_10s_menu_closes_after_30s(lock: Lock, clock: ManualClock) -> None:
    wake(lock)
    clock.advance(9.9)
    assert lock.tick().display.lit
    clock.advance(0.2)
    assert not lock.tick().display.lit
    open_menu(lock)
    clock.advance(29)
    assert lock.menu is not None and lock.tick().display.lit
    clock.advance(1.5)
    out = lock.tick()
    assert lock.menu is None and has(out, Prompt.MENU_CLOSED)


def test_L3_3_every_key_press_gives_a_key_tone(lock: Lock) -> None:
    wake(lock)
    assert all(o.key_tone for o in lock.press_keys("1234*#"))


# -- L4 menu ----------------------------------------------------------------------------------


def test_L4_1_menu_code_then_verification_then_setting(lock: Lock, clock: ManualClock) -> None:
    open_menu(lock)
    add_card(lock, CARD_A)
    leave_menu_and_sleep(lock, clock)
    assert has(open_menu(lock), Prompt.VERIFY_ADMIN)
    assert has(lock.present_card(CARD_A), Prompt.ENTER_SETTING)


def test_L4_2_setting_codes_table(lock: Lock) -> None:
    open_menu(lock)
    assert has(press(lock, "11#"), Prompt.TOUCH_FINGER)
    press(lock, "*")
    assert has(press(lock, "12#"), Prompt.ENTER_CODE)
    press(lock, "*")
    assert has(press(lock, "13#"), Prompt.PRESENT_CARD)
    press(lock, "*")
    for code in ("21#", "22#", "23#"):
        assert has(press(lock, code), Prompt.ENTER_NUMBER)
        press(lock, "*")
    for code in ("31#", "32#", "33#", "3570#"):
        assert has(press(lock, code), Prompt.CONFIRM)
        press(lock, "*")
    for code, vol in (("41#", Volume.HIGH), ("42#", Volume.LOW), ("43#", Volume.MUTE)):
        press(lock, code)
        assert lock.state().volume == vol


def test_L4_3_back_to_menu_after_each_setting_star_leaves(lock: Lock) -> None:
    open_menu(lock)
    add_code(lock, "123456")
    assert lock.menu is not None
    assert has(add_card(lock, CARD_A), Prompt.SUCCESS)  # another code right away
    out = press(lock, "*")
    assert lock.menu is None and has(out, Prompt.MENU_CLOSED)


def test_L4_4_unknown_code_errors_and_stays_in_menu(lock: Lock) -> None:
    open_menu(lock)
    assert has(press(lock, "99#"), Prompt.INVALID_SETTING)
    assert lock.menu is not None
    assert has(press(lock, "12#"), Prompt.ENTER_CODE)


# -- L5 adding --------------------------------------------------------------------------------


def test_L5_1_fingerprint_five_touches_count_shown_duplicate_refused(lock: Lock) -> None:
    open_menu(lock)
    press(lock, "11#")
    for n in range(1, 5):
        out = lock.place_finger(ALICE)
        assert out.display.text == str(n) and has(out, Prompt.TOUCH_AGAIN)
    tip = fp.Sensor(9).capture(ALICE)[:5]  # a fingertip barely touching: not counted
    out = lock.place_finger(tip)
    assert has(out, Prompt.TOUCH_AGAIN) and out.display.text == "4"
    out = lock.place_finger(ALICE)
    assert has(out, Prompt.SUCCESS) and out.display.text == "1" and out.display.blinking
    assert has(add_finger(lock, ALICE), Prompt.ALREADY_EXISTS)
    assert lock.state().counts[CredentialType.Fingerprint] == 1
    assert add_finger(lock, BOB).display.text == "2"


def test_L5_2_code_six_to_ten_digits_confirmed(lock: Lock) -> None:
    open_menu(lock)
    press(lock, "12#")
    assert has(press(lock, "12345#"), Prompt.INVALID_CODE_LENGTH)
    press(lock, "12#")
    assert has(press(lock, "12345678901#"), Prompt.INVALID_CODE_LENGTH)
    press(lock, "12#")
    press(lock, "123456#")
    assert has(press(lock, "123457#"), Prompt.CODES_DIFFER)
    assert lock.state().counts[CredentialType.PIN] == 0
    assert add_code(lock, "1234567890").display.text == "1"
    assert has(add_code(lock, "1234567890"), Prompt.ALREADY_EXISTS)
    assert lock.state().counts[CredentialType.PIN] == 1


def test_L5_3_card_number_blinks_duplicate_refused(lock: Lock) -> None:
    open_menu(lock)
    out = add_card(lock, CARD_A)
    assert out.display.text == "1" and out.display.blinking
    assert has(add_card(lock, CARD_A), Prompt.ALREADY_EXISTS)
    assert add_card(lock, CARD_B).display.text == "2"


def test_L5_4_first_credential_ends_initial_mode(lock: Lock, clock: ManualClock) -> None:
    assert lock.state().initial_mode
    open_menu(lock)
    add_card(lock, CARD_A)
    assert not lock.state().initial_mode
    leave_menu_and_sleep(lock, clock)
    assert has(open_menu(lock), Prompt.VERIFY_ADMIN)


# -- L6 deleting and clearing -----------------------------------------------------------------


def test_L6_1_delete_by_number_blink_confirm_empty_number_errors(lock: Lock) -> None:
    open_menu(lock)
    add_code(lock, "123456")
    add_code(lock, "234567")
    out = press(lock, "22#2#")
    assert out.display.text == "2" and out.display.blinking and has(out, Prompt.CONFIRM)
    out = press(lock, "#")
    assert has(out, Prompt.SUCCESS)
    assert any(isinstance(e, LockUserChange) and e.data_index == 2 for e in out.events)
    assert has(press(lock, "22#2#"), Prompt.NUMBER_EMPTY)
    assert has(press(lock, "23#7#"), Prompt.NUMBER_EMPTY)


def test_L6_2_credential_used_to_verify_cannot_be_deleted(lock: Lock, clock: ManualClock) -> None:
    open_menu(lock)
    add_finger(lock, ALICE)
    add_finger(lock, BOB)
    leave_menu_and_sleep(lock, clock)
    open_menu(lock, ALICE)  # verified with fingerprint 1
    assert has(press(lock, "21#1#"), Prompt.CANNOT_DELETE_CURRENT)
    assert lock.state().counts[CredentialType.Fingerprint] == 2
    press(lock, "21#2#")
    assert has(press(lock, "#"), Prompt.SUCCESS)


def test_L6_3_clear_all_confirm_not_the_verifying_method(lock: Lock, clock: ManualClock) -> None:
    open_menu(lock)
    add_finger(lock, ALICE)
    add_code(lock, "123456")
    add_card(lock, CARD_A)
    leave_menu_and_sleep(lock, clock)
    open_menu(lock, ALICE)
    assert has(press(lock, "31#"), Prompt.CANNOT_DELETE_CURRENT)
    press(lock, "32#")
    assert has(press(lock, "#"), Prompt.SUCCESS)
    press(lock, "33#")
    press(lock, "#")
    assert lock.state().counts == {
        CredentialType.PIN: 0,
        CredentialType.RFID: 0,
        CredentialType.Fingerprint: 1,
    }


def test_L6_4_deleting_the_last_credential_returns_to_initial_mode(lock: Lock, clock: ManualClock) -> None:
    open_menu(lock)
    add_code(lock, "123456")
    add_card(lock, CARD_A)
    leave_menu_and_sleep(lock, clock)
    open_menu(lock, "123456")
    press(lock, "33#")
    press(lock, "#")  # the cards go, the code stays
    assert not lock.state().initial_mode
    leave_menu_and_sleep(lock, clock)
    open_menu(lock, "C:" + CARD_A)  # the card is gone: verification fails
    assert lock.menu is not None and lock.menu.verified_by is None
    press(lock, "*")
    open_menu(lock, "123456")
    lock.remote_unlock()
    lock.delete_credential(CredentialType.PIN, 1)  # from the app: nothing left
    assert lock.state().initial_mode
    leave_menu_and_sleep(lock, clock)
    assert has(open_menu(lock), Prompt.ENTER_SETTING)


# -- L7 initialize ----------------------------------------------------------------------------


def test_L7_1_initialize_clears_all_three_stores(lock: Lock, clock: ManualClock) -> None:
    open_menu(lock)
    add_finger(lock, ALICE)
    add_code(lock, "123456")
    add_card(lock, CARD_A)
    leave_menu_and_sleep(lock, clock)
    open_menu(lock, "123456")
    assert has(press(lock, "3570#"), Prompt.CONFIRM)
    assert has(press(lock, "#"), Prompt.INITIALIZED)
    assert lock.state().initial_mode
    leave_menu_and_sleep(lock, clock)
    wake(lock)
    assert press(lock, "123456#").motor == MotorState.LOCKED
    assert lock.place_finger(ALICE).motor == MotorState.LOCKED


def test_L7_2_initialize_restores_settings_but_keeps_pairing(lock: Lock, clock: ManualClock) -> None:
    lock.hold_reset(3)
    assert lock.complete_pairing()
    wake(lock)
    open_menu(lock)
    press(lock, "43#")
    add_code(lock, "123456")
    press(lock, "3570#")
    press(lock, "#")
    state = lock.state()
    assert state.volume == Volume.HIGH and state.paired


# -- L8 unlocking -----------------------------------------------------------------------------


def test_L8_1_fingerprint_code_card_and_key_unlock(lock: Lock, clock: ManualClock) -> None:
    open_menu(lock)
    add_finger(lock, ALICE)
    add_code(lock, "123456")
    add_card(lock, CARD_A)
    leave_menu_and_sleep(lock, clock)
    assert lock.place_finger(ALICE).motor == MotorState.UNLOCKED
    clock.advance(6)
    wake(lock)
    assert press(lock, "123456#").motor == MotorState.UNLOCKED
    clock.advance(6)
    assert lock.present_card(CARD_A).motor == MotorState.UNLOCKED
    clock.advance(6)
    assert lock.tick().motor == MotorState.LOCKED
    assert lock.turn_key().motor == MotorState.UNLOCKED


def test_L8_2_scrambled_code_contiguous_at_most_20_digits(lock: Lock, clock: ManualClock) -> None:
    open_menu(lock)
    add_code(lock, "123456")
    leave_menu_and_sleep(lock, clock)
    wake(lock)
    assert press(lock, "987123456321#").motor == MotorState.UNLOCKED
    clock.advance(6)
    assert press(lock, "12345678901234123456#").motor == MotorState.UNLOCKED  # 20 digits
    clock.advance(6)
    assert press(lock, "123451234561234512345#").motor == MotorState.LOCKED  # 21 digits
    assert press(lock, "1234056#").motor == MotorState.LOCKED  # not contiguous


def test_L8_3_relocks_after_five_seconds(lock: Lock, clock: ManualClock) -> None:
    start = clock.now()
    lock.turn_key()
    clock.advance(4.9)
    assert lock.tick().motor == MotorState.UNLOCKED
    clock.advance(0.2)
    out = lock.tick()
    assert out.motor == MotorState.LOCKED
    relock = next(e for e in out.events if isinstance(e, LockOperation))
    assert relock.operation_source == OperationSource.Auto and relock.ts == start + 5


def test_L8_4_each_operation_and_failure_is_an_event_with_source(lock: Lock, clock: ManualClock) -> None:
    open_menu(lock)
    add_finger(lock, ALICE)
    add_code(lock, "123456")
    add_card(lock, CARD_A)
    leave_menu_and_sleep(lock, clock)
    lock.drain_events()
    lock.place_finger(ALICE)
    wake(lock)
    press(lock, "123456#")
    lock.present_card(CARD_A)
    lock.present_card(CARD_B)
    lock.turn_inside_knob()
    lock.remote_unlock()
    events = lock.drain_events()
    ops = [
        (e.operation_source, e.credential.credential_index if e.credential else None)
        for e in events
        if isinstance(e, LockOperation) and e.lock_operation_type == "Unlock"
    ]
    assert ops[:3] == [(OperationSource.Biometric, 1), (OperationSource.Keypad, 1), (OperationSource.RFID, 1)]
    assert (OperationSource.Remote, None) in ops
    errors = [e for e in events if isinstance(e, LockOperationErrorEvent)]
    assert errors and errors[0].operation_source == OperationSource.RFID
    assert any(isinstance(e, LockOperation) and e.mechanism == "inside_knob" for e in events)
    assert all(json.loads(json.dumps(e.to_protocol_data())) for e in events)


# -- L9 volume --------------------------------------------------------------------------------


def test_L9_1_volume_high_low_mute(lock: Lock) -> None:
    open_menu(lock)
    press(lock, "42#")
    assert lock.state().volume == Volume.LOW
    press(lock, "43#")
    assert lock.state().volume == Volume.MUTE
    press(lock, "41#")
    assert lock.state().volume == Volume.HIGH


def test_L9_2_mute_silences_key_tones_and_verification_only(lock: Lock, clock: ManualClock) -> None:
    open_menu(lock)
    add_code(lock, "123456")
    press(lock, "43#")
    out = press(lock, "*")
    assert not out.key_tone and has(out, Prompt.MENU_CLOSED)  # prompts still spoken
    ok = press(lock, "123456#")
    assert ok.sound is None and not ok.key_tone and ok.motor == MotorState.UNLOCKED
    lock.remove_front_panel()
    assert AlarmCode.FrontEsceutcheonRemoved in lock.tick().alarms  # alarms still sound


# -- L10 alarms and protection ----------------------------------------------------------------


def test_L10_1_tamper_alarm_for_one_minute(lock: Lock, clock: ManualClock) -> None:
    out = lock.remove_front_panel()
    assert AlarmCode.FrontEsceutcheonRemoved in out.alarms
    assert any(
        isinstance(e, DoorLockAlarm) and e.alarm_code == AlarmCode.FrontEsceutcheonRemoved for e in out.events
    )
    clock.advance(59.9)
    assert lock.tick().alarms
    clock.advance(0.2)
    assert not lock.tick().alarms


def test_L10_1_front_panel_put_back_brings_the_keypad_back(lock: Lock, clock: ManualClock) -> None:
    """Issue 15 item 12: the inverse of removing the front panel, as a named input too."""
    from vakt.lock.inputs import apply_input

    open_menu(lock)
    add_code(lock, "123456")
    leave_menu_and_sleep(lock, clock)
    apply_input(lock, "tamper", "on")
    assert not lock.touch_keypad().display.lit  # the keypad is dead while the panel is off
    out = apply_input(lock, "replace_front_panel")
    assert not out.prompts and not lock.state().front_panel_removed
    assert AlarmCode.FrontEsceutcheonRemoved in out.alarms  # the minute of alarm still runs (L10.1)
    wake(lock)
    assert press(lock, "123456#").motor == MotorState.UNLOCKED


def test_L10_2_five_failures_lock_out_for_three_minutes(lock: Lock, clock: ManualClock) -> None:
    open_menu(lock)
    add_code(lock, "123456")
    add_card(lock, CARD_A)
    leave_menu_and_sleep(lock, clock)
    wake(lock)
    press(lock, "111111#")
    lock.present_card(CARD_B)
    lock.place_finger(BOB)
    press(lock, "222222#")
    out = lock.present_card(CARD_B)  # fifth failure, any mix
    assert has(out, Prompt.LOCKED_OUT) and AlarmCode.WrongCodeEntryLimit in out.alarms
    assert has(press(lock, "123456#"), Prompt.LOCKED_OUT)
    assert lock.present_card(CARD_A).motor == MotorState.LOCKED
    assert lock.turn_key().motor == MotorState.UNLOCKED  # the key still works
    clock.advance(179.9 - 0.0)
    assert has(lock.present_card(CARD_A), Prompt.LOCKED_OUT)
    clock.advance(0.1)
    out = lock.present_card(CARD_A)
    assert not out.alarms and out.motor == MotorState.UNLOCKED
    # a success resets the count
    wake(lock)
    for _ in range(4):
        press(lock, "999999#")
    press(lock, "123456#")
    assert lock.state().failed_attempts == 0


def test_L10_3_failure_count_and_lockout_survive_power_cycle(clock: ManualClock) -> None:
    store = InMemoryStore()
    lock = Lock(clock, store)
    open_menu(lock)
    add_code(lock, "123456")
    leave_menu_and_sleep(lock, clock)
    wake(lock)
    for _ in range(3):
        press(lock, "000000#")
    lock.remove_batteries()
    lock.insert_batteries()
    assert lock.state().failed_attempts == 3
    wake(lock)
    press(lock, "000000#")
    press(lock, "000000#")
    end = lock.state().lockout_until
    assert end == clock.now() + 180
    rebooted = Lock(clock, store)  # a new firmware instance on the same memory
    wake(rebooted)
    assert has(press(rebooted, "123456#"), Prompt.LOCKED_OUT)
    assert rebooted.state().lockout_until == end


def test_L10_4_low_battery_prompt_each_wake_dead_below_4v(lock: Lock, clock: ManualClock) -> None:
    lock.set_battery_voltage(4.7)
    out = wake(lock)
    assert has(out, Prompt.LOW_BATTERY) and any(e.type == "LowBattery" for e in out.events)
    clock.advance(11)
    lock.tick()
    assert has(lock.present_card(CARD_A), Prompt.LOW_BATTERY)  # again at the next wake
    lock.set_battery_voltage(3.9)
    out = wake(lock)
    assert not out.display.lit and not out.prompts
    assert lock.state().battery_dead


def test_L10_5_emergency_usb_power_unlocks_with_dead_batteries(lock: Lock, clock: ManualClock) -> None:
    open_menu(lock)
    add_code(lock, "123456")
    leave_menu_and_sleep(lock, clock)
    lock.set_battery_voltage(3.5)
    assert press(lock, "123456#").motor == MotorState.LOCKED
    lock.connect_usb()
    wake(lock)
    assert press(lock, "123456#").motor == MotorState.UNLOCKED


# -- L11 modes --------------------------------------------------------------------------------


def test_L11_1_passage_mode_from_app_left_by_verification(lock: Lock, clock: ManualClock) -> None:
    open_menu(lock)
    add_card(lock, CARD_A)
    leave_menu_and_sleep(lock, clock)
    lock.set_operating_mode(OperatingMode.Passage)
    clock.advance(60)
    assert lock.tick().motor == MotorState.UNLOCKED  # no relock in normally-open
    assert lock.turn_inside_knob().motor == MotorState.UNLOCKED
    out = lock.present_card(CARD_A)
    assert has(out, Prompt.PASSAGE_MODE_ENDED) and out.motor == MotorState.LOCKED
    assert lock.state().operating_mode == OperatingMode.Normal


def test_L11_2_privacy_only_admin_opens_knob_returns_to_normal(lock: Lock, clock: ManualClock) -> None:
    open_menu(lock)
    add_card(lock, CARD_A)
    leave_menu_and_sleep(lock, clock)
    lock.add_credential(CredentialType.RFID, CARD_B, user_type=UserType.UnrestrictedUser)
    out = lock.press_privacy_button()
    assert has(out, Prompt.PRIVACY_MODE) and lock.state().operating_mode == OperatingMode.Privacy
    out = lock.present_card(CARD_B)
    assert has(out, Prompt.PRIVACY_MODE) and out.motor == MotorState.LOCKED
    lock.turn_inside_knob()
    assert lock.state().operating_mode == OperatingMode.Normal
    clock.advance(6)
    lock.tick()
    lock.press_privacy_button()
    assert lock.present_card(CARD_A).motor == MotorState.UNLOCKED  # an administrator still opens
    assert lock.state().operating_mode == OperatingMode.Normal
    assert not lock.press_privacy_button().prompts  # only while locked
    assert lock.state().operating_mode == OperatingMode.Normal


# -- L12 factory reset and pairing ------------------------------------------------------------


def test_L12_1_factory_reset_procedure_clears_users_settings_pairing(lock: Lock, clock: ManualClock) -> None:
    lock.hold_reset(3)
    lock.complete_pairing()
    open_menu(lock)
    add_code(lock, "123456")
    press(lock, "42#")
    leave_menu_and_sleep(lock, clock)
    hashed = lock.credential_store.keyed_hash("123456")
    lock.remove_batteries()
    lock.press_reset()
    lock.insert_batteries()
    clock.advance(5)
    out = lock.release_reset()
    assert has(out, Prompt.FACTORY_RESET_CONFIRM)
    out = press(lock, "#")
    assert has(out, Prompt.FACTORY_RESET_DONE)
    assert any(
        isinstance(e, DoorLockAlarm) and e.alarm_code == AlarmCode.LockFactoryReset for e in out.events
    )
    state = lock.state()
    assert state.initial_mode and not state.paired and state.volume == Volume.HIGH
    assert lock.credential_store.keyed_hash("123456") != hashed  # a new per-lock key


def test_L12_2_prompt_and_blinking_5_come_while_reset_is_still_held(lock: Lock, clock: ManualClock) -> None:
    """Issue 15 item 13: a timer on the injected clock, not the release, brings the pairing prompt."""
    lock.press_reset()
    clock.advance(2.9)
    assert not lock.tick().prompts and not lock.state().pairing_mode
    clock.advance(0.2)
    out = lock.tick()  # still held
    assert out.prompts == [Prompt.PAIRING] and out.display.text == "5" and out.display.blinking
    assert [e.type for e in out.events] == ["PairingMode"] and out.events[0].ts == pytest.approx(
        clock.now() - 0.1
    )
    clock.advance(2)
    out = lock.release_reset()  # releasing later does not announce it twice
    assert not out.prompts and lock.state().pairing_mode
    assert lock.complete_pairing()
    lock.press_reset()  # a second hold works the same way
    clock.advance(3)
    assert has(lock.tick(), Prompt.PAIRING)
    lock.release_reset()


def test_L12_2_pairing_hold_reset_3s_digit_5_blinks_star_leaves(lock: Lock) -> None:
    assert not lock.hold_reset(2).prompts
    out = lock.hold_reset(3)
    assert has(out, Prompt.PAIRING) and out.display.text == "5" and out.display.blinking
    out = press(lock, "*")
    assert has(out, Prompt.PAIRING_ENDED) and out.display.text == ""
    assert not lock.complete_pairing()
    lock.hold_reset(3)
    assert lock.complete_pairing() and lock.state().paired


# -- L13 doorbell -----------------------------------------------------------------------------


def test_L13_1_doorbell_rings_and_notifies(lock: Lock) -> None:
    lock.press_keys("")
    open_menu(lock)
    press(lock, "43#")  # even muted, the bell rings
    out = lock.press_doorbell()
    assert out.ringing and [e.type for e in out.events] == ["Doorbell"]


# -- L14 credentials are secrets --------------------------------------------------------------


def test_L14_1_codes_only_as_keyed_hashes(lock: Lock, store: InMemoryStore) -> None:
    open_menu(lock)
    add_code(lock, "864213")
    lock.add_credential(CredentialType.PIN, "97531086")
    assert store.text is not None
    assert "864213" not in store.text and "97531086" not in store.text
    other = Lock(ManualClock(), InMemoryStore())
    assert lock.credential_store.keyed_hash("864213") != other.credential_store.keyed_hash("864213")
    assert "864213" not in json.dumps([c.model_dump(mode="json") for c in lock.credentials()])


def test_L14_2_fingerprints_kept_as_feature_templates(lock: Lock, store: InMemoryStore) -> None:
    open_menu(lock)
    add_finger(lock, ALICE)
    stored = json.loads(store.text or "{}")["credentials"]["items"][0]
    assert stored["credential_type"] == "Fingerprint"
    assert all(len(row) == 4 for row in stored["template"])  # x, y, angle, type: no image


def test_L14_3_store_survives_reload(lock: Lock, store: InMemoryStore, clock: ManualClock) -> None:
    open_menu(lock)
    add_code(lock, "123456")
    add_card(lock, CARD_A)
    again = Lock(clock, store)
    wake(again)
    assert press(again, "123456#").motor == MotorState.UNLOCKED
    # the kill -9 test of the atomic file write is tests/lock/test_persistence.py


# -- L15 fingerprint sensing ------------------------------------------------------------------


def test_L15_1_each_touch_differs_but_the_finger_is_stable() -> None:
    a, b = fp.Finger.from_name("dora"), fp.Finger.from_name("dora")
    assert (a.minutiae == b.minutiae).all()
    sensor = fp.Sensor(3)
    s1, s2 = sensor.capture(a), sensor.capture(a)
    assert s1.shape != s2.shape or not (s1 == s2).all()


def test_L15_1_flat_prints_match_less_reliably() -> None:
    sensor = fp.Sensor(4)

    def mean_genuine(flat: bool) -> float:
        scores = []
        for i in range(12):
            finger = fp.Finger.from_name(f"flat-{flat}-{i}", flat=flat)
            gallery = fp.Gallery([fp.enroll([sensor.capture(finger) for _ in range(5)])])
            scores += [float(fp.align(sensor.capture(finger), gallery).scores[0]) for _ in range(2)]
        return sum(scores) / len(scores)

    assert mean_genuine(flat=True) < 0.9 * mean_genuine(flat=False)


def test_L15_2_enrolment_builds_template_and_1_to_n_verification(lock: Lock, clock: ManualClock) -> None:
    open_menu(lock)
    add_finger(lock, ALICE)
    add_finger(lock, BOB)
    leave_menu_and_sleep(lock, clock)
    out = lock.place_finger(BOB)
    op = next(e for e in out.events if isinstance(e, LockOperation))
    assert op.credential is not None and op.credential.credential_index == 2
    clock.advance(6)
    assert lock.place_finger(fp.Finger.from_name("mallory", flat=False)).motor == MotorState.LOCKED


def test_L15_3_matcher_separates_genuine_from_impostors_quickly() -> None:
    """A small version of bench/bench_fingerprint.py (the full figures are in README)."""
    sensor = fp.Sensor(11)
    fingers = [fp.Finger.from_name(f"p{i}", flat=False) for i in range(20)]
    gallery = fp.Gallery([fp.enroll([sensor.capture(f) for _ in range(5)]) for f in fingers])
    hits = sum(fp.identify(sensor.capture(f), gallery) == i for i, f in enumerate(fingers))
    assert hits >= 19
    strangers = [fp.Finger.from_name(f"q{i}") for i in range(20)]
    assert all(fp.identify(sensor.capture(f), gallery) is None for f in strangers)


# -- A7 / L2.3 provisioning from the app ------------------------------------------------------


def test_L2_3_A7_temporary_code_window_and_max_uses(lock: Lock, clock: ManualClock) -> None:
    """Temporary codes (home.md A7): valid only inside their window and for max_uses unlocks."""
    now = clock.now()
    lock.add_credential(CredentialType.CODE, "99887766", name="owner")  # the administrator (L2.3)
    lock.add_credential(
        CredentialType.CODE, "555111", valid_from=now + 60, valid_until=now + 3600, name="guest"
    )
    lock.add_credential(CredentialType.CODE, "777222", max_uses=2, name="plumber")
    wake(lock)
    out = press(lock, "555111#")
    assert has(out, Prompt.NOT_VALID_NOW) and out.motor == MotorState.LOCKED
    clock.advance(61)
    wake(lock)
    assert press(lock, "555111#").motor == MotorState.UNLOCKED
    for _ in range(2):
        clock.advance(6)
        wake(lock)
        assert press(lock, "777222#").motor == MotorState.UNLOCKED
    clock.advance(6)
    wake(lock)
    assert has(press(lock, "777222#"), Prompt.NOT_VALID_NOW)
    clock.advance(3600)
    wake(lock)
    assert press(lock, "555111#").motor == MotorState.LOCKED
    assert lock.state().failed_attempts == 0  # genuine but expired codes do not count to lockout
    listed = {c.name: c for c in lock.credentials()}
    assert listed["plumber"].uses == 2 and listed["guest"].valid_until == now + 3600
    assert listed["plumber"].uses_left == 0 and listed["guest"].uses_left is None  # issue 15 item 9


def test_L2_3_first_credential_from_the_app_becomes_the_administrator(lock: Lock, clock: ManualClock) -> None:
    """Issue 15 item 11: a lock provisioned only from the app can still open its menu (L2.2, L5.4)."""
    with pytest.raises(RemoteError, match="no administrator yet"):
        lock.add_credential(CredentialType.CODE, "777222", max_uses=2, name="plumber")
    assert lock.state().initial_mode  # refused: nothing changed
    lock.add_credential(CredentialType.CODE, "13572468", name="Anna")  # asked as an ordinary user
    lock.add_credential(CredentialType.CODE, "24681357", name="Bob")
    types = {c.name: c.user_type for c in lock.credentials()}
    assert types == {"Anna": UserType.ProgrammingUser, "Bob": UserType.UnrestrictedUser}
    assert has(open_menu(lock, "13572468"), Prompt.ENTER_SETTING)  # Anna opens the menu
    press(lock, "*")
    assert has(open_menu(lock, "24681357"), Prompt.NOT_ADMIN)
