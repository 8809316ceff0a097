"""Other areas' reactions to device messages, each run in its own task so none holds up storage or the others.

An area's hook may be slow (a snapshot, a web push, a camera command waiting for its ack); the ingest
path only queues the call. Calls to one hook keep their order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from vakt.hub.models.devices import Device

log = logging.getLogger(__name__)
_BACKLOG_WARNING = 10_000


class HookRunner:
    def __init__(self, hook: Callable[[Device, Any], Awaitable[None]]) -> None:
        self.hook = hook
        self.name = getattr(hook, "__qualname__", repr(hook))
        self._queue: asyncio.Queue[tuple[Device, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def submit(self, device: Device, payload: Any) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"hook-{self.name}")
        self._queue.put_nowait((device, payload))
        if self._queue.qsize() == _BACKLOG_WARNING:
            log.warning("hook %s is %d calls behind", self.name, _BACKLOG_WARNING)

    async def _run(self) -> None:
        while True:
            device, payload = await self._queue.get()
            try:
                await self.hook(device, payload)
            except Exception:
                log.exception("hook %s failed for device %s", self.name, device.serial)
            finally:
                self._queue.task_done()

    async def join(self) -> None:
        """Wait until every call submitted so far has run."""
        await self._queue.join()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
