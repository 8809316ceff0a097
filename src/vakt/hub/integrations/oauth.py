"""The hub's OAuth 2.0 authorization server for account linking (C11, V1-V2), on Authlib.

Authorization code with PKCE (S256 only), rotated refresh tokens, revocation (RFC 7009). Authlib's
server is synchronous and the hub's database is not, so each request runs in three steps: ``Context.load``
fetches the rows the request names, Authlib validates and answers from them, ``Context.apply`` writes
what it decided in one transaction; a code or refresh token used twice at once loses there.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    BaseGrant,
    ClientMixin,
    InvalidGrantError,
    OAuth2Error,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers

from vakt.hub.auth import token_digest
from vakt.hub.db import utcnow
from vakt.hub.models.integrations import OAuthClient, OAuthCode, OAuthToken
from vakt.hub.models.users import User

SCOPE = "devices"  # the one scope: the account's exposed devices (vakt.hub.integrations.exposed_devices)
CODE_TTL = timedelta(minutes=5)
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # Alexa uses Basic, Google the form


def digest(secret: str) -> str:
    """Codes, tokens and client secrets carry 256 random bits: SHA-256 is enough at rest."""
    return token_digest(secret)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


# -- Authlib's view of our rows --------------------------------------------------------------------------
@dataclass
class Client(ClientMixin):
    row: OAuthClient

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # every request names its redirect_uri (each assistant has several)

    def get_allowed_scope(self, scope: str | None) -> str:
        return SCOPE

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(digest(client_secret), self.row.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class Code:
    row: OAuthCode

    @property
    def code_challenge(self) -> str:
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str:
        return self.row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope


@dataclass
class Token:
    row: OAuthToken
    client_row_id: int

    def check_client(self, client: Client) -> bool:
        return client.row.id == self.client_row_id

    def get_scope(self) -> str:
        return self.row.scope

    def is_expired(self) -> bool:
        return self.row.refresh_expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None


class HubRequest(OAuth2Request):
    """A request's parameters (query for the authorization endpoint, form for the others)."""

    def __init__(self, method: str, data: Mapping[str, str], headers: Mapping[str, str]) -> None:
        # Authlib refuses plain http; the hub may sit behind a TLS proxy (docs/integrations.md needs HTTPS).
        super().__init__(method, "https://hub.invalid/oauth", headers=Headers(headers=dict(headers)))
        self._values = dict(data)
        self.payload = BasicOAuth2Payload(self._values)

    @property
    def args(self) -> dict[str, str]:
        return self._values

    @property
    def form(self) -> dict[str, str]:
        return self._values


# -- what one request reads and writes -------------------------------------------------------------------
@dataclass
class Context:
    """The rows a request names, loaded before Authlib runs, and what Authlib decided."""

    settings_ttl: tuple[int, int]  # access token, refresh token lifetimes (s)
    client: Client | None = None
    code: Code | None = None
    token: Token | None = None
    user: User | None = None
    new_code: dict[str, Any] | None = None
    used_code: OAuthCode | None = None
    revoke: list[OAuthToken] = field(default_factory=list)
    reused: OAuthToken | None = None  # a rotated-away refresh token came back: someone copied it
    issued: list[tuple[dict[str, Any], int, int]] = field(default_factory=list)  # token, client, user

    @classmethod
    async def load(
        cls, session: AsyncSession, data: Mapping[str, str], headers: Mapping[str, str], ttl: tuple[int, int]
    ) -> Context:
        ctx = cls(ttl)
        client_id = data.get("client_id") or _basic_client_id(headers.get("authorization", ""))
        if client_id:
            row = await session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id[:64]))
            ctx.client = None if row is None else Client(row)
        if ctx.client is None:
            return ctx
        if code := data.get("code"):
            found = await session.scalar(select(OAuthCode).where(OAuthCode.code_hash == digest(code)))
            if found is not None:
                ctx.code = Code(found)
                ctx.user = await session.get(User, found.user_id)
        secret = data.get("refresh_token") or data.get("token")
        if secret:
            hashed = digest(secret)
            found_token = await session.scalar(
                select(OAuthToken).where(
                    or_(OAuthToken.refresh_hash == hashed, OAuthToken.access_hash == hashed)
                )
            )
            if found_token is not None:
                ctx.token = Token(found_token, found_token.client_id)
                ctx.user = await session.get(User, found_token.user_id)
        return ctx

    async def apply(self, session: AsyncSession) -> bool:
        """Write what Authlib decided; False when a code or refresh token was used at the same time."""
        now = utcnow()
        if self.used_code is not None:
            claimed = await session.execute(
                update(OAuthCode)
                .where(OAuthCode.id == self.used_code.id, OAuthCode.used_at.is_(None))
                .values(used_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                await session.rollback()
                return False
        for old in self.revoke:
            revoked = await session.execute(
                update(OAuthToken)
                .where(OAuthToken.id == old.id, OAuthToken.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            if revoked.rowcount != 1 and self.issued:  # type: ignore[attr-defined]
                await session.rollback()
                return False
        if self.reused is not None:
            await revoke_link(session, self.reused.user_id, self.reused.client_id, commit=False)
        if self.new_code is not None:
            session.add(OAuthCode(**self.new_code, expires_at=now + CODE_TTL))
        access_ttl, refresh_ttl = self.settings_ttl
        linked_at = self.revoke[0].linked_at if self.revoke else now  # a refresh continues the link
        for token, client_row_id, user_id in self.issued:
            session.add(
                OAuthToken(
                    client_id=client_row_id,
                    user_id=user_id,
                    access_hash=digest(token["access_token"]),
                    refresh_hash=digest(token["refresh_token"]),
                    scope=token.get("scope") or SCOPE,
                    issued_at=now,
                    linked_at=linked_at,
                    access_expires_at=now + timedelta(seconds=access_ttl),
                    refresh_expires_at=now + timedelta(seconds=refresh_ttl),
                )
            )
        await session.commit()
        return True


def _basic_client_id(header: str) -> str | None:
    import base64

    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    from urllib.parse import unquote

    return unquote(decoded.partition(":")[0]) or None


# -- Authlib's server and grants, working on one Context -------------------------------------------------
class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    @property
    def ctx(self) -> Context:
        return self.server.ctx

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        self.ctx.new_code = {
            "code_hash": digest(code),
            "client_id": request.client.row.id,
            "user_id": request.user.id,
            "redirect_uri": data["redirect_uri"],
            "scope": SCOPE,
            "code_challenge": data["code_challenge"],
            "code_challenge_method": data["code_challenge_method"],
        }

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        found = self.ctx.code
        if found is None or found.row.client_id != client.row.id:
            return None
        if found.row.used_at is not None or found.row.expires_at <= utcnow():
            return None
        return found

    def delete_authorization_code(self, authorization_code: Code) -> None:
        self.ctx.used_code = authorization_code.row

    def authenticate_user(self, authorization_code: Code) -> User | None:
        return self.ctx.user


class RotatingRefreshGrant(RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: each refresh token works once

    @property
    def ctx(self) -> Context:
        return self.server.ctx

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        found = self.ctx.token
        if found is None or found.row.refresh_hash != digest(refresh_token):
            return None
        if found.row.revoked_at is not None:
            self.ctx.reused = found.row
            return None
        return None if found.is_expired() else found

    def authenticate_user(self, refresh_token: Token) -> User | None:
        return self.ctx.user

    def revoke_old_credential(self, refresh_token: Token) -> None:
        self.ctx.revoke.append(refresh_token.row)


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        ctx: Context = self.server.ctx
        found = ctx.token
        if found is None:
            return None
        if digest(token_string) not in (found.row.access_hash, found.row.refresh_hash):
            return None
        return found

    def revoke_token(self, token: Token, request: OAuth2Request) -> None:
        self.server.ctx.revoke.append(token.row)


class HubAuthorizationServer(AuthorizationServer):
    def __init__(self, ctx: Context) -> None:
        super().__init__(scopes_supported=[SCOPE])
        self.ctx = ctx
        access_ttl = ctx.settings_ttl[0]
        self.register_token_generator(
            "default", BearerTokenGenerator(_token, _token, lambda client, grant_type: access_ttl)
        )
        self.register_grant(CodeGrant, [CodeChallenge(required=True)])
        self.register_grant(RotatingRefreshGrant)
        self.register_endpoint(Revocation)

    def query_client(self, client_id: str) -> Client | None:
        client = self.ctx.client
        return client if client is not None and client.get_client_id() == client_id else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        self.ctx.issued.append((dict(token), request.client.row.id, request.user.id))

    def create_oauth2_request(self, request: HubRequest) -> HubRequest:
        return request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, headers

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


def _token(**_: Any) -> str:
    return new_secret()


Answer = tuple[int, Any, list[tuple[str, str]]]


def race_lost() -> Answer:
    error = InvalidGrantError(description="this code or refresh token was already used")
    status, body, headers = error()
    return status, dict(body), list(headers)


def check_pkce(data: Mapping[str, str]) -> None:
    """PKCE is required, and only S256 (the plain method would show the verifier to whoever sees the URL)."""
    if not data.get("code_challenge"):
        raise OAuth2Error(error="invalid_request", description="PKCE is required: send code_challenge")
    if data.get("code_challenge_method") != "S256":
        raise OAuth2Error(error="invalid_request", description="code_challenge_method must be S256")


# -- links as the account screen shows them --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Link:
    client_id: str
    name: str
    assistant: str
    linked_at: datetime
    last_refreshed_at: datetime


async def links_of(session: AsyncSession, user_id: int) -> list[Link]:
    """The assistants holding a live token of this account."""
    now = utcnow()
    rows = await session.execute(
        select(OAuthClient, OAuthToken)
        .join(OAuthToken, OAuthToken.client_id == OAuthClient.id)
        .where(
            OAuthToken.user_id == user_id,
            OAuthToken.revoked_at.is_(None),
            OAuthToken.refresh_expires_at > now,
        )
        .order_by(OAuthToken.issued_at)
    )
    found: dict[str, Link] = {}
    for client, token in rows.all():
        first = found.get(client.client_id)
        found[client.client_id] = Link(
            client.client_id,
            client.name,
            client.assistant,
            min(first.linked_at, token.linked_at) if first else token.linked_at,
            token.issued_at,
        )
    return list(found.values())


async def revoke_link(session: AsyncSession, user_id: int, client_row_id: int, commit: bool = True) -> int:
    """Revoke every token of this account for this client; returns how many were live."""
    result = await session.execute(
        update(OAuthToken)
        .where(
            OAuthToken.user_id == user_id,
            OAuthToken.client_id == client_row_id,
            OAuthToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    if commit:
        await session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Bearer:
    """Who an assistant's access token acts for."""

    user: User
    client: OAuthClient
    token: OAuthToken


async def bearer(session: AsyncSession, access_token: str | None) -> Bearer | None:
    """The account and client of a live access token, or None (missing, unknown, expired, revoked)."""
    if not access_token or len(access_token) > 200:
        return None
    token = await session.scalar(select(OAuthToken).where(OAuthToken.access_hash == digest(access_token)))
    if token is None or token.revoked_at is not None or token.access_expires_at <= utcnow():
        return None
    user = await session.get(User, token.user_id)
    client = await session.get(OAuthClient, token.client_id)
    if user is None or client is None:
        return None
    return Bearer(user, client, token)


def redirect_host(uri: str) -> str:
    return urlsplit(uri).netloc


__all__ = [
    "SCOPE",
    "Answer",
    "BaseGrant",
    "Bearer",
    "Context",
    "HubAuthorizationServer",
    "HubRequest",
    "Link",
    "bearer",
    "check_pkce",
    "digest",
    "links_of",
    "new_secret",
    "race_lost",
    "redirect_host",
    "revoke_link",
]
