"""Health: is the hub up, is its database reachable, is it connected to the broker (no login needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import text

from vakt import __version__
from vakt.hub.db import DbSession

router = APIRouter(prefix="/api", tags=["health"])


class BrokerHealth(BaseModel):
    connected: bool
    authorized: bool = Field(description="false: connected, but the broker refuses the hub's messages")
    detail: str


class Health(BaseModel):
    status: str
    version: str
    database: bool
    mqtt: bool = Field(description="connected to the broker and let in as the hub")
    broker: BrokerHealth


@router.get("/health", response_model=Health)
async def health(request: Request, session: DbSession) -> Health:
    try:
        await session.execute(text("SELECT 1"))
        database = True
    except Exception:
        database = False
    hub_mqtt = request.app.state.mqtt
    connected, authorized = bool(hub_mqtt.connected), bool(hub_mqtt.authorized)
    detail = hub_mqtt.refusal or ("connected as the hub" if connected else "not connected to the broker")
    broker = BrokerHealth(connected=connected, authorized=authorized, detail=detail)
    return Health(
        status="ok" if database else "degraded",
        version=__version__,
        database=database,
        mqtt=connected and authorized,
        broker=broker,
    )
