"""Lock management (A7): state, operation log, alarms, credentials, modes, volume, remote unlock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

router = APIRouter(prefix="/api/locks", tags=["locks"])


@asynccontextmanager
async def service(app: FastAPI) -> AsyncIterator[None]:
    """Lock background work (credential reconciliation, temporary codes) runs while the hub runs."""
    yield
