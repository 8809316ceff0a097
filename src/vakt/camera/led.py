"""The status LED (C1) as a pure function of what the camera is doing."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Led(StrEnum):
    OFF = "off"
    SOLID_RED = "solid_red"  # starting up (also while RESET is taking effect, C2.1)
    SLOW_RED = "slow_red"  # network exception
    FAST_RED = "fast_red"  # camera exception, e.g. a micro SD error (C4.4)
    SOLID_BLUE = "solid_blue"  # the live view is being watched
    SLOW_BLUE = "slow_blue"  # running normally
    FAST_BLUE = "fast_blue"  # ready for Wi-Fi connection (network set-up mode)


@dataclass(frozen=True, slots=True)
class LedInputs:
    status_light: bool = True
    starting: bool = False
    camera_fault: bool = False
    network_ok: bool = True
    setup_mode: bool = False
    watching: int = 0


def led_for(inputs: LedInputs) -> Led:
    """C1: the first matching row wins; the Status Light setting off keeps the LED dark (C1.1).

    Order (chosen where the manual is silent): starting > camera exception > set-up mode >
    network exception > live view watched > normal."""
    if not inputs.status_light:
        return Led.OFF
    if inputs.starting:
        return Led.SOLID_RED
    if inputs.camera_fault:
        return Led.FAST_RED
    if inputs.setup_mode:
        return Led.FAST_BLUE
    if not inputs.network_ok:
        return Led.SLOW_RED
    if inputs.watching > 0:
        return Led.SOLID_BLUE
    return Led.SLOW_BLUE
