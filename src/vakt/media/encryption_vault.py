"""Unlocked camera keys held in the hub's memory for one viewer's session, for a bounded time (C6).

Entering the encryption password unwraps the camera's private key for that sign-in session only; it
is forgotten after `ttl` (or at once on lock, sign-out or a password change) and never written down.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from vakt.media.encryption import Opener


@dataclass
class _Held:
    opener: Opener
    until: float  # time.monotonic()


class KeyVault:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._held: dict[tuple[int, int], _Held] = {}

    def hold(self, session_id: int, camera_id: int, opener: Opener) -> float:
        """Keep the key for this viewer; returns the seconds it stays unlocked."""
        self._sweep()
        self._held[(session_id, camera_id)] = _Held(opener, time.monotonic() + self.ttl)
        return self.ttl

    def opener(self, session_id: int, camera_id: int) -> Opener | None:
        self._sweep()
        held = self._held.get((session_id, camera_id))
        return held.opener if held is not None else None

    def seconds_left(self, session_id: int, camera_id: int) -> float | None:
        self._sweep()
        held = self._held.get((session_id, camera_id))
        return max(0.0, held.until - time.monotonic()) if held is not None else None

    def lock(self, session_id: int, camera_id: int) -> None:
        self._held.pop((session_id, camera_id), None)

    def forget_camera(self, camera_id: int) -> None:
        """Every viewer's key of a camera (its password changed or encryption was turned off)."""
        for held in [k for k in self._held if k[1] == camera_id]:
            del self._held[held]

    def _sweep(self) -> None:
        now = time.monotonic()
        for key in [k for k, h in self._held.items() if h.until <= now]:
            del self._held[key]
