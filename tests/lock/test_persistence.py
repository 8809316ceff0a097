"""L14.3 / L10.3: the lock's memory survives power loss and damage; a memory lost never opens the lock.

Two checksummed copies (A/B) with a generation number: the newest good copy is loaded; when none is
readable the lock stays locked and refuses the menu until a factory reset (L12.1) or a restore from the
app (issue 10, item 3). The HMAC key lives in the secure element, not in the copies (issue 11).
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import multiprocessing
import os
import random
import re
import signal
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lock.conftest import add_code, open_menu, press, wake
from vakt.lock import (
    AlarmCode,
    CredentialType,
    FileStore,
    InMemoryStore,
    Lock,
    ManualClock,
    MotorState,
    Prompt,
    RemoteError,
)
from vakt.lock.persistence import CorruptStateError, LockMemory, read_copy

CODE = "123456"
NEWER_CODE = "654321"


def _writer(path: str, start: int, writing: Any) -> None:
    """Child process: rewrite the memory as fast as it can, each version one larger."""
    store = FileStore(path)
    memory = LockMemory()
    memory.credentials.bind(store.secure_element)
    # A big document makes each write take long enough to be interrupted mid-way.
    for i in range(40):
        memory.credentials.add(memory.credentials.code_credential(f"{100000 + i}"))
    n = start
    while True:
        n += 1
        memory.failed_attempts = n
        store.save(memory)
        writing.set()


def test_L14_3_kill_9_mid_write_leaves_a_good_copy(tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    ctx = multiprocessing.get_context("fork")
    rng = random.Random(1403)
    last = 0
    torn = 0
    for _ in range(30):
        writing = ctx.Event()
        proc = ctx.Process(target=_writer, args=(str(path), last, writing))
        proc.start()
        assert writing.wait(30), "the writer never completed a write"  # a loaded machine starts slowly
        time.sleep(rng.uniform(0.0, 0.03))
        assert proc.pid is not None
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        torn += bool(list(tmp_path.glob(".lock.*.tmp")))  # killed with a write under way
        store = FileStore(path)
        if not any(slot.exists() for slot in store.slots):
            continue  # killed before the first write completed: nothing, never a half file
        memory = store.load()  # MemoryLostError if no copy checked out
        assert memory is not None and memory.failed_attempts >= last
        assert len(memory.credentials.items) == 40 and store.fallback is None
        assert not list(tmp_path.glob(".*.tmp"))  # loading swept away a cut-short temporary file
        last = memory.failed_attempts
    assert last > 0
    assert torn > 0, "no kill landed mid-write; the test proved nothing"


def _two_generations(path: Path, clock: ManualClock | None = None) -> Lock:
    """A lock whose copy A holds a code and whose newer copy B also holds a second code."""
    lock = Lock(clock or ManualClock(), FileStore(path))
    open_menu(lock)
    add_code(lock, CODE)  # generation 2 (the first boot wrote generation 1)
    add_code(lock, NEWER_CODE)  # generation 3
    press(lock, "*")
    return lock


def _newest_and_older(path: Path) -> tuple[Path, Path]:
    copies = sorted((read_copy(slot) for slot in FileStore(path).slots), key=lambda c: c.generation)
    return copies[-1].slot, copies[0].slot


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda data: data[: len(data) // 2],
    "zeroed": lambda data: bytes(len(data)),
    "random bytes": lambda data: random.Random(7).randbytes(len(data)),
    "one bit flipped": lambda data: data[:-20] + bytes([data[-20] ^ 0x01]) + data[-19:],
    "empty": lambda data: b"",
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_L14_3_newest_copy_damaged_loads_the_other(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "lock.json"
    _two_generations(path)
    newest, _ = _newest_and_older(path)
    newest.write_bytes(DAMAGE[damage](newest.read_bytes()))
    lock = Lock(ManualClock(), FileStore(path))
    state = lock.state()
    assert state.memory_damaged is None and not state.initial_mode
    assert state.recovered_from and newest.name in state.recovered_from  # says which copy it passed over
    assert list(tmp_path.glob(f"{newest.name}.corrupt-1"))  # kept for inspection
    wake(lock)
    assert press(lock, CODE + "#").motor == MotorState.UNLOCKED  # the older generation holds the code


def test_L14_3_older_copy_damaged_loads_the_newest(tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    _two_generations(path)
    _, older = _newest_and_older(path)
    older.write_bytes(b"\x00" * 64)
    lock = Lock(ManualClock(), FileStore(path))
    assert lock.state().counts[CredentialType.PIN] == 2
    wake(lock)
    assert press(lock, NEWER_CODE + "#").motor == MotorState.UNLOCKED
    open_menu(lock, CODE)  # the next write replaces the damaged copy, not the good one
    press(lock, "41#")
    assert all(read_copy(slot) for slot in FileStore(path).slots)


@pytest.mark.parametrize("damage", ["both corrupt", "both zeroed", "only copy truncated", "both erased"])
def test_L14_3_no_readable_copy_stays_locked_and_refuses_the_menu(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "lock.json"
    _two_generations(path)
    a, b = FileStore(path).slots
    if damage == "both corrupt":
        a.write_bytes(DAMAGE["random bytes"](a.read_bytes()))
        b.write_bytes(b"{ not json")
    elif damage == "both zeroed":
        a.write_bytes(bytes(a.stat().st_size))
        b.write_bytes(bytes(b.stat().st_size))
    elif damage == "both erased":  # flash wiped, the secure element's key still there: not factory-new
        a.unlink()
        b.unlink()
    else:
        b.unlink()
        a.write_bytes(a.read_bytes()[:100])
    clock = ManualClock()
    lock = Lock(clock, FileStore(path))
    state = lock.state()
    assert state.memory_damaged and not state.initial_mode
    assert AlarmCode.MemoryDamaged in state.alarms
    boot_events = lock.drain_events()
    assert [e.type for e in boot_events] == ["DoorLockAlarm"]  # the app hears of it (issue 10)
    assert Prompt.MEMORY_DAMAGED in wake(lock).prompts  # a voice prompt at each wake
    out = press(lock, "3571#")
    assert out.prompts == [Prompt.MEMORY_DAMAGED] and lock.menu is None  # not initial mode (L2.1)
    out = press(lock, CODE + "#")
    assert out.motor == MotorState.LOCKED and Prompt.MEMORY_DAMAGED in out.prompts
    with pytest.raises(RemoteError, match="memory is damaged"):
        lock.add_credential(CredentialType.PIN, "777777")
    assert Prompt.MEMORY_DAMAGED in lock.hold_reset(3).prompts and not lock.state().pairing_mode
    assert lock.turn_key().motor == MotorState.UNLOCKED  # the mechanical key still works (L8.1)
    lock.turn_key()
    # A power cycle does not forget that the memory is damaged (nothing was written over it).
    lock.remove_batteries()
    lock.insert_batteries()
    assert lock.state().memory_damaged and Lock(clock, FileStore(path)).state().memory_damaged
    # L12.1 at the inside panel is the way out: batteries out, RESET held 5 s while inserting, #.
    lock.remove_batteries()
    lock.press_reset()
    lock.insert_batteries()
    clock.advance(5)
    lock.release_reset()
    assert Prompt.FACTORY_RESET_DONE in press(lock, "#").prompts
    fresh = Lock(clock, FileStore(path))
    assert fresh.state().memory_damaged is None and fresh.state().initial_mode


def test_memory_damaged_restore_from_the_app_gives_an_administrator_code(tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    _two_generations(path)
    for slot in FileStore(path).slots:
        slot.write_bytes(b"garbage")
    clock = ManualClock()
    lock = Lock(clock, FileStore(path))
    with pytest.raises(RemoteError, match="6 to 10 digits"):
        lock.restore_memory("12")
    assert lock.restore_memory("24681357") == 1
    assert lock.state().memory_damaged is None and lock.state().paired  # the gateway keeps it
    with pytest.raises(RemoteError, match="readable"):
        lock.restore_memory("24681357")
    again = Lock(clock, FileStore(path))
    assert not again.state().initial_mode
    wake(again)
    assert press(again, CODE + "#").motor == MotorState.LOCKED  # nothing from before the damage
    assert open_menu(again, "24681357").prompts == [Prompt.MENU, Prompt.ENTER_SETTING]  # an administrator


def test_L14_3_valid_json_with_wrong_shape_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    path.write_text('{"failed_attempts": -3}')  # a store from before A/B copies, damaged
    lock = Lock(ManualClock(), FileStore(path))
    assert lock.state().memory_damaged and "failed_attempts" in lock.state().memory_damaged
    assert path.exists()  # left as it is, for inspection


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_L14_3_any_garbage_never_opens_the_menu(tmp_path: Path, garbage: bytes) -> None:
    folder = tmp_path / "g"
    folder.mkdir(exist_ok=True)
    store = FileStore(folder / "lock.json")
    for slot in store.slots:
        slot.write_bytes(garbage)
    lock = Lock(ManualClock(), store)
    assert lock.state().powered and lock.state().memory_damaged
    wake(lock)
    assert press(lock, "3571#").prompts == [Prompt.MEMORY_DAMAGED]
    for p in folder.iterdir():
        p.unlink()


def test_L14_1_key_kept_apart_in_a_0600_file_and_the_store_alone_cannot_check_a_guess(tmp_path: Path) -> None:
    """Someone with the lock's flash dump (the copies) cannot test code guesses offline (issue 11)."""
    path = tmp_path / "lock.json"
    lock = _two_generations(path)
    key_file = tmp_path / "lock.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    dump = b"".join(slot.read_bytes() for slot in FileStore(path).slots)
    body = json.loads(read_copy(FileStore(path).slots[0]).memory.model_dump_json())
    stored = {c["secret_hash"] for c in body["credentials"]["items"] if c["secret_hash"]}
    assert "secret" not in body["credentials"] and key_file.read_bytes() not in dump
    # Every hex string in the dump tried as the key: none turns the right guess into a stored hash.
    for candidate in set(re.findall(rb"[0-9a-f]{64}", dump)):
        guess = hmac.new(bytes.fromhex(candidate.decode()), CODE.encode(), hashlib.sha256).hexdigest()
        assert guess not in stored
    key = bytes.fromhex(key_file.read_text())
    assert hmac.new(key, CODE.encode(), hashlib.sha256).hexdigest() in stored  # the key does
    assert key_file.read_text() not in repr(lock.state()) + repr(lock.credentials()) + repr(lock.store)


def test_L14_1_old_store_with_the_key_inside_is_migrated_on_first_load(tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    key = "ab" * 32
    code_hash = hmac.new(bytes.fromhex(key), CODE.encode(), hashlib.sha256).hexdigest()
    old = {
        "version": 1,
        "credentials": {
            "secret": key,
            "items": [
                {
                    "credential_type": "PIN",
                    "index": 1,
                    "user_type": "ProgrammingUser",
                    "secret_hash": code_hash,
                }
            ],
        },
        "failed_attempts": 2,
        "paired": True,
    }
    path.write_text(json.dumps(old))
    lock = Lock(ManualClock(), FileStore(path))
    assert not path.exists()  # the file that held the key is gone once a copy is written
    assert (tmp_path / "lock.key").read_text() == key
    assert key not in "".join(slot.read_text() for slot in FileStore(path).slots if slot.exists())
    assert lock.state().failed_attempts == 2 and lock.state().paired
    wake(lock)
    assert press(lock, CODE + "#").motor == MotorState.UNLOCKED  # the old hashes still match


def test_L14_1_damaged_key_file_keeps_the_lock_locked_until_reset(tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    _two_generations(path)
    (tmp_path / "lock.key").write_text("not a key")
    lock = Lock(ManualClock(), FileStore(path))
    assert lock.state().memory_damaged and "secure element" in lock.state().memory_damaged
    wake(lock)
    assert press(lock, "3571#").prompts == [Prompt.MEMORY_DAMAGED]


def test_L12_1_factory_reset_draws_a_new_key(tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    clock = ManualClock()
    lock = _two_generations(path, clock)
    before = (tmp_path / "lock.key").read_text()
    lock.remove_batteries()
    lock.press_reset()
    lock.insert_batteries()
    clock.advance(5)
    lock.release_reset()
    press(lock, "#")
    assert (tmp_path / "lock.key").read_text() != before


class FlakyStore(InMemoryStore):
    """Non-volatile memory that refuses writes while ``full`` (a full disk / worn-out flash)."""

    full = False

    def save(self, memory: LockMemory) -> None:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        super().save(memory)


def test_L14_3_full_disk_undoes_the_change_and_says_so() -> None:
    clock = ManualClock()
    store = FlakyStore()
    lock = Lock(clock, store)
    open_menu(lock)
    add_code(lock, CODE)
    store.full = True
    out = add_code(lock, NEWER_CODE)
    assert "storage_error" in out.prompts and not out.events
    assert lock.state().counts[CredentialType.PIN] == 1 and lock.state().storage_error
    assert lock.menu is not None  # back in the menu, nothing half-done
    with pytest.raises(RemoteError, match="could not store it"):
        lock.add_credential(CredentialType.CARD, "04A1B2C3")
    assert lock.state().counts[CredentialType.RFID] == 0
    store.full = False
    assert add_code(lock, NEWER_CODE).display.text == "2"
    assert lock.state().storage_error is None
    press(lock, "*")
    clock.advance(11)
    wake(lock)
    assert press(lock, CODE + "#").motor == MotorState.UNLOCKED  # still hashed with the lock's key
    again = Lock(clock, store)
    assert again.state().counts[CredentialType.PIN] == 2
    wake(again)
    assert press(again, NEWER_CODE + "#").motor == MotorState.UNLOCKED


def test_L10_3_full_disk_never_cancels_a_lockout() -> None:
    clock = ManualClock()
    store = FlakyStore()
    lock = Lock(clock, store)
    open_menu(lock)
    add_code(lock, CODE)
    press(lock, "*")
    store.full = True
    for _ in range(5):
        press(lock, "000000#")
    assert lock.locked_out  # held in RAM even though flash refused the count
    assert "locked_out" in press(lock, CODE + "#").prompts


def test_in_memory_store_garbage_is_a_damaged_memory_too() -> None:
    lock = Lock(ManualClock(), InMemoryStore("{ not json"))
    assert lock.state().memory_damaged and not lock.state().initial_mode
    with pytest.raises(CorruptStateError):
        InMemoryStore("[]").load()
