"""L14.3 / L10.3: the lock's memory survives power loss at any instant and garbage never crash-loops."""

from __future__ import annotations

import errno
import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lock.conftest import add_code, open_menu, press, wake
from vakt.lock import CredentialType, FileStore, InMemoryStore, Lock, ManualClock, MotorState, RemoteError
from vakt.lock.persistence import LockMemory, load_or_recover


def _writer(path: str, start: int) -> None:
    """Child process: rewrite the memory as fast as it can, each version one larger."""
    store = FileStore(path)
    memory = LockMemory()
    # A big document makes each write take long enough to be interrupted mid-way.
    for i in range(40):
        memory.credentials.add(memory.credentials.code_credential(f"{100000 + i}"))
    n = start
    while True:
        n += 1
        memory.failed_attempts = n
        store.save(memory)


def test_L14_3_kill_9_mid_write_leaves_old_or_new_state(tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    ctx = multiprocessing.get_context("fork")
    rng = random.Random(1403)
    last = 0
    torn = 0
    for _ in range(40):
        proc = ctx.Process(target=_writer, args=(str(path), last))
        proc.start()
        time.sleep(rng.uniform(0.005, 0.06))
        assert proc.pid is not None
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        torn += bool(list(tmp_path.glob(".lock.json.*.tmp")))  # killed with a write under way
        if not path.exists():
            continue  # killed before the first write completed: nothing, never a half file
        memory = FileStore(path).load()  # raises CorruptStateError on a torn write
        assert memory is not None and memory.failed_attempts >= last
        assert len(memory.credentials.items) == 40
        assert not list(tmp_path.glob("*.tmp"))  # loading swept away a cut-short temporary file
        last = memory.failed_attempts
    assert last > 0
    assert torn > 0, "no kill landed mid-write; the test proved nothing"


def test_L14_3_garbage_state_file_is_moved_aside_and_lock_starts_fresh(tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    path.write_bytes(b"\x00\xffnot json at all")
    lock = Lock(ManualClock(), FileStore(path))
    state = lock.state()
    assert state.initial_mode and state.recovered_from and "lock.json.corrupt-1" in state.recovered_from
    assert (tmp_path / "lock.json.corrupt-1").read_bytes() == b"\x00\xffnot json at all"
    open_menu(lock)
    add_code(lock, "123456")  # the recovered lock works and writes a good file
    again = Lock(ManualClock(), FileStore(path))
    assert again.state().recovered_from is None
    wake(again)
    assert press(again, "123456#").motor == MotorState.UNLOCKED


def test_L14_3_valid_json_with_wrong_shape_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    path.write_text('{"failed_attempts": -3}')
    memory, reason = load_or_recover(FileStore(path))
    assert reason is not None and "failed_attempts" in reason
    assert memory.failed_attempts == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_L14_3_any_garbage_gives_a_working_lock(tmp_path: Path, garbage: bytes) -> None:
    path = tmp_path / "g" / "lock.json"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(garbage)
    lock = Lock(ManualClock(), FileStore(path))
    assert lock.state().powered
    assert FileStore(path).load() is not None  # a readable memory is in place afterwards
    for p in path.parent.iterdir():
        p.unlink()


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
    add_code(lock, "123456")
    store.full = True
    out = add_code(lock, "654321")
    assert "storage_error" in out.prompts and not out.events
    assert lock.state().counts[CredentialType.PIN] == 1 and lock.state().storage_error
    assert lock.menu is not None  # back in the menu, nothing half-done
    with pytest.raises(RemoteError, match="could not store it"):
        lock.add_credential(CredentialType.CARD, "04A1B2C3")
    assert lock.state().counts[CredentialType.RFID] == 0
    store.full = False
    assert add_code(lock, "654321").display.text == "2"
    assert lock.state().storage_error is None
    assert Lock(clock, store).state().counts[CredentialType.PIN] == 2


def test_L10_3_full_disk_never_cancels_a_lockout() -> None:
    clock = ManualClock()
    store = FlakyStore()
    lock = Lock(clock, store)
    open_menu(lock)
    add_code(lock, "123456")
    press(lock, "*")
    store.full = True
    for _ in range(5):
        press(lock, "000000#")
    assert lock.locked_out  # held in RAM even though flash refused the count
    assert "locked_out" in press(lock, "123456#").prompts
