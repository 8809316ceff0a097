"""Dead letters (G7): device messages the hub refused for good, listed to the owner of the device."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from vakt.hub.api_types import MAX_ID
from vakt.hub.auth import CurrentUser
from vakt.hub.db import DbSession
from vakt.hub.models.dead_letters import DeadLetter
from vakt.hub.models.devices import Device

router = APIRouter(prefix="/api/dead-letters", tags=["dead letters"])


class DeadLetterOut(BaseModel):
    id: int
    device_id: int
    device_serial: str
    topic: str
    event_id: str | None
    reason: str
    payload_excerpt: str
    size: int
    received_at: datetime


@router.get("", response_model=list[DeadLetterOut])
async def list_dead_letters(
    user: CurrentUser,
    session: DbSession,
    device_id: int | None = Query(None, ge=1, le=MAX_ID, description="only this device's"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[DeadLetterOut]:
    """Newest first; only messages of devices the caller owns (a share never shows them)."""
    query = (
        select(DeadLetter, Device.serial)
        .join(Device, Device.id == DeadLetter.device_id)
        .where(Device.owner_id == user.id)
        .order_by(DeadLetter.id.desc())
        .limit(limit)
    )
    if device_id is not None:
        query = query.where(DeadLetter.device_id == device_id)
    rows = (await session.execute(query)).all()
    return [
        DeadLetterOut(
            id=letter.id,
            device_id=letter.device_id,
            device_serial=serial,
            topic=letter.topic,
            event_id=letter.event_id,
            reason=letter.reason,
            payload_excerpt=letter.payload_excerpt,
            size=letter.size,
            received_at=letter.received_at,
        )
        for letter, serial in rows
    ]
