"""Physical inputs by name, for ``panel.input`` commands (gateway) and the terminal panel.

``apply_input(lock, "keys", "3571#")`` etc.; an unknown name or a bad value raises ``ValueError`` with a
message listing what is accepted.
"""

from __future__ import annotations

from collections.abc import Callable

from vakt.lock.fingerprint import Finger
from vakt.lock.outputs import Output
from vakt.lock.panel import PanelLock


def _merge(outputs: list[Output]) -> Output:
    if not outputs:
        raise ValueError("no keys given")
    last = outputs[-1].model_copy()
    last.prompts = [p for o in outputs for p in o.prompts]
    last.events = [e for o in outputs for e in o.events]
    last.key_tone = any(o.key_tone for o in outputs)
    return last


def _on_off(value: str) -> bool:
    if value.lower() in ("on", "true", "1", "in"):
        return True
    if value.lower() in ("off", "false", "0", "out"):
        return False
    raise ValueError(f"expected on or off, not {value!r}")


def _float(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"expected a number, not {value!r}") from None


INPUTS: dict[str, tuple[str, Callable[[PanelLock, str], Output]]] = {
    "touch": ("touch the keypad (wakes it)", lambda lk, v: lk.touch_keypad()),
    "key": ("press one key 0-9 * #", lambda lk, v: lk.press_key(v)),
    "keys": ("press several keys, e.g. 3571#", lambda lk, v: _merge(lk.press_keys(v))),
    "finger": ("place a finger, e.g. alice-thumb", lambda lk, v: lk.place_finger(Finger.from_name(v))),
    "card": ("present a card UID (hex)", lambda lk, v: lk.present_card(v)),
    "mechanical_key": ("turn the mechanical key", lambda lk, v: lk.turn_key()),
    "knob": ("turn the inside knob", lambda lk, v: lk.turn_inside_knob()),
    "privacy": ("press the privacy button", lambda lk, v: lk.press_privacy_button()),
    "reset": ("hold RESET for N seconds", lambda lk, v: lk.hold_reset(_float(v))),
    "reset_down": ("push and keep holding RESET", lambda lk, v: lk.press_reset()),
    "reset_up": ("release RESET", lambda lk, v: lk.release_reset()),
    "batteries": (
        "batteries in or out",
        lambda lk, v: lk.insert_batteries() if _on_off(v) else lk.remove_batteries(),
    ),
    "battery": ("set the battery voltage, e.g. 4.5", lambda lk, v: lk.set_battery_voltage(_float(v))),
    "usb": (
        "emergency USB power on or off",
        lambda lk, v: lk.connect_usb() if _on_off(v) else lk.disconnect_usb(),
    ),
    "tamper": (
        "front panel off (on) or back (off)",
        lambda lk, v: lk.remove_front_panel() if _on_off(v or "on") else lk.replace_front_panel(),
    ),
    "replace_front_panel": ("put the front panel back on", lambda lk, v: lk.replace_front_panel()),
    "jam": ("block (on) or free (off) the bolt", lambda lk, v: lk.set_bolt_jammed(_on_off(v or "on"))),
    "bell": ("press the doorbell", lambda lk, v: lk.press_doorbell()),
    "tick": ("let due timers fire", lambda lk, v: lk.tick()),
}


def apply_input(lock: PanelLock, name: str, value: str | float | None = None) -> Output:
    """Carry out the physical input ``name`` with ``value``; ValueError if either is not valid."""
    entry = INPUTS.get(name)
    if entry is None:
        raise ValueError(f"unknown lock input {name!r}; known: {', '.join(sorted(INPUTS))}")
    return entry[1](lock, "" if value is None else str(value))
