"""Fixtures and key-by-key helpers for the lock tests (procedures of the manual, spec/lock.md)."""

from __future__ import annotations

import pytest

from vakt.lock import Finger, InMemoryStore, Lock, ManualClock, Output, Prompt
from vakt.lock.inputs import _merge

ALICE = Finger.from_name("alice-thumb", flat=False)
BOB = Finger.from_name("bob-thumb", flat=False)
CAROL = Finger.from_name("carol-index", flat=False)
CARD_A = "04A1B2C3"
CARD_B = "04D5E6F7"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def lock(clock: ManualClock, store: InMemoryStore) -> Lock:
    return Lock(clock, store, sensor_seed=7)


def press(lock: Lock, keys: str) -> Output:
    """Type ``keys`` one key at a time; the merged output (all prompts and events, last display)."""
    return _merge(lock.press_keys(keys))


def wake(lock: Lock) -> Output:
    return lock.touch_keypad()


def open_menu(lock: Lock, verify: str | Finger | None = None) -> Output:
    """Wake, 3571#, and verify as administrator with a code (digits), a card (C:uid) or a finger."""
    wake(lock)
    out = press(lock, "3571#")
    if isinstance(verify, Finger):
        out = lock.place_finger(verify)
    elif isinstance(verify, str) and verify.startswith("C:"):
        out = lock.present_card(verify[2:])
    elif isinstance(verify, str):
        out = press(lock, verify + "#")
    return out


def add_code(lock: Lock, code: str) -> Output:
    """In the menu: 12#, code #, code # (L5.2)."""
    press(lock, "12#")
    press(lock, code + "#")
    return press(lock, code + "#")


def add_card(lock: Lock, uid: str) -> Output:
    press(lock, "13#")
    return lock.present_card(uid)


def add_finger(lock: Lock, finger: Finger) -> Output:
    """In the menu: 11#, five touches (L5.1)."""
    press(lock, "11#")
    out = lock.place_finger(finger)
    for _ in range(4):
        out = lock.place_finger(finger)
    return out


def leave_menu_and_sleep(lock: Lock, clock: ManualClock) -> None:
    lock.press_key("*")
    clock.advance(11)
    lock.tick()


def has(out: Output, prompt: Prompt) -> bool:
    return prompt in out.prompts
