"""Accounts and sessions (A1): register (the first account, then by invite), sign in/out, sessions, password,
remote-unlock PIN, account deletion. Password checks go through the attempt limits of vakt.hub.ratelimit."""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.api_types import SessionId
from vakt.hub.auth import (
    COOKIE_NAME,
    CurrentAuth,
    CurrentUser,
    client_address,
    hash_secret,
    open_session,
    token_digest,
    verify_password,
)
from vakt.hub.db import DbSession, utcnow
from vakt.hub.errors import errors
from vakt.hub.models.devices import Device
from vakt.hub.models.users import AuthSession, Invite, User
from vakt.hub.ratelimit import AttemptThrottle, check_password, password_attempt
from vakt.hub.settings import HubSettings

router = APIRouter(prefix="/api/auth", tags=["auth"])

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
Username = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_.-]{3,64}$")]
Password = Annotated[str, StringConstraints(min_length=10, max_length=256)]
Pin = Annotated[str, StringConstraints(pattern=r"^[0-9]{4,8}$")]


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email = Field(description="e-mail address, also usable to sign in")
    username: Username = Field(description="3-64 letters, digits, '_', '.' or '-'")
    password: Password = Field(description="at least 10 characters")
    invite: str | None = Field(
        default=None, max_length=100, description="an invite token; needed once the hub has its first account"
    )


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)] = Field(
        description="username or e-mail"
    )
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    email: str
    username: str
    created_at: datetime
    has_unlock_pin: bool = False


class LoginOut(BaseModel):
    token: str = Field(description="send as 'Authorization: Bearer <token>' (the cookie is set as well)")
    expires_at: datetime
    user: UserOut


class SessionOut(BaseModel):
    id: int
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime
    client_address: str | None
    user_agent: str | None
    current: bool


class UnlockPinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(
        description="the account password, to confirm"
    )
    pin: Pin = Field(description="4-8 digits asked before each remote unlock")


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(
        description="the account password, to confirm"
    )


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    new_password: Password = Field(description="at least 10 characters")


class InviteOut(BaseModel):
    token: str = Field(description="give it to the person invited; shown once, single use")
    url: str = Field(description="the web app's registration page with the invite filled in")
    expires_at: datetime


class SignedOutOut(BaseModel):
    signed_out: int = Field(description="how many other sessions were signed out")


class AccountDeletedOut(BaseModel):
    devices_deleted: int = Field(description="devices of the account, now free to be added to another")


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        username=user.username,
        created_at=user.created_at,
        has_unlock_pin=user.unlock_pin_hash is not None,
    )


async def _hub_owner_id(session: AsyncSession) -> int | None:
    """The hub's owner: its oldest account (the one created while registration was open)."""
    return await session.scalar(select(func.min(User.id)))


async def _take_invite(session: AsyncSession, token: str | None) -> Invite:
    refused = "registration is closed: ask the hub's owner for an invite"
    if not token:
        raise HTTPException(status.HTTP_403_FORBIDDEN, refused)
    invite = await session.scalar(select(Invite).where(Invite.token_hash == token_digest(token)))
    if invite is None or invite.used_at is not None or invite.expires_at <= utcnow():
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this invite is unknown, already used or expired")
    return invite


@router.post(
    "/register", response_model=UserOut, status_code=status.HTTP_201_CREATED, responses=errors(403, 409)
)
async def register(body: RegisterIn, request: Request, session: DbSession) -> UserOut:
    """Create an account: the hub's first account freely, later ones with an owner's invite (or anyone when
    VAKT_OPEN_REGISTRATION is on). Without an invite the answer is the same whether a name is taken or not."""
    settings: HubSettings = request.app.state.settings
    lock: asyncio.Lock = request.app.state.registration_lock
    async with lock:  # two "first accounts" at once: only one is first
        invite: Invite | None = None
        if not settings.open_registration and await _hub_owner_id(session) is not None:
            invite = await _take_invite(session, body.invite)
        taken = await session.scalar(
            select(func.count())
            .select_from(User)
            .where(or_(User.email == body.email, func.lower(User.username) == body.username.lower()))
        )
        if taken:
            raise HTTPException(status.HTTP_409_CONFLICT, "that e-mail or username is already registered")
        user = User(email=body.email, username=body.username, password_hash=hash_secret(body.password))
        session.add(user)
        await session.flush()
        if invite is not None:
            invite.used_at, invite.used_by = utcnow(), user.id
        await session.commit()
    return user_out(user)


@router.post("/invites", response_model=InviteOut, status_code=status.HTTP_201_CREATED)
async def create_invite(user: CurrentUser, request: Request, session: DbSession) -> InviteOut:
    """An invite to create one account (the hub's owner only); only its hash is stored."""
    if user.id != await _hub_owner_id(session):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only the hub's owner (its first account) invites")
    settings: HubSettings = request.app.state.settings
    token = secrets.token_urlsafe(24)
    expires_at = utcnow() + timedelta(seconds=settings.invite_ttl_s)
    session.add(Invite(token_hash=token_digest(token), created_by=user.id, expires_at=expires_at))
    await session.commit()
    return InviteOut(token=token, url=f"/register?invite={token}", expires_at=expires_at)


async def _check_password(
    request: Request, session: AsyncSession, user: User | None, login: str, password: str
) -> bool:
    """A password check under the sign-in limits (429 while they say wait); ``user`` None: unknown login."""
    account = f"account:{user.id}" if user is not None else f"name:{login.lower()}"
    attempt = await password_attempt(
        session, request.app.state.settings, account, client_address(request), user.id if user else None
    )
    throttle: AttemptThrottle = request.app.state.attempt_throttle
    return await check_password(throttle, session, attempt, lambda: verify_password(user, password))


@router.post("/login", response_model=LoginOut, responses=errors(401, 429))
async def login(body: LoginIn, request: Request, response: Response, session: DbSession) -> LoginOut:
    """Sign in by username or e-mail. Failures slow further tries down (429 with Retry-After), per account,
    per address and per pair, never locking out a place the account has signed in from before."""
    user = await session.scalar(
        select(User).where(
            or_(User.email == body.login.lower(), func.lower(User.username) == body.login.lower())
        )
    )
    if not await _check_password(request, session, user, body.login, body.password) or user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username/e-mail or password")
    settings: HubSettings = request.app.state.settings
    token, row = await open_session(
        session, user, settings, client_address(request), request.headers.get("user-agent")
    )
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=settings.session_ttl_s,
        httponly=True,
        samesite="lax",
        # HTTPS directly (TLS) or through a trusted proxy that says so (X-Forwarded-Proto)
        secure=settings.cookie_secure or request.url.scheme == "https",
        path="/",
    )
    return LoginOut(token=token, expires_at=row.expires_at, user=user_out(user))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(auth: CurrentAuth, response: Response, session: DbSession) -> None:
    row = await session.get(AuthSession, auth.session.id)
    if row is not None:
        row.revoked_at = utcnow()
        await session.commit()
    response.delete_cookie(COOKIE_NAME, path="/")


@router.get("/me", response_model=UserOut)
async def me(user: CurrentUser) -> UserOut:
    return user_out(user)


@router.get("/sessions", response_model=list[SessionOut])
async def list_sessions(auth: CurrentAuth, session: DbSession) -> list[SessionOut]:
    rows = await session.scalars(
        select(AuthSession)
        .where(
            AuthSession.user_id == auth.user.id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > utcnow(),
        )
        .order_by(AuthSession.id)
    )
    return [
        SessionOut(
            id=r.id,
            created_at=r.created_at,
            expires_at=r.expires_at,
            last_seen_at=r.last_seen_at,
            client_address=r.client_address,
            user_agent=r.user_agent,
            current=r.id == auth.session.id,
        )
        for r in rows
    ]


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_session(session_id: SessionId, user: CurrentUser, session: DbSession) -> None:
    row = await session.get(AuthSession, session_id)
    if row is None or row.user_id != user.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"session {session_id} not found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.commit()


async def _confirm_password(request: Request, session: AsyncSession, user: User, password: str) -> User:
    """The signed-in user's row once ``password`` is confirmed under the sign-in limits; else 403."""
    row = await session.get(User, user.id)
    assert row is not None
    if not await _check_password(request, session, row, row.username, password):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong password")
    return row


async def _sign_out_others(session: AsyncSession, auth_session: AuthSession) -> int:
    result = await session.execute(
        update(AuthSession)
        .where(
            AuthSession.user_id == auth_session.user_id,
            AuthSession.id != auth_session.id,
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


@router.put("/unlock-pin", status_code=status.HTTP_204_NO_CONTENT, responses=errors(429))
async def set_unlock_pin(body: UnlockPinIn, request: Request, user: CurrentUser, session: DbSession) -> None:
    """Set the PIN asked before every remote unlock (A7); stored only as an argon2 hash."""
    row = await _confirm_password(request, session, user, body.password)
    row.unlock_pin_hash = hash_secret(body.pin)
    await session.commit()


@router.put("/password", response_model=SignedOutOut, responses=errors(429))
async def change_password(
    body: PasswordChangeIn, request: Request, auth: CurrentAuth, session: DbSession
) -> SignedOutOut:
    """Change the password (the current one is asked); every other session is signed out."""
    row = await _confirm_password(request, session, auth.user, body.current_password)
    row.password_hash = hash_secret(body.new_password)
    signed_out = await _sign_out_others(session, auth.session)
    await session.commit()
    return SignedOutOut(signed_out=signed_out)


@router.post("/sessions/sign-out-others", response_model=SignedOutOut)
async def sign_out_others(auth: CurrentAuth, session: DbSession) -> SignedOutOut:
    """Sign out every session of the account but this one."""
    signed_out = await _sign_out_others(session, auth.session)
    await session.commit()
    return SignedOutOut(signed_out=signed_out)


@router.delete("/me", response_model=AccountDeletedOut, responses=errors(429))
async def delete_account(
    body: PasswordIn, request: Request, response: Response, user: CurrentUser, session: DbSession
) -> AccountDeletedOut:
    """Delete the account (the password is asked). Its devices are deleted from the hub with their history
    and shares (their broker accounts removed), so they can be added to another account; shares it was
    given end. Devices are not handed over: nobody accepts a device without being asked."""
    row = await _confirm_password(request, session, user, body.password)
    devices = (await session.scalars(select(Device).where(Device.owner_id == row.id))).all()
    gone = [(d.id, d.serial) for d in devices]
    audiences = {d.id: await request.app.state.bus.audience(d.id) for d in devices}
    for device in sorted(devices, key=lambda d: d.parent_id is None):  # a gateway's locks first
        await session.delete(device)
    await session.flush()
    await session.delete(row)
    await session.commit()
    await request.app.state.broker_sync.sync(session)
    for device_id, serial in gone:
        request.app.state.mqtt.directory.forget(serial)
        request.app.state.bus.invalidate(device_id)
        await request.app.state.bus.publish(
            {"type": "device.deleted", "device_id": device_id}, user_ids=audiences[device_id] - {row.id}
        )
    request.app.state.bus.invalidate()
    response.delete_cookie(COOKIE_NAME, path="/")
    return AccountDeletedOut(devices_deleted=len(gone))
