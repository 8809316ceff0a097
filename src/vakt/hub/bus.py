"""Live push (A4/A8): an in-process bus from device events to the signed-in clients allowed to see them."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vakt.hub.permissions import Permission, users_allowed

log = logging.getLogger(__name__)
_AUDIENCE_TTL_S = 5.0
Relay = Callable[[dict[str, Any], int | None, set[int] | None, Permission | None], Awaitable[None]]
Watcher = Callable[[dict[str, Any]], None]
# Messages that change who may see what: audiences are re-read and open sockets re-checked (authz).
# ``session.ended`` (user_ids: the account) closes a signed-out session's sockets at once, not within 1 s.
ACCESS_CHANGES = frozenset(
    {"share.created", "share.updated", "share.revoked", "device.deleted", "session.ended"}
)


@dataclass(eq=False)
class Subscription:
    user_id: int
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))
    dropped: int = 0

    def offer(self, message: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1  # a client that does not read does not hold up the others


class EventBus:
    """``publish`` a message about a device; every subscribed user allowed to see the device receives it."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._subscriptions: set[Subscription] = set()
        self._audience: dict[tuple[int, Permission | None], tuple[float, set[int]]] = {}
        self._relay: Relay | None = None
        self._watchers: list[Watcher] = []

    def relay_through(self, relay: Relay | None) -> None:
        """Send each published message through ``relay`` (to every hub process) instead of delivering here."""
        self._relay = relay

    def watch(self, watcher: Watcher) -> None:
        """Call ``watcher(message)`` for every message delivered in this process, whoever it is for."""
        self._watchers.append(watcher)

    @property
    def relayed(self) -> bool:
        return self._relay is not None

    @asynccontextmanager
    async def subscribe(self, user_id: int) -> AsyncIterator[Subscription]:
        subscription = Subscription(user_id)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    def invalidate(self, device_id: int | None = None) -> None:
        """Forget cached audiences (after a share or device changes) so the next publish re-reads them."""
        if device_id is None:
            self._audience.clear()
        else:
            for key in [k for k in self._audience if k[0] == device_id]:
                del self._audience[key]

    async def audience(self, device_id: int, permission: Permission | None = None) -> set[int]:
        """Ids of the users who may see ``device_id`` (holding ``permission`` when given); cached briefly."""
        return await self._allowed(device_id, permission)

    async def _allowed(self, device_id: int, permission: Permission | None) -> set[int]:
        key = (device_id, permission)
        cached = self._audience.get(key)
        if cached is not None and time.monotonic() - cached[0] < _AUDIENCE_TTL_S:
            return cached[1]
        async with self._sessionmaker() as session:
            allowed = await users_allowed(session, device_id, permission)
        self._audience[key] = (time.monotonic(), allowed)
        return allowed

    async def publish(
        self,
        message: dict[str, Any],
        device_id: int | None = None,
        user_ids: set[int] | None = None,
        permission: Permission | None = None,
    ) -> int:
        """Deliver ``message``; with ``device_id`` only to users who may see it (and hold ``permission``).

        ``user_ids`` narrows the audience further; with neither, every signed-in client gets it.
        Returns the number of subscriptions it was delivered to in this process (0 when relayed).
        """
        if self._relay is not None:  # several hub processes: every one delivers to its own clients
            try:
                await self._relay(message, device_id, user_ids, permission)
                return 0
            except Exception as exc:
                log.warning("bus relay failed (%s); delivering in this process only", exc)
        return await self.deliver(message, device_id, user_ids, permission)

    async def deliver(
        self,
        message: dict[str, Any],
        device_id: int | None = None,
        user_ids: set[int] | None = None,
        permission: Permission | None = None,
    ) -> int:
        """Deliver to this process's subscribers (``publish`` without the relay)."""
        if message.get("type") in ACCESS_CHANGES and isinstance(message.get("device_id"), int):
            self.invalidate(message["device_id"])  # also in the other hub processes, which got it relayed
        for watcher in self._watchers:
            watcher(message)
        if not self._subscriptions:
            return 0
        audience = user_ids
        if device_id is not None:
            allowed = await self._allowed(device_id, permission)
            audience = allowed if audience is None else audience & allowed
        delivered = 0
        for subscription in list(self._subscriptions):
            if audience is None or subscription.user_id in audience:
                subscription.offer(message)
                delivered += 1
        return delivered
