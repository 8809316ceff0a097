"""Account linking for voice assistants (C11, V1-V2): the OAuth 2.0 endpoints, the consent screen's data,
the owner's client registrations and the account's linked assistants.

The authorization request opens the web app's consent screen (``/oauth/authorize``), which reads
``GET /api/oauth/authorize`` and answers with ``POST /api/oauth/authorize``; the assistant's servers call
``/api/oauth/token`` and ``/api/oauth/revoke`` themselves (no browser, no Origin header).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Literal

from authlib.oauth2.rfc6749 import OAuth2Error
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError
from sqlalchemy import select

from vakt.hub.api_types import Text
from vakt.hub.auth import CurrentUser
from vakt.hub.db import DbSession
from vakt.hub.errors import errors
from vakt.hub.integrations import (
    EXPOSED_KINDS,
    display_name,
    exposed_devices,
    image_encrypted,
)
from vakt.hub.integrations.oauth import (
    SCOPE,
    Answer,
    Context,
    HubAuthorizationServer,
    HubRequest,
    check_pkce,
    digest,
    links_of,
    new_secret,
    race_lost,
    redirect_host,
    revoke_link,
)
from vakt.hub.models.integrations import OAuthClient
from vakt.hub.models.users import User
from vakt.hub.permissions import visible_devices
from vakt.hub.routers import web
from vakt.hub.routers.auth import _hub_owner_id
from vakt.hub.settings import HubSettings

log = logging.getLogger(__name__)
router = APIRouter(tags=["assistants"])

ClientIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Param = Annotated[str | None, Query(max_length=1000, pattern=r"^[^\x00-\x1f\x7f]*$")]


# -- the consent screen's page (the web app draws it) ---------------------------------------------------
@router.get("/oauth/authorize", include_in_schema=False)
async def consent_page() -> FileResponse:
    return web._index()


# -- models ---------------------------------------------------------------------------------------------
class AuthorizeParams(BaseModel):
    """The authorization request as the assistant sent it (RFC 6749 4.1.1, RFC 7636)."""

    model_config = ConfigDict(extra="forbid")
    response_type: Annotated[str, Field(max_length=32)] = "code"
    client_id: Annotated[str, Field(min_length=1, max_length=64)]
    redirect_uri: Annotated[Text, Field(min_length=1, max_length=1000)]
    scope: Annotated[Text, Field(max_length=200)] | None = None
    state: Annotated[Text, Field(max_length=1000)] | None = None
    code_challenge: Annotated[str, Field(max_length=128)] | None = None
    code_challenge_method: Annotated[str, Field(max_length=8)] | None = None

    def values(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class ConsentIn(AuthorizeParams):
    allow: bool = Field(description="true: link the assistant; false: tell it the user declined")


class ExposedDeviceOut(BaseModel):
    id: int
    name: str
    kind: str


class HiddenDeviceOut(ExposedDeviceOut):
    reason: str


class ConsentOut(BaseModel):
    client_name: str
    assistant: str
    redirect_host: str = Field(description="where the browser goes back to")
    scope: str
    devices: list[ExposedDeviceOut] = Field(description="exactly what the assistant will see and operate")
    hidden: list[HiddenDeviceOut] = Field(description="the account's devices the assistant will not see")


class RedirectOut(BaseModel):
    redirect_to: str = Field(description="the assistant's redirect URI with the code (or the refusal)")


class TokenOut(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str
    scope: str | None = None


class OAuthErrorOut(BaseModel):
    """RFC 6749's error body, with the hub's message/detail lines."""

    error: str
    error_description: str | None = None
    message: str
    detail: str


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[Text, Field(min_length=1, max_length=100)]
    assistant: Literal["alexa", "google"]
    redirect_uris: list[HttpUrl] = Field(min_length=1, max_length=10)


class ClientOut(BaseModel):
    client_id: str
    name: str
    assistant: str
    redirect_uris: list[str]
    created_at: datetime


class NewClientOut(ClientOut):
    client_secret: str = Field(description="shown once; only its hash is kept")


class LinkOut(BaseModel):
    client_id: str
    name: str
    assistant: str
    linked_at: datetime
    last_refreshed_at: datetime


# -- helpers --------------------------------------------------------------------------------------------
def _ttl(request: Request) -> tuple[int, int]:
    settings: HubSettings = request.app.state.settings
    return settings.oauth_access_ttl_s, settings.oauth_refresh_ttl_s


def _oauth_error(error: OAuth2Error) -> HTTPException:
    words = error.description or error.error.replace("_", " ")
    return HTTPException(status.HTTP_400_BAD_REQUEST, f"cannot link: {words}")


def _answer(answer: Answer) -> JSONResponse:
    code, body, headers = answer
    content = dict(body) if isinstance(body, dict) else {}
    if code >= 400:  # RFC 6749's fields, and the hub's one error body
        line = content.get("error_description") or str(content.get("error", "refused")).replace("_", " ")
        content |= {"message": line, "detail": line}
    kept = {k: v for k, v in headers if k.lower() not in ("content-type", "content-length")}
    return JSONResponse(content, status_code=code, headers=kept)


async def _form(request: Request) -> dict[str, str]:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and len(v) <= 2000}


async def _consent_context(
    request: Request, session: DbSession, params: AuthorizeParams
) -> tuple[Context, HubAuthorizationServer, HubRequest, Any]:
    data = params.values()
    ctx = await Context.load(session, {"client_id": params.client_id}, {}, _ttl(request))
    server = HubAuthorizationServer(ctx)
    oauth_request = HubRequest("GET", data, {})
    try:
        check_pkce(data)
        grant = server.get_consent_grant(oauth_request, end_user=None)
    except OAuth2Error as exc:
        raise _oauth_error(exc) from None
    return ctx, server, oauth_request, grant


# -- authorization (the consent screen) -----------------------------------------------------------------
@router.get("/api/oauth/authorize", response_model=ConsentOut, responses=errors(400))
async def consent(
    user: CurrentUser,
    request: Request,
    session: DbSession,
    client_id: Annotated[str, Query(min_length=1, max_length=64)],
    redirect_uri: Annotated[str, Query(min_length=1, max_length=1000, pattern=r"^[^\x00-\x1f\x7f]*$")],
    response_type: Annotated[str, Query(max_length=32)] = "code",
    scope: Param = None,
    state: Param = None,
    code_challenge: Annotated[str | None, Query(max_length=128)] = None,
    code_challenge_method: Annotated[str | None, Query(max_length=8)] = None,
) -> ConsentOut:
    """What the consent screen shows: who asks, and exactly which devices it will see (C11.1)."""
    try:  # the same checks as the POST's body, answered as the query's 422
        params = AuthorizeParams(
            response_type=response_type,
            client_id=client_id,
            redirect_uri=redirect_uri,
            scope=scope,
            state=state,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
        )
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
    ctx, *_ = await _consent_context(request, session, params)
    assert ctx.client is not None  # get_consent_grant refused an unknown client
    exposed = await exposed_devices(session, user)
    exposed_ids = {a.device.id for a in exposed}
    hidden = []
    for access in await visible_devices(session, user):
        device = access.device
        if device.id in exposed_ids or device.kind not in EXPOSED_KINDS:
            continue
        reason = (
            "Image Encryption is on"
            if device.kind == "camera" and image_encrypted(device)
            else f"you do not have the '{EXPOSED_KINDS[device.kind].value}' permission"
        )
        hidden.append(
            HiddenDeviceOut(id=device.id, name=display_name(device), kind=device.kind, reason=reason)
        )
    return ConsentOut(
        client_name=ctx.client.row.name,
        assistant=ctx.client.row.assistant,
        redirect_host=redirect_host(redirect_uri),
        scope=SCOPE,
        devices=[
            ExposedDeviceOut(id=a.device.id, name=display_name(a.device), kind=a.device.kind) for a in exposed
        ],
        hidden=hidden,
    )


@router.post("/api/oauth/authorize", response_model=RedirectOut, responses=errors(400))
async def decide(body: ConsentIn, user: CurrentUser, request: Request, session: DbSession) -> RedirectOut:
    """The user's answer: a code for the assistant (allow) or ``access_denied``; the browser follows
    ``redirect_to``."""
    ctx, server, oauth_request, grant = await _consent_context(request, session, body)
    oauth_request.method = "POST"
    code, _, headers = server.create_authorization_response(
        oauth_request, grant_user=user if body.allow else None, grant=grant
    )
    location = dict(headers).get("Location")
    if code != 302 or not location:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "cannot link: the request was refused")
    await ctx.apply(session)
    if body.allow:
        log.info(
            "user %d linked %s (%s)", user.id, ctx.client.row.name if ctx.client else "?", body.client_id
        )
    return RedirectOut(redirect_to=location)


# -- the assistant's servers --------------------------------------------------------------------------------
@router.post("/api/oauth/token", response_model=TokenOut, responses=errors(400, 401))
async def token(request: Request, session: DbSession) -> JSONResponse:
    """RFC 6749 token endpoint (form-encoded): ``authorization_code`` with the PKCE verifier, or
    ``refresh_token`` (rotated: the old one stops working). Client secret by Basic auth or in the form."""
    data = await _form(request)
    ctx = await Context.load(session, data, request.headers, _ttl(request))
    answer = HubAuthorizationServer(ctx).create_token_response(HubRequest("POST", data, request.headers))
    if answer[0] == 200 and not await ctx.apply(session):
        answer = race_lost()
    elif answer[0] != 200 and ctx.reused is not None:
        await ctx.apply(session)  # a refresh token came back after rotation: end the whole link
        log.warning("a rotated refresh token was used again: link of user %d revoked", ctx.reused.user_id)
    return _answer(answer)


@router.post("/api/oauth/revoke", responses=errors(400, 401))
async def revoke(request: Request, session: DbSession) -> JSONResponse:
    """RFC 7009: the client revokes an access or refresh token (its whole token pair stops working)."""
    data = await _form(request)
    if not data.get("token"):  # a malformed request is told so before the client is authenticated
        return _answer(
            (400, {"error": "invalid_request", "error_description": "send the token to revoke"}, [])
        )
    ctx = await Context.load(session, data, request.headers, _ttl(request))
    server = HubAuthorizationServer(ctx)
    answer = server.create_endpoint_response("revocation", HubRequest("POST", data, request.headers))
    if answer[0] == 200:
        await ctx.apply(session)
    return _answer(answer)


# -- the account's linked assistants ---------------------------------------------------------------------
@router.get("/api/oauth/links", response_model=list[LinkOut])
async def linked(user: CurrentUser, session: DbSession) -> list[LinkOut]:
    """The assistants linked to this account (a live token each)."""
    return [_link_out(link) for link in await links_of(session, user.id)]


def _link_out(link: Any) -> LinkOut:
    return LinkOut(
        client_id=link.client_id,
        name=link.name,
        assistant=link.assistant,
        linked_at=link.linked_at,
        last_refreshed_at=link.last_refreshed_at,
    )


@router.delete("/api/oauth/links/{client_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unlink(client_id: ClientIdPath, user: CurrentUser, session: DbSession) -> None:
    """Unlink an assistant: every token it holds for this account stops working at once."""
    client = await session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None or not await revoke_link(session, user.id, client.id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no assistant {client_id} is linked to this account")
    log.info("user %d unlinked %s", user.id, client_id)


# -- the hub owner's client registrations ----------------------------------------------------------------
async def _owner_only(user: CurrentUser, session: DbSession) -> User:
    """Before the body is read: anyone else is told 403, whatever they sent."""
    if user.id != await _hub_owner_id(session):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "only the hub's owner (its first account) registers assistants"
        )
    return user


HubOwner = Annotated[User, Depends(_owner_only)]


def _client_out(row: OAuthClient) -> ClientOut:
    return ClientOut(
        client_id=row.client_id,
        name=row.name,
        assistant=row.assistant,
        redirect_uris=list(row.redirect_uris),
        created_at=row.created_at,
    )


@router.get("/api/oauth/clients", response_model=list[ClientOut])
async def clients(user: HubOwner, session: DbSession) -> list[ClientOut]:
    """The registered skill / action projects (the hub's owner only)."""
    rows = await session.scalars(select(OAuthClient).order_by(OAuthClient.id))
    return [_client_out(row) for row in rows.all()]


@router.post("/api/oauth/clients", response_model=NewClientOut, status_code=status.HTTP_201_CREATED)
async def register_client(body: ClientIn, user: HubOwner, session: DbSession) -> NewClientOut:
    """Register a skill (Alexa) or action project (Google): its id and secret go into the assistant's
    account-linking form; the secret is shown only now."""
    secret = new_secret()
    row = OAuthClient(
        client_id=f"vakt-{body.assistant}-{new_secret()[:12]}",
        secret_hash=digest(secret),
        name=body.name,
        assistant=body.assistant,
        redirect_uris=[str(uri) for uri in body.redirect_uris],
    )
    session.add(row)
    await session.commit()
    return NewClientOut(**_client_out(row).model_dump(), client_secret=secret)


@router.delete("/api/oauth/clients/{client_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_client(client_id: ClientIdPath, user: HubOwner, session: DbSession) -> None:
    """Remove a registration: every account's link through it ends."""
    row = await session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no assistant client {client_id}")
    await session.delete(row)
    await session.commit()
