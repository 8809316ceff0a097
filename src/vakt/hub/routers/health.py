"""Health: is the hub up, is its database reachable, is it connected to the broker, are device messages
being stored (no login needed)."""

from __future__ import annotations

from typing import Literal

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


class IngestHealth(BaseModel):
    state: Literal["ok", "backpressure"] = Field(
        description="backpressure: device messages wait (in the broker and the gateways) until storage works"
    )
    reason: str | None = Field(None, description="why storing is paused, in words")
    waiting: int = Field(0, description="messages taken from the broker and not yet committed")


class Health(BaseModel):
    status: str
    version: str
    database: bool
    mqtt: bool = Field(description="connected to the broker and let in as the hub")
    broker: BrokerHealth
    ingest: IngestHealth


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
    ingest = IngestHealth(**hub_mqtt.ingest_health)
    healthy = database and ingest.state == "ok"
    return Health(
        status="ok" if healthy else "degraded",
        version=__version__,
        database=database,
        mqtt=connected and authorized,
        broker=broker,
        ingest=ingest,
    )
