"""``vakt lock``: the lock's front panel in a terminal, interactive or with commands piped on stdin."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from vakt.lock.clock import WallClock
from vakt.lock.inputs import INPUTS, apply_input
from vakt.lock.outputs import Output
from vakt.lock.persistence import FileStore
from vakt.lock.remote import Lock
from vakt.lock.types import PROMPT_TEXT

HELP = """\
3571#            keys (any of 0-9 * #; a sleeping keypad wakes on the first key or on 'touch')
touch            touch the keypad area
finger NAME      place a finger (a name is a stable finger, e.g. alice-thumb)
card UID         present a card (hex UID, e.g. 04A1B2C3)
key | knob       turn the mechanical key | the inside knob
privacy          press the privacy button
reset N          hold the RESET hole N seconds (3: pairing)
factory-reset    batteries out, hold RESET, batteries in, wait 5 s, release (then press #)
tamper [off]     remove (or put back) the front panel
jam [off]        block (or free) the bolt
battery V        set the battery voltage (4xAA: low < 4.8 V, dead < 4.0 V)
usb on|off       emergency USB power
bell             press the doorbell
wait N           let N seconds pass
state            show the lock's state
help | quit"""

_ALIASES = {"key": "mechanical_key", "usb": "usb", "bell": "bell", "knob": "knob", "privacy": "privacy"}


class PanelSession:
    """Parses one command line and drives the lock; the clock is wall time plus ``wait``s."""

    def __init__(self, state: Path, console: Console) -> None:
        self.clock = WallClock()
        self.lock = Lock(self.clock, FileStore(state))
        self.console = console
        if self.lock.recovered_from:
            console.print(
                "[yellow]one copy of the memory was damaged; the other was loaded:[/] "
                + self.lock.recovered_from
            )
        if self.lock.memory_lost:
            console.print(
                "[red]the lock memory cannot be read: the lock stays locked and refuses the menu until a "
                f"factory reset (factory-reset) or a restore from the app:[/] {self.lock.memory_lost}"
            )

    def run_line(self, line: str) -> bool:
        """Carry out one line; False when the session should end."""
        words = line.split()
        if not words or words[0].startswith("#!"):
            return True
        cmd, arg = words[0].lower(), " ".join(words[1:])
        try:
            if cmd in ("quit", "exit"):
                return False
            if cmd == "help":
                self.console.print(HELP)
            elif cmd == "state":
                self.console.print_json(self.lock.state().model_dump_json())
            elif cmd == "wait":
                self.clock.advance(float(arg))
                self.show(self.lock.tick())
            elif cmd == "factory-reset":
                self.factory_reset()
            elif set(cmd) <= set("0123456789*#") and not arg:
                self.show(apply_input(self.lock, "keys", cmd))
            elif cmd in INPUTS or cmd in _ALIASES:
                self.show(apply_input(self.lock, _ALIASES.get(cmd, cmd), arg or None))
            else:
                self.console.print(f"[red]unknown command {cmd!r}[/]; type help")
        except ValueError as exc:
            self.console.print(f"[red]error:[/] {exc}")
        return True

    def factory_reset(self) -> None:
        lock = self.lock
        lock.remove_batteries()
        lock.press_reset()
        lock.insert_batteries()
        self.clock.advance(5.0)
        self.show(lock.release_reset())

    def show(self, out: Output) -> None:
        d = out.display
        shown = (
            "off" if not d.lit else (f"[blink]{d.text}[/blink] (blinking)" if d.blinking else d.text or "lit")
        )
        parts = [f"motor [bold]{out.motor}[/]", f"keypad {shown}"]
        if out.prompts:
            parts.insert(0, "voice: " + ", ".join(f"[cyan]{p}[/]" for p in out.prompts))
        if out.sound:
            parts.append(f"sound {out.sound}")
        if out.ringing:
            parts.append("ding-dong")
        if out.alarms:
            parts.append("[red]ALARM " + ", ".join(out.alarms) + "[/]")
        self.console.print(" | ".join(parts))
        if out.prompts:
            self.console.print("  " + " ".join(f"“{PROMPT_TEXT[p]}”" for p in out.prompts), style="italic")
        for e in out.events:
            self.console.print(f"  event {e.type}: {e.to_protocol_data()}", style="dim", markup=False)


def lock_command(
    state: Path = typer.Option(Path("vakt-lock.json"), "--state", help="the lock's non-volatile memory file"),
) -> None:
    """Run the lock firmware with a terminal front panel (type 'help')."""
    console = Console(highlight=False)
    session = PanelSession(state, console)
    interactive = sys.stdin.isatty()
    if interactive:
        console.print("vakt lock: type [bold]help[/] for the panel's inputs, [bold]quit[/] to leave")
    while True:
        try:
            line = console.input("[bold]lock>[/] ") if interactive else sys.stdin.readline()
        except (EOFError, KeyboardInterrupt):
            break
        if not interactive and line == "":
            break
        if not interactive and line.strip():
            console.print(f"[bold]lock>[/] {line.strip()}")
        if not session.run_line(line):
            break
