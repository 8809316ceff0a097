"""Health: is the hub up, is its database reachable, is it connected to the broker (no login needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text

from vakt import __version__
from vakt.hub.db import DbSession

router = APIRouter(prefix="/api", tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    database: bool
    mqtt: bool


@router.get("/health", response_model=Health)
async def health(request: Request, session: DbSession) -> Health:
    try:
        await session.execute(text("SELECT 1"))
        database = True
    except Exception:
        database = False
    mqtt = bool(request.app.state.mqtt.connected)
    return Health(status="ok" if database else "degraded", version=__version__, database=database, mqtt=mqtt)
