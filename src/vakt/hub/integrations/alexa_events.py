"""Proactive Alexa events (C11, V1): the AcceptGrant's tokens per account, and delivery to the event
gateway. Every URL goes through the hub's outbound rules (vakt.hub.outbound): https to a public host,
or a host the hub's owner allowed."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.db import utcnow
from vakt.hub.models.integrations import AssistantGrant, OAuthClient
from vakt.hub.outbound import Destinations, RefusedDestination
from vakt.hub.secretbox import SecretBox
from vakt.hub.settings import HubSettings

log = logging.getLogger(__name__)
TIMEOUT_S = 10.0


class GrantFailed(Exception):
    """The AcceptGrant code could not be exchanged; the message says why, for Alexa's error."""


def destinations(settings: HubSettings) -> Destinations:
    return Destinations(frozenset(settings.outbound_allowed_hosts), settings.webhook_private_addresses)


def _context(user_id: int, client_row_id: int) -> str:
    return f"alexa-grant:{user_id}:{client_row_id}"


async def _lwa(settings: HubSettings, form: dict[str, str]) -> dict[str, Any]:
    """A call to Login with Amazon's token endpoint."""
    if not settings.alexa_client_id or settings.alexa_client_secret is None:
        raise GrantFailed("the hub has no Alexa client id/secret (VAKT_ALEXA_CLIENT_ID/_SECRET)")
    try:
        await destinations(settings).check_webhook(settings.alexa_lwa_token_url)
        form = form | {
            "client_id": settings.alexa_client_id,
            "client_secret": settings.alexa_client_secret.get_secret_value(),
        }
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            r = await client.post(settings.alexa_lwa_token_url, data=form)
    except (RefusedDestination, httpx.HTTPError) as exc:
        raise GrantFailed(f"Login with Amazon unreachable: {exc}") from None
    if r.status_code != 200:
        raise GrantFailed(f"Login with Amazon refused the grant ({r.status_code})")
    body = r.json()
    if not isinstance(body, dict) or not body.get("access_token"):
        raise GrantFailed("Login with Amazon answered without an access token")
    return body


def _sealed(body: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    expires = utcnow() + timedelta(seconds=int(body.get("expires_in", 3600)) - 60)
    return {
        "access_token": str(body["access_token"]),
        "refresh_token": str(body.get("refresh_token") or (old or {}).get("refresh_token", "")),
        "expires_at": expires.isoformat(),
    }


async def accept_grant(
    session: AsyncSession, settings: HubSettings, box: SecretBox, user_id: int, client_row_id: int, code: str
) -> None:
    """Exchange Alexa's grant code for event-gateway tokens and keep them sealed (Alexa.Authorization)."""
    tokens = _sealed(await _lwa(settings, {"grant_type": "authorization_code", "code": code}))
    row = await session.get(AssistantGrant, (user_id, client_row_id))
    if row is None:
        row = AssistantGrant(user_id=user_id, client_id=client_row_id)
        session.add(row)
    row.grant_encrypted = box.encrypt(json.dumps(tokens), _context(user_id, client_row_id))
    await session.commit()


async def event_token(
    session: AsyncSession, settings: HubSettings, box: SecretBox, row: AssistantGrant
) -> str | None:
    """A live event-gateway token for this grant (refreshed when it expired), or None."""
    tokens = json.loads(box.decrypt(row.grant_encrypted, _context(row.user_id, row.client_id)))
    if tokens["expires_at"] > utcnow().isoformat():
        return str(tokens["access_token"])
    if not tokens.get("refresh_token"):
        return None
    try:
        fresh = _sealed(
            await _lwa(settings, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}),
            tokens,
        )
    except GrantFailed as exc:
        log.warning("Alexa event token of user %d could not be refreshed: %s", row.user_id, exc)
        return None
    row.grant_encrypted = box.encrypt(json.dumps(fresh), _context(row.user_id, row.client_id))
    await session.commit()
    return str(fresh["access_token"])


async def alexa_grants(session: AsyncSession) -> list[AssistantGrant]:
    rows = await session.scalars(
        select(AssistantGrant)
        .join(OAuthClient, OAuthClient.id == AssistantGrant.client_id)
        .where(OAuthClient.assistant == "alexa")
    )
    return list(rows.all())


async def send_event(settings: HubSettings, token: str, message: dict[str, Any]) -> bool:
    """POST one event to the gateway; False (logged) when refused or not accepted."""
    url = settings.alexa_event_gateway_url
    try:
        await destinations(settings).check_webhook(url)
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            r = await client.post(url, json=message, headers={"Authorization": f"Bearer {token}"})
    except (RefusedDestination, httpx.HTTPError) as exc:
        log.warning("Alexa event %s not sent: %s", message["event"]["header"]["name"], exc)
        return False
    if r.status_code != 202:
        log.warning(
            "Alexa event gateway answered %d to %s", r.status_code, message["event"]["header"]["name"]
        )
        return False
    return True
