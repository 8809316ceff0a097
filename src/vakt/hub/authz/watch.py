"""Open WebSockets re-checked (A5): a socket that is no longer allowed is closed within 2 s.

What wakes the watch: a share created, changed or revoked and a device deleted (bus messages, relayed
to every hub process), the nearest expiry of a share or session (a timer), and a read-back of the
sessions every ``POLL_S`` (so every way a session ends closes its sockets: sign-out, revocation, expiry,
a deleted account, another hub process). Each wake re-reads, in three queries, the sessions, devices
and shares of all open sockets of this process and closes those no longer allowed, with a close code
and a reason a person understands. Account sockets (``/api/ws``) are told ``share.revoked`` with
``"reason": "expired"`` when a share of theirs expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocketState

from vakt.hub.authz import SocketGrant, refusal
from vakt.hub.bus import ACCESS_CHANGES, EventBus
from vakt.hub.db import utcnow
from vakt.hub.models.devices import Device, Share
from vakt.hub.models.users import AuthSession
from vakt.hub.permissions import ALL_PERMISSIONS, DeviceAccess, granted, share_is_active

log = logging.getLogger(__name__)

CLOSE_SIGNED_OUT = 4401  # the session ended: sign in again
CLOSE_REVOKED = 4403  # the share was revoked, expired or no longer has the permission
CLOSE_REMOVED = 4404  # the device was deleted
POLL_S = 1.0  # sessions (and everything else) are read back at least this often while sockets are open
_EXPIRY_MARGIN = timedelta(milliseconds=5)  # wake just after an expiry, so it has passed


@dataclass(frozen=True, slots=True)
class Closing:
    code: int
    reason: str


@dataclass(eq=False)
class Watched:
    """One open socket: its grant and the task serving it (cancelled to close it)."""

    grant: SocketGrant
    task: asyncio.Task[Any]
    closing: Closing | None = None


def verdict(
    grant: SocketGrant,
    session: AuthSession | None,
    device: Device | None,
    share: Share | None,
    now: datetime,
) -> Closing | None:
    """Why the socket must close now, or None while it is still allowed."""
    if session is None or session.revoked_at is not None:
        return Closing(CLOSE_SIGNED_OUT, "you were signed out; sign in again")
    if session.expires_at <= now:
        return Closing(CLOSE_SIGNED_OUT, "your session expired; sign in again")
    if grant.need is None or grant.access is None:
        return None
    what = grant.access.device.kind or "device"
    if device is None:
        return Closing(CLOSE_REMOVED, f"this {what} was removed from its account")
    user = grant.user
    if device.owner_id == user.id:
        access = DeviceAccess(device, user, True, ALL_PERMISSIONS)
    elif share is None:
        return Closing(CLOSE_REVOKED, f"your access to this {what} was revoked")
    elif not share_is_active(share, now):
        return Closing(CLOSE_REVOKED, f"your access to this {what} has expired")
    else:
        access = DeviceAccess(device, user, False, granted(share), share)
    if refusal(access, grant.need) is None:
        return None
    if grant.need.owner:
        return Closing(CLOSE_REVOKED, f"only the owner of this {what} may do this now")
    wanted = grant.need.permission.value.replace("_", " ") if grant.need.permission else "access"
    return Closing(CLOSE_REVOKED, f"your access to this {what} no longer includes {wanted}")


class SocketWatch:
    """The open sockets of one hub process, each closed as soon as it is no longer allowed."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus, poll_s: float = POLL_S
    ) -> None:
        self._sessionmaker = sessionmaker
        self._bus = bus
        self.poll_s = poll_s
        self._sockets: set[Watched] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._deadline: datetime | None = None
        self._active_shares: dict[int, set[int]] = {}  # account socket user -> devices shared, last look
        bus.watch(self._on_message)

    @classmethod
    def of(cls, app: FastAPI) -> SocketWatch:
        """The app's watch, made on first use (it needs nothing started beyond the bus)."""
        watch: SocketWatch | None = getattr(app.state, "socket_watch", None)
        if watch is None:
            watch = app.state.socket_watch = cls(app.state.sessionmaker, app.state.bus)
        return watch

    @property
    def open_sockets(self) -> int:
        return len(self._sockets)

    @contextlib.asynccontextmanager
    async def watching(self, grant: SocketGrant) -> AsyncIterator[Watched]:
        """Inside, the socket's task is cancelled when the socket is no longer allowed; the socket is then
        closed with the code and reason, and the cancellation ends here."""
        task = asyncio.current_task()
        assert task is not None
        entry = Watched(grant, task)
        self._sockets.add(entry)
        self._start()
        self._wake.set()  # access may have changed between the handshake and now
        try:
            yield entry
        except asyncio.CancelledError:
            if entry.closing is None:
                raise
        finally:
            self._sockets.discard(entry)
            if not self._sockets:
                self._wake.set()  # the watch ends now rather than at its next timeout
        if entry.closing is not None:
            if task.cancelling():
                task.uncancel()
            await self._close(entry, entry.closing)

    def _on_message(self, message: dict[str, Any]) -> None:
        if message.get("type") in ACCESS_CHANGES and self._sockets:
            self._wake.set()

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="socket-watch")

    def _timeout(self) -> float:
        if self._deadline is None:
            return self.poll_s
        until = (self._deadline - utcnow() + _EXPIRY_MARGIN).total_seconds()
        return max(0.0, min(self.poll_s, until))

    async def _run(self) -> None:
        while self._sockets:
            if not self._wake.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._timeout())
            self._wake.clear()
            try:
                await self.recheck()
            except Exception as exc:  # a database hiccup must not end the watch; the next pass retries
                log.warning("could not re-check the open sockets (%s); retrying", exc)
                await asyncio.sleep(self.poll_s)

    async def recheck(self) -> None:
        """Close every open socket that is no longer allowed; tell account sockets of expired shares."""
        entries = [e for e in self._sockets if e.closing is None]
        if not entries:
            return
        now = utcnow()
        session_ids = {e.grant.session_id for e in entries}
        device_ids = {e.grant.device_id for e in entries if e.grant.device_id is not None}
        user_ids = {e.grant.user.id for e in entries}
        async with self._sessionmaker() as db:
            sessions = {
                s.id: s for s in await db.scalars(select(AuthSession).where(AuthSession.id.in_(session_ids)))
            }
            devices = (
                {d.id: d for d in await db.scalars(select(Device).where(Device.id.in_(device_ids)))}
                if device_ids
                else {}
            )
            shares = list(await db.scalars(select(Share).where(Share.user_id.in_(user_ids))))
        by_pair = {(s.user_id, s.device_id): s for s in shares}
        for entry in entries:
            grant = entry.grant
            device_id = grant.device_id
            closing = verdict(
                grant,
                sessions.get(grant.session_id),
                None if device_id is None else devices.get(device_id),
                None if device_id is None else by_pair.get((grant.user.id, device_id)),
                now,
            )
            if closing is not None:
                self._close_soon(entry, closing)
        await self._announce_expiries(entries, shares, now)
        ends = [s.expires_at for s in shares if s.expires_at is not None and s.expires_at > now]
        ends += [s.expires_at for s in sessions.values() if s.expires_at > now]
        self._deadline = min(ends, default=None)

    def _close_soon(self, entry: Watched, closing: Closing) -> None:
        entry.closing = closing
        grant = entry.grant
        log.info(
            "closing the %s socket of user %d%s: %s",
            "device" if grant.device_id is not None else "account",
            grant.user.id,
            "" if grant.device_id is None else f" on device {grant.device_id}",
            closing.reason,
        )
        if entry in self._sockets and not entry.task.done():
            entry.task.cancel()

    async def _announce_expiries(
        self, entries: Sequence[Watched], shares: list[Share], now: datetime
    ) -> None:
        """``share.revoked`` (reason ``expired``) to the account sockets of a user whose share just expired;
        a revoked share or a deleted device is announced by the route that did it."""
        users = {e.grant.user.id for e in entries if e.grant.need is None}
        for user_id in users:
            mine = [s for s in shares if s.user_id == user_id]
            active = {s.device_id for s in mine if share_is_active(s, now)}
            before = self._active_shares.get(user_id)
            self._active_shares[user_id] = active
            if before is None:
                continue
            expired = sorted(before & {s.device_id for s in mine if not share_is_active(s, now)})
            for device_id in expired:
                self._bus.invalidate(device_id)
                await self._bus.deliver(
                    {"type": "share.revoked", "device_id": device_id, "reason": "expired"}, user_ids={user_id}
                )
        for user_id in set(self._active_shares) - users:
            del self._active_shares[user_id]

    async def _close(self, entry: Watched, closing: Closing) -> None:
        websocket = entry.grant.websocket
        if websocket.application_state != WebSocketState.CONNECTED:
            return
        with contextlib.suppress(Exception):  # the client may be gone already
            await websocket.close(closing.code, closing.reason)
