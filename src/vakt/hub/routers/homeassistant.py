"""Home Assistant (V3): an account turns MQTT discovery of its own devices on or off (off by default).

Turning it on creates the broker user ``ha-<account id>`` whose password is shown once, in this answer;
it may read only the account's discovery and state topics and publish only its command topics.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from vakt.broker.accounts import hash_password
from vakt.hub.auth import CurrentUser
from vakt.hub.db import DbSession
from vakt.hub.errors import errors
from vakt.hub.integrations import homeassistant as ha
from vakt.hub.models.homeassistant import HomeAssistantLink
from vakt.hub.settings import HubSettings

router = APIRouter(prefix="/api/integrations", tags=["integrations"])


class HomeAssistantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = Field(
        description="publish MQTT discovery for my devices and take Home Assistant's commands"
    )


class BrokerLoginOut(BaseModel):
    host: str
    port: int
    username: str = Field(description="Home Assistant's own broker user, ha-<account id>")
    password: str | None = Field(
        description="shown once, when the user is created; turn Home Assistant off and on for a new one"
    )
    managed: bool = Field(description="false: this hub does not manage the broker's users; add it yourself")


class HomeAssistantOut(BaseModel):
    enabled: bool
    discovery_prefix: str = ha.DISCOVERY_PREFIX
    state_prefix: str = Field(description="the account's state and command topics: <state_prefix>/#")
    broker: BrokerLoginOut | None = None


def _out(request: Request, user_id: int, enabled: bool, password: str | None = None) -> HomeAssistantOut:
    settings: HubSettings = request.app.state.settings
    broker = None
    if enabled:
        broker = BrokerLoginOut(
            host=settings.mqtt_host,
            port=settings.mqtt_port,
            username=ha.broker_username(user_id),
            password=password,
            managed=request.app.state.broker_sync.accounts is not None,
        )
    return HomeAssistantOut(enabled=enabled, state_prefix=ha.account_root(user_id), broker=broker)


async def _publish_soon(request: Request) -> None:
    bridge = getattr(request.app.state, "homeassistant", None)
    if bridge is not None:
        bridge.poke()


@router.get("/homeassistant", response_model=HomeAssistantOut)
async def get_homeassistant(user: CurrentUser, session: DbSession, request: Request) -> HomeAssistantOut:
    link = await session.get(HomeAssistantLink, user.id)
    return _out(request, user.id, link is not None)


@router.put("/homeassistant", response_model=HomeAssistantOut, responses=errors(503))
async def set_homeassistant(
    body: HomeAssistantIn, user: CurrentUser, session: DbSession, request: Request
) -> HomeAssistantOut:
    """On: discovery of the account's own devices (shared devices are not exposed) and a broker user for
    Home Assistant, its password in this answer only. Off: the entities are removed from Home Assistant
    and the broker user deleted."""
    settings: HubSettings = request.app.state.settings
    if body.enabled and not settings.mqtt_enabled:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "this hub runs without MQTT: Home Assistant cannot connect"
        )
    link = await session.get(HomeAssistantLink, user.id)
    password = None
    if body.enabled and link is None:
        password = secrets.token_urlsafe(24)
        session.add(HomeAssistantLink(user_id=user.id, broker_password_hash=hash_password(password)))
    elif not body.enabled and link is not None:
        await session.delete(link)
    await session.commit()
    await _publish_soon(request)
    return _out(request, user.id, body.enabled, password)
