"""The lock's clock: injected, so time moves only when the caller says (lockout, relock, timeouts)."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds (any epoch, but the same one across power cycles, L10.3)."""
        ...


class ManualClock:
    """A clock that moves only by ``advance`` (tests, the property-based state machine)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._t = float(start)

    def now(self) -> float:
        return self._t

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not run backwards")
        self._t += seconds


class WallClock:
    """Wall-clock seconds plus an offset that ``advance`` grows (the terminal panel's ``wait``)."""

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not run backwards")
        self._offset += seconds
