"""One authorization layer (A5): the permission each action needs, checked for every route and WebSocket.

Routes declare what they do with ``on_device(Action.X)`` (the device in the path), ``located(Action.X,
locate)`` (the device of an event or notification), ``for_socket(Action.X)`` (a WebSocket) or
``CurrentUser`` (the account's own data); ``requirement_of(route)`` reads the declaration back, so a test
can hold every route of the app to a table. Open sockets are re-checked by ``authz.watch.SocketWatch``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Protocol, TypeVar

from fastapi import Depends, HTTPException, WebSocket, status
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.routing import BaseRoute

from vakt.hub.api_types import DeviceId
from vakt.hub.auth import CurrentUser, authenticate_token, current_auth, request_token
from vakt.hub.db import DbSession
from vakt.hub.models.devices import Device
from vakt.hub.models.users import User
from vakt.hub.permissions import DeviceAccess, Permission, resolve_access


class Action(StrEnum):
    """What a person does with a device; ``NEEDS`` says which permission each takes."""

    SEE = "see"  # the device in the list, its state, the lock's state, the camera's details
    WATCH_LIVE = "watch_live"  # live view, live snapshot, definition (C5.1)
    TALK = "talk"  # two-way audio (C5.3)
    VIEW_HISTORY = "view_history"  # recordings, clips, past snapshots, person events, lock log and alarms
    OPERATE_LOCK = "operate_lock"  # remote lock and unlock (the unlock behind the user's PIN, A7)
    CONTROL = "control"  # siren, spotlight, active defense (C9.2), manual recording (C5.1)
    CONFIGURE = "configure"  # device and recording settings, credentials, name, pairing
    MANAGE = "manage"  # sharing, deleting the device
    TOUCH_PANEL = "touch_panel"  # the emulated device's physical front: keypad, knob, RESET ...


@dataclass(frozen=True, slots=True)
class Need:
    """A permission on the device (None: any access), or being its owner."""

    permission: Permission | None = None
    owner: bool = False

    @property
    def label(self) -> str:
        """``owner``, a permission's value, or ``any`` (owner or any active share)."""
        if self.owner:
            return "owner"
        return "any" if self.permission is None else self.permission.value


# The permissions of A5 (live view, history, talk, unlock, settings) are the whole vocabulary: controls
# that act on the camera (siren, spotlight, recording) take ``settings``, the physical panel the owner.
NEEDS: Final[Mapping[Action, Need]] = {
    Action.SEE: Need(),
    Action.WATCH_LIVE: Need(Permission.LIVE_VIEW),
    Action.TALK: Need(Permission.TALK),
    Action.VIEW_HISTORY: Need(Permission.HISTORY),
    Action.OPERATE_LOCK: Need(Permission.UNLOCK),
    Action.CONTROL: Need(Permission.SETTINGS),
    Action.CONFIGURE: Need(Permission.SETTINGS),
    Action.MANAGE: Need(owner=True),
    Action.TOUCH_PANEL: Need(owner=True),
}

PUBLIC = "public"  # requirement_of(): no sign-in
SIGNED_IN = "signed_in"  # requirement_of(): any signed-in account (its own data)
_MARK = "__vakt_need__"  # the Need a dependency enforces, read back by requirement_of()
_F = TypeVar("_F", bound=Callable[..., Any])


def _marked(dependency: _F, need: Need | None) -> _F:
    setattr(dependency, _MARK, need)
    return dependency


def hidden(device_id: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"device {device_id} not found")


def refusal(access: DeviceAccess, need: Need) -> str | None:
    """Why ``access`` does not meet ``need``, in words; None when it does."""
    if need.owner and not access.is_owner:
        return f"only the owner of device {access.device.id} may do this"
    if need.permission is not None and not access.allows(need.permission):
        return f"permission '{need.permission.value}' is needed for device {access.device.id}"
    return None


async def authorize(
    session: AsyncSession, user: User, device_id: int, need: Need, kind: str | None = None
) -> DeviceAccess:
    """The user's access to the device: 404 when it is not visible to them (or not a ``kind``), 403 when
    ``need`` is not met."""
    device = await session.get(Device, device_id)
    access = None if device is None else await resolve_access(session, user, device)
    if access is None:
        raise hidden(device_id)
    reason = refusal(access, need)
    if reason is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, reason)
    if kind is not None and access.device.kind != kind:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"device {device_id} is not a {kind}")
    return access


def require_since(access: DeviceAccess, instant: datetime) -> None:
    """A shared user sees nothing from before the share began (A5): 403 for an earlier instant."""
    since = access.history_since
    if since is not None and instant < since:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"history before the share began ({since.isoformat()}) is not visible"
        )


class Timed(Protocol):
    @property
    def start(self) -> datetime: ...


_T = TypeVar("_T", bound=Timed)


def since_share_start(access: DeviceAccess, items: Iterable[_T]) -> list[_T]:
    """Only what starts at or after the share's start (A5): a segment straddling it is not shown at all,
    so no frame from before the share is ever served."""
    since = access.history_since
    return [item for item in items if since is None or item.start >= since]


# -- route dependencies ------------------------------------------------------------------------------------
def device_rule(need: Need, kind: str | None = None) -> Any:
    """``Depends`` for routes with ``{device_id}``: the DeviceAccess, once ``need`` is met."""

    async def dependency(device_id: DeviceId, user: CurrentUser, session: DbSession) -> DeviceAccess:
        return await authorize(session, user, device_id, need, kind)

    return Depends(_marked(dependency, need))


def on_device(action: Action, kind: str | None = None) -> Any:
    """``Depends`` for a route that does ``action`` to the device in its path."""
    return device_rule(NEEDS[action], kind)


@dataclass(frozen=True, slots=True)
class Located:
    """The device a path's object (an event, a notification) belongs to, and how to name the object."""

    device_id: int
    what: str  # e.g. "person event 12": a user who may not see the device is told it is not found
    # What this user was already sent lowers the need: the snapshot of a person alert they were notified
    # of needs what the alert went out for (live_view), not history.
    notified_with: Action | None = None


def located(action: Action, locate: Callable[..., Awaitable[Located]]) -> Any:
    """``Depends`` for a route about an object of a device; ``locate`` is itself a dependency (it reads
    the path) and answers 404 when the object does not exist."""
    need = NEEDS[action]

    async def dependency(
        user: CurrentUser, session: DbSession, where: Located = Depends(locate)
    ) -> DeviceAccess:
        try:
            needed = need if where.notified_with is None else NEEDS[where.notified_with]
            return await authorize(session, user, where.device_id, needed)
        except HTTPException as exc:
            if exc.status_code == status.HTTP_404_NOT_FOUND:  # do not tell that the object exists
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"{where.what} not found") from None
            raise

    return Depends(_marked(dependency, need))


# -- WebSockets ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SocketGrant:
    """Who opened a WebSocket, with which session, and (for a device's socket) what was granted."""

    websocket: WebSocket
    user: User
    session_id: int
    need: Need | None = None  # None: an account socket (/api/ws)
    access: DeviceAccess | None = None

    @property
    def device_id(self) -> int | None:
        return None if self.access is None else self.access.device.id

    def watched(self) -> Any:
        """Context manager: while inside, the socket is closed as soon as it is no longer allowed."""
        from vakt.hub.authz.watch import SocketWatch

        return SocketWatch.of(self.websocket.app).watching(self)


def _sessionmaker(websocket: WebSocket) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = websocket.app.state.sessionmaker
    return maker


async def _socket_signed_in(websocket: WebSocket, db: AsyncSession) -> tuple[User, int]:
    token = websocket.query_params.get("token") or request_token(websocket)
    found = await authenticate_token(db, token)
    if found is None:  # before accept: the handshake is answered 401, as a route would be
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "sign in first (session missing, expired or revoked)"
        )
    return found.user, found.session.id


def socket_rule(need: Need | None, kind: str | None = None) -> Any:
    """``Depends`` for a WebSocket: signed in (and, with ``need``, allowed on ``{device_id}``); refused
    before the handshake completes with the same 401/403/404 and words as a route. No database
    connection is held for the socket's lifetime."""
    if need is None:

        async def account(websocket: WebSocket) -> SocketGrant:
            async with _sessionmaker(websocket)() as db:
                user, session_id = await _socket_signed_in(websocket, db)
            return SocketGrant(websocket, user, session_id)

        return Depends(_marked(account, None))

    async def device(websocket: WebSocket, device_id: DeviceId) -> SocketGrant:
        async with _sessionmaker(websocket)() as db:
            user, session_id = await _socket_signed_in(websocket, db)
            access = await authorize(db, user, device_id, need, kind)
        return SocketGrant(websocket, user, session_id, need, access)

    return Depends(_marked(device, need))


def for_socket(action: Action | None, kind: str | None = None) -> Any:
    """``Depends`` for a WebSocket that does ``action`` to ``{device_id}`` (None: the account's socket)."""
    return socket_rule(None if action is None else NEEDS[action], kind)


AccountSocket = Annotated[SocketGrant, for_socket(None)]


# -- reading the declarations back ---------------------------------------------------------------------------
def _needs_in(dependant: Dependant) -> tuple[list[Need | None], bool]:
    """The Needs marked in a dependency tree, and whether it signs the user in."""
    found: list[Need | None] = []
    signed_in = False
    for sub in dependant.dependencies:
        call = sub.call
        if call is not None and hasattr(call, _MARK):
            found.append(getattr(call, _MARK))
        if call is current_auth:
            signed_in = True
        more, deeper = _needs_in(sub)
        found += more
        signed_in = signed_in or deeper
    return found, signed_in


def requirement_of(route: BaseRoute) -> str:
    """What a route or WebSocket demands, as declared: ``public``, ``signed_in``, ``any`` (any access to
    the device), a permission's value, or ``owner``."""
    if not isinstance(route, APIRoute | APIWebSocketRoute):
        return PUBLIC
    needs, signed_in = _needs_in(route.dependant)
    device_needs = {n for n in needs if n is not None}
    if len(device_needs) > 1:
        raise ValueError(f"{route.path} declares several needs: {sorted(n.label for n in device_needs)}")
    if device_needs:
        return device_needs.pop().label
    return SIGNED_IN if signed_in or needs else PUBLIC


__all__ = [
    "NEEDS",
    "PUBLIC",
    "SIGNED_IN",
    "AccountSocket",
    "Action",
    "Located",
    "Need",
    "SocketGrant",
    "authorize",
    "device_rule",
    "for_socket",
    "located",
    "on_device",
    "refusal",
    "require_since",
    "requirement_of",
    "since_share_start",
    "socket_rule",
]
