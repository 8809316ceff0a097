"""Google Smart Home fulfillment (C11, V2): ``POST /api/google/fulfillment`` with the hub's OAuth access
token as Bearer: SYNC, QUERY, EXECUTE, DISCONNECT. Report State and Request Sync go to Home Graph
(configurable URLs, docs/integrations.md) through the hub's outbound rules."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.auth import request_token
from vakt.hub.db import DbSession, utcnow
from vakt.hub.errors import errors
from vakt.hub.integrations import google, settings_audio, settings_encrypted
from vakt.hub.integrations.locking import LockRefused, operate_lock
from vakt.hub.integrations.oauth import Bearer, bearer, revoke_link
from vakt.hub.models.devices import Device
from vakt.hub.models.integrations import OAuthClient, OAuthToken
from vakt.hub.models.users import User
from vakt.hub.permissions import DeviceAccess, resolve_access, visible_devices
from vakt.hub.settings import HubSettings

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/google", tags=["assistants"])


class GoogleIn(BaseModel):
    """A Smart Home intent request as Google sends it."""

    model_config = ConfigDict(extra="allow")
    requestId: Annotated[str, Field(min_length=1, max_length=200)]
    inputs: list[dict[str, Any]] = Field(min_length=1, max_length=10)


async def _caller(request: Request, session: AsyncSession) -> Bearer:
    found = await bearer(session, request_token(request) if request.headers.get("authorization") else None)
    if found is None or found.client.assistant != "google":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "the link with vakt expired or was revoked: link the account again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found


async def _exposed(session: AsyncSession, user: User) -> list[DeviceAccess]:
    return [a for a in await visible_devices(session, user) if google.google_exposed(a)]


async def _access(session: AsyncSession, user: User, google_id: Any) -> DeviceAccess | None:
    number = google.number_of(google_id)
    device = None if number is None else await session.get(Device, number)
    access = None if device is None else await resolve_access(session, user, device)
    return access if access is not None and google.google_exposed(access) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


_LOCK_ERRORS: dict[str, dict[str, Any]] = {
    "no_pin_set": {"errorCode": "remoteUnlockNotAllowed"},
    "pin_needed": {"errorCode": "challengeNeeded", "challengeNeeded": {"type": "pinNeeded"}},
    "wrong_pin": {"errorCode": "challengeNeeded", "challengeNeeded": {"type": "challengeFailedPinNeeded"}},
    "too_many": {"errorCode": "tooManyFailedAttempts"},
    "offline": {"errorCode": "deviceOffline"},
    "refused": {"errorCode": "hardError"},
}


async def _execute_one(
    request: Request, session: AsyncSession, access: DeviceAccess, execution: dict[str, Any]
) -> dict[str, Any]:
    command = execution.get("command")
    params = _dict(execution.get("params"))
    device = access.device
    if command == "action.devices.commands.LockUnlock" and device.kind == "lock":
        if not device.online:
            return {"status": "OFFLINE", "errorCode": "deviceOffline"}
        lock = params.get("lock") is True
        challenge = execution.get("challenge")
        pin = challenge.get("pin") if isinstance(challenge, dict) else None
        try:
            await operate_lock(
                request,
                session,
                access,
                "lock.lock" if lock else "lock.unlock",
                pin if isinstance(pin, str) else None,
                "google",
            )
        except LockRefused as exc:
            return {"status": "ERROR", **_LOCK_ERRORS[exc.why]}
        return {"status": "SUCCESS", "states": {"isLocked": lock, "isJammed": False, "online": True}}
    if command == "action.devices.commands.GetCameraStream" and device.kind == "camera":
        # Google plays HLS/DASH/MP4, not the camera's RTSP: it needs the hub's live HLS (issue 13 item 5).
        return {"status": "ERROR", "errorCode": "streamUnavailable"}
    return {"status": "ERROR", "errorCode": "functionNotSupported"}


async def _execute(
    request: Request, session: AsyncSession, user: User, payload: dict[str, Any]
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    commands = _list(payload.get("commands"))
    for command in commands[:20]:
        if not isinstance(command, dict):
            continue
        devices = _list(command.get("devices"))
        executions = _list(command.get("execution"))
        for target in devices[:50]:
            google_id = str(target.get("id", ""))[:64] if isinstance(target, dict) else ""
            access = await _access(session, user, google_id)
            if access is None:
                results.append({"ids": [google_id], "status": "ERROR", "errorCode": "deviceNotFound"})
                continue
            outcome: dict[str, Any] = {"status": "ERROR", "errorCode": "functionNotSupported"}
            for execution in executions[:10]:
                if isinstance(execution, dict):
                    outcome = await _execute_one(request, session, access, execution)
                    if outcome["status"] != "SUCCESS":
                        break
            results.append({"ids": [google_id], **outcome})
    return results


@router.post("/fulfillment", response_model=dict[str, Any], responses=errors(401))
async def fulfillment(body: GoogleIn, request: Request, session: DbSession) -> dict[str, Any]:
    """One Smart Home intent (SYNC, QUERY, EXECUTE, DISCONNECT) for the account the token was issued to."""
    caller = await _caller(request, session)
    first = body.inputs[0]
    intent = first.get("intent")
    payload = _dict(first.get("payload"))
    if intent == "action.devices.SYNC":
        devices = [google.sync_device(a.device) for a in await _exposed(session, caller.user)]
        return {
            "requestId": body.requestId,
            "payload": {"agentUserId": str(caller.user.id), "devices": devices},
        }
    if intent == "action.devices.QUERY":
        wanted = _list(payload.get("devices"))
        found: dict[str, Any] = {}
        for target in wanted[:100]:
            google_id = str(target.get("id", ""))[:64] if isinstance(target, dict) else ""
            access = await _access(session, caller.user, google_id)
            found[google_id] = (
                google.states(access.device)
                if access is not None
                else {"status": "ERROR", "errorCode": "deviceNotFound"}
            )
        return {"requestId": body.requestId, "payload": {"devices": found}}
    if intent == "action.devices.EXECUTE":
        commands = await _execute(request, session, caller.user, payload)
        return {"requestId": body.requestId, "payload": {"commands": commands}}
    if intent == "action.devices.DISCONNECT":
        await revoke_link(session, caller.user.id, caller.client.id)
        log.info("Google unlinked user %d", caller.user.id)
        return {}
    return {"requestId": body.requestId, "payload": {"errorCode": "notSupported"}}


# -- Report State and Request Sync ------------------------------------------------------------------------
async def google_users(session: AsyncSession) -> list[User]:
    """The accounts with a live Google link."""
    ids = await session.scalars(
        select(OAuthToken.user_id)
        .join(OAuthClient, OAuthClient.id == OAuthToken.client_id)
        .where(
            OAuthClient.assistant == "google",
            OAuthToken.revoked_at.is_(None),
            OAuthToken.refresh_expires_at > utcnow(),
        )
        .distinct()
    )
    users = [await session.get(User, user_id) for user_id in ids.all()]
    return [u for u in users if u is not None]


async def _report(app: FastAPI, device: Device) -> None:
    settings: HubSettings = app.state.settings
    async with app.state.sessionmaker() as session:
        fresh = await session.get(Device, device.id)
        if fresh is None:
            return
        for user in await google_users(session):
            access = await resolve_access(session, user, fresh)
            if access is not None and google.google_exposed(access):
                await google.report_state(settings, user.id, [fresh])


async def request_sync_for(app: FastAPI, device_id: int) -> None:
    """Every Google-linked account that sees this device SYNCs again (a rename, C11.2)."""
    settings: HubSettings = app.state.settings
    async with app.state.sessionmaker() as session:
        device = await session.get(Device, device_id)
        if device is None:
            return
        for user in await google_users(session):
            if await resolve_access(session, user, device) is not None:
                await google.request_sync(settings, user.id)


@asynccontextmanager
async def service(app: FastAPI) -> AsyncIterator[None]:
    """Report State when a lock's state or a device's connectivity changes; Request Sync on a rename."""
    last: dict[int, dict[str, Any]] = {}
    tasks: set[asyncio.Task[None]] = set()

    shown: dict[int, tuple[bool, bool]] = {}

    async def on_state(device: Device, state: dict[str, Any]) -> None:
        if device.kind not in ("lock", "camera"):
            return
        if device.kind == "camera":  # Image Encryption or Audio switched: what Google may show changed
            now_shown = (settings_encrypted(state), settings_audio(state))
            if shown.get(device.id, now_shown) != now_shown:
                await request_sync_for(app, device.id)
            shown[device.id] = now_shown
        now = google.states(device)
        if last.get(device.id, now) != now:
            await _report(app, device)
        last[device.id] = now

    async def on_availability(device: Device, online: bool) -> None:
        await on_state(device, device.state or {})

    def on_message(message: dict[str, Any]) -> None:
        if message.get("type") == "device.renamed" and isinstance(message.get("device_id"), int):
            task = asyncio.create_task(request_sync_for(app, message["device_id"]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    app.state.mqtt.on_state(on_state)
    app.state.mqtt.on_availability(on_availability)
    app.state.bus.watch(on_message)
    yield
