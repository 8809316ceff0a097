"""``vakt lock`` driven non-interactively: commands piped on stdin, state kept in a file (L14.3)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """\
touch
3571#
12#
123456#
123456#
13#
card 04A1B2C3
*
wait 11
9123456#
wait 6
card 04a1b2c3
reset 3
*
bell
battery 4.5
wait 11
touch
nonsense
battery many
state
quit
"""


def _run(state: Path, script: str) -> str:
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("vakt")), "lock", "--state", str(state)],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return proc.stdout


def test_vakt_lock_runs_piped_commands_and_persists(tmp_path: Path) -> None:
    state = tmp_path / "lock.json"
    out = _run(state, SCRIPT)
    assert "voice: menu, enter_setting" in out
    assert "keypad 1 (blinking)" in out  # code 1, then card 1
    assert "event LockOperation" in out and "'operation_source': 'Keypad'" in out
    assert "'operation_source': 'RFID'" in out
    assert "pairing" in out and "keypad 5 (blinking)" in out
    assert "ding-dong" in out and "low_battery" in out
    assert "unknown command 'nonsense'" in out and "expected a number" in out
    assert "123456" not in (tmp_path / "lock.a.json").read_text() + (tmp_path / "lock.b.json").read_text()
    again = _run(state, "touch\n123456#\nquit\n")  # a new process finds the code in the state file
    assert "voice: unlocked" in again


def test_vakt_lock_with_a_garbage_state_file_stays_locked(tmp_path: Path) -> None:
    """Issue 10 item 3: an unreadable memory is not a factory-new lock; the menu stays shut."""
    state = tmp_path / "lock.json"
    state.write_text("{ not json")
    out = _run(state, "touch\n3571#\nstate\n")
    assert "memory cannot be read" in out and '"initial_mode": false' in out
    assert "memory_damaged" in out and "voice: memory_damaged" in out
    assert state.read_text() == "{ not json"  # left in place for inspection
