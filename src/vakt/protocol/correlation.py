"""Command/Ack correlation for whoever sends commands (the hub): one future per command id."""

from __future__ import annotations

import asyncio

from vakt.protocol.messages import Ack


class PendingCommands:
    """Futures for commands awaiting their Ack; an Ack for an unknown id is ignored."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[Ack]] = {}

    def expect(self, command_id: str) -> asyncio.Future[Ack]:
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._waiting[command_id] = future
        return future

    def resolve(self, ack: Ack) -> bool:
        """Deliver an Ack; False when nobody waits for it (late, duplicate or unknown)."""
        future = self._waiting.pop(ack.id, None)
        if future is None or future.done():
            return False
        future.set_result(ack)
        return True

    def forget(self, command_id: str) -> None:
        self._waiting.pop(command_id, None)

    async def wait(self, command_id: str, timeout: float) -> Ack:
        """Wait for the Ack of a command registered with :meth:`expect`; TimeoutError when none comes."""
        future = self._waiting.get(command_id) or self.expect(command_id)
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        finally:
            self.forget(command_id)
