"""Accounts and sessions (A1): register, sign in/out, list and revoke sessions, remote-unlock PIN."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import func, or_, select

from vakt.hub.api_types import SessionId
from vakt.hub.auth import (
    COOKIE_NAME,
    CurrentAuth,
    CurrentUser,
    client_address,
    hash_secret,
    open_session,
    verify_secret,
)
from vakt.hub.db import DbSession, utcnow
from vakt.hub.errors import errors
from vakt.hub.models.users import AuthSession, User
from vakt.hub.ratelimit import FailureLimiter

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


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        username=user.username,
        created_at=user.created_at,
        has_unlock_pin=user.unlock_pin_hash is not None,
    )


@router.post("/register", response_model=UserOut, status_code=status.HTTP_201_CREATED, responses=errors(409))
async def register(body: RegisterIn, session: DbSession) -> UserOut:
    taken = await session.scalar(
        select(func.count())
        .select_from(User)
        .where(or_(User.email == body.email, func.lower(User.username) == body.username.lower()))
    )
    if taken:
        raise HTTPException(status.HTTP_409_CONFLICT, "that e-mail or username is already registered")
    user = User(email=body.email, username=body.username, password_hash=hash_secret(body.password))
    session.add(user)
    await session.commit()
    return user_out(user)


def _too_many(retry_after: int) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"too many failed sign-ins; try again in {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )


@router.post("/login", response_model=LoginOut, responses=errors(401, 429))
async def login(body: LoginIn, request: Request, response: Response, session: DbSession) -> LoginOut:
    accounts: FailureLimiter = request.app.state.login_limiter
    addresses: FailureLimiter = request.app.state.address_limiter
    account_key, address_key = f"login:{body.login.lower()}", f"address:{client_address(request)}"
    retry_after = max(accounts.retry_after(account_key), addresses.retry_after(address_key))
    if retry_after:
        raise _too_many(retry_after)
    user = await session.scalar(
        select(User).where(
            or_(User.email == body.login.lower(), func.lower(User.username) == body.login.lower())
        )
    )
    if user is None or not verify_secret(user.password_hash, body.password):
        accounts.fail(account_key)
        addresses.fail(address_key)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username/e-mail or password")
    accounts.reset(account_key)
    settings = request.app.state.settings
    token, row = await open_session(
        session, user, settings, client_address(request), request.headers.get("user-agent")
    )
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=settings.session_ttl_s,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
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


@router.put("/unlock-pin", status_code=status.HTTP_204_NO_CONTENT)
async def set_unlock_pin(body: UnlockPinIn, user: CurrentUser, session: DbSession) -> None:
    """Set the PIN asked before every remote unlock (A7); stored only as an argon2 hash."""
    if not verify_secret(user.password_hash, body.password):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong password")
    row = await session.get(User, user.id)
    assert row is not None
    row.unlock_pin_hash = hash_secret(body.pin)
    await session.commit()
