"""A small in-process limiter of failed attempts (sign-in, remote-unlock PIN)."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class FailureLimiter:
    """Failures per key in a sliding window; ``max_failures`` of them block the key until they age out."""

    def __init__(
        self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self._clock()
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def retry_after(self, *keys: str) -> int:
        """Seconds until every key may try again; 0 when none is blocked."""
        wait = 0.0
        for key in keys:
            failures = self._recent(key)
            if len(failures) >= self.max_failures:
                wait = max(wait, failures[-self.max_failures] + self.window_s - self._clock())
        return math.ceil(wait) if wait > 0 else 0

    def remaining(self, key: str) -> int:
        return max(0, self.max_failures - len(self._recent(key)))

    def fail(self, *keys: str) -> None:
        now = self._clock()
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)

    def reset(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
