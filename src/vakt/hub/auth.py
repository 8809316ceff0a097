"""Accounts and sessions (A1): argon2 password hashes, hashed session tokens, cookie or Bearer auth."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, WebSocket, WebSocketException, status
from fastapi.requests import HTTPConnection
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.db import DbSession, utcnow
from vakt.hub.models.users import AuthSession, User
from vakt.hub.settings import HubSettings

COOKIE_NAME = "vakt_session"
_hasher = PasswordHasher()
# Refresh last_seen_at at most this often, so authenticated reads do not all write.
_SEEN_RESOLUTION = timedelta(seconds=60)


_dummy_hash: str | None = None


def configure_hashing(time_cost: int, memory_kib: int) -> None:
    """Set the argon2id cost of new hashes (existing hashes carry their own parameters)."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    _dummy_hash = None


def verify_password(user: User | None, password: str) -> bool:
    """Check ``user``'s password; for no user, verify against a dummy hash of the same cost so an unknown
    name takes as long as a known one (no enumeration by timing)."""
    global _dummy_hash
    if user is not None:
        return verify_secret(user.password_hash, password)
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    verify_secret(_dummy_hash, password)
    return False


def hash_secret(secret: str) -> str:
    """An argon2id hash of a password or PIN."""
    return _hasher.hash(secret)


def verify_secret(secret_hash: str | None, secret: str) -> bool:
    if not secret_hash:
        return False
    try:
        return _hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Authenticated:
    user: User
    session: AuthSession


async def open_session(
    db: AsyncSession, user: User, settings: HubSettings, client_address: str | None, user_agent: str | None
) -> tuple[str, AuthSession]:
    """Create a session; returns the token (shown once, never stored) and the stored row."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = AuthSession(
        user_id=user.id,
        token_hash=token_digest(token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=settings.session_ttl_s),
        client_address=client_address,
        user_agent=(user_agent or "")[:255] or None,
    )
    db.add(row)
    await db.commit()
    return token, row


async def authenticate_token(db: AsyncSession, token: str | None) -> Authenticated | None:
    """The user and session a token belongs to, or None when missing, unknown, expired or revoked."""
    if not token or len(token) > 200:
        return None
    row = await db.scalar(select(AuthSession).where(AuthSession.token_hash == token_digest(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = await db.get(User, row.user_id)
    if user is None:
        return None
    if now - row.last_seen_at > _SEEN_RESOLUTION:
        row.last_seen_at = now
        await db.commit()
    return Authenticated(user, row)


def request_token(connection: HTTPConnection) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return connection.cookies.get(COOKIE_NAME)


# Declared for the OpenAPI document (its security schemes); the token is read by request_token().
_bearer = HTTPBearer(
    auto_error=False, scheme_name="bearer", description="the token from POST /api/auth/login"
)
_cookie = APIKeyCookie(
    name=COOKIE_NAME, auto_error=False, scheme_name="cookie", description="set by POST /api/auth/login"
)


async def current_auth(
    connection: HTTPConnection,
    db: DbSession,
    _bearer_token: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _cookie_token: Annotated[str | None, Depends(_cookie)],
) -> Authenticated:
    found = await authenticate_token(db, request_token(connection))
    if found is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "sign in first (session missing, expired or revoked)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found


async def current_user(auth: Annotated[Authenticated, Depends(current_auth)]) -> User:
    return auth.user


CurrentAuth = Annotated[Authenticated, Depends(current_auth)]
CurrentUser = Annotated[User, Depends(current_user)]


async def websocket_user(websocket: WebSocket, session: AsyncSession) -> User:
    """The signed-in user of a WebSocket (cookie, Bearer or ``?token=``); else it is closed with 1008."""
    token = websocket.query_params.get("token") or request_token(websocket)
    found = await authenticate_token(session, token)
    if found is None:
        raise WebSocketException(status.WS_1008_POLICY_VIOLATION, "sign in first")
    return found.user


def client_address(connection: HTTPConnection) -> str:
    return connection.client.host if connection.client else "unknown"
