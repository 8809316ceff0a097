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
    mqtt: bool
    ingest: IngestHealth


@router.get("/health", response_model=Health)
async def health(request: Request, session: DbSession) -> Health:
    try:
        await session.execute(text("SELECT 1"))
        database = True
    except Exception:
        database = False
    mqtt = request.app.state.mqtt
    ingest = IngestHealth(**mqtt.ingest_health)
    healthy = database and ingest.state == "ok"
    return Health(
        status="ok" if healthy else "degraded",
        version=__version__,
        database=database,
        mqtt=bool(mqtt.connected),
        ingest=ingest,
    )
