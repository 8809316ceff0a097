"""Alexa Smart Home API v3 endpoint (C11, V1): ``POST /api/alexa/v3`` takes the directive your skill's
Lambda forwards (docs/integrations.md); the bearer is the hub's OAuth access token in the directive's
scope. Answers are Alexa messages (an ``ErrorResponse`` for every refusal, with HTTP 200).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.camera_supervisor import CameraSupervisor, password_context, with_credentials
from vakt.hub.db import DbSession, utcnow
from vakt.hub.errors import errors
from vakt.hub.integrations import (
    alexa,
    exposed_devices,
    image_encrypted,
    is_exposed,
    settings_encrypted,
)
from vakt.hub.integrations.alexa import AlexaError
from vakt.hub.integrations.alexa_events import (
    GrantFailed,
    accept_grant,
    alexa_grants,
    event_token,
    send_event,
)
from vakt.hub.integrations.locking import LockRefused, operate_lock
from vakt.hub.integrations.oauth import Bearer, bearer
from vakt.hub.models.cameras import Camera
from vakt.hub.models.devices import Device
from vakt.hub.models.users import User
from vakt.hub.permissions import DeviceAccess, resolve_access
from vakt.hub.routers.cameras import live_snapshot
from vakt.hub.secretbox import SecretBox
from vakt.hub.settings import HubSettings
from vakt.lock import EventType
from vakt.protocol import Event

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/alexa", tags=["assistants"])


class AlexaIn(BaseModel):
    """An Alexa directive as the skill's Lambda received it."""

    model_config = ConfigDict(extra="allow")
    directive: dict[str, Any] = Field(description="header, endpoint and payload (Smart Home API v3)")


def _dig(data: Any, *path: str) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


class Refused(Exception):
    def __init__(self, error: AlexaError) -> None:
        super().__init__(error.message)
        self.error = error


async def _caller(session: AsyncSession, token: Any) -> Bearer:
    found = await bearer(session, token if isinstance(token, str) else None)
    if found is None or found.client.assistant != "alexa":
        raise Refused(
            AlexaError("INVALID_AUTHORIZATION_CREDENTIAL", "the link with vakt expired or was revoked")
        )
    return found


async def _target(session: AsyncSession, caller: Bearer, endpoint: Any) -> DeviceAccess:
    """The exposed device the directive is for (the same rule as discovery)."""
    number = alexa.device_id_of(str(_dig(endpoint, "endpointId") or ""))
    device = None if number is None else await session.get(Device, number)
    access = None if device is None else await resolve_access(session, caller.user, device)
    if access is None or not is_exposed(access):
        raise Refused(AlexaError("NO_SUCH_ENDPOINT", "this device is not shared with Alexa"))
    return access


_LOCK_ERRORS = {
    "pin_needed": "INVALID_VALUE",
    "wrong_pin": "INVALID_VALUE",
    "no_pin_set": "INVALID_VALUE",
    "too_many": "RATE_LIMIT_EXCEEDED",
    "offline": "ENDPOINT_UNREACHABLE",
    "refused": "HARDWARE_MALFUNCTION",
}


async def _handle(request: Request, session: AsyncSession, directive: dict[str, Any]) -> dict[str, Any]:
    namespace, name = _dig(directive, "header", "namespace"), _dig(directive, "header", "name")
    correlation = _dig(directive, "header", "correlationToken")
    correlation = correlation if isinstance(correlation, str) else None
    payload, endpoint = directive.get("payload"), directive.get("endpoint")
    if (namespace, name) == ("Alexa.Discovery", "Discover"):
        caller = await _caller(session, _dig(payload, "scope", "token"))
        return alexa.discover_response([a.device for a in await exposed_devices(session, caller.user)])
    if (namespace, name) == ("Alexa.Authorization", "AcceptGrant"):
        caller = await _caller(session, _dig(payload, "grantee", "token"))
        code = _dig(payload, "grant", "code")
        try:
            if not isinstance(code, str) or not code:
                raise GrantFailed("the directive has no grant code")
            app = request.app
            await accept_grant(
                session,
                app.state.settings,
                app.state.broker_sync.box,
                caller.user.id,
                caller.client.id,
                code[:2000],
            )
        except GrantFailed as exc:
            raise Refused(AlexaError("ACCEPT_GRANT_FAILED", str(exc), "Alexa.Authorization")) from None
        return alexa.accept_grant_response()

    caller = await _caller(session, _dig(endpoint, "scope", "token"))
    access = await _target(session, caller, endpoint)
    device = access.device
    token = caller_token(endpoint)
    if (namespace, name) == ("Alexa", "ReportState"):
        return alexa.state_report(device, token, correlation)
    if namespace == "Alexa.LockController" and name in ("Lock", "Unlock") and device.kind == "lock":
        if not device.online:
            raise Refused(AlexaError("ENDPOINT_UNREACHABLE", "the lock is offline"))
        command: Literal["lock.lock", "lock.unlock"] = "lock.lock" if name == "Lock" else "lock.unlock"
        pin = _dig(payload, "pin")
        try:
            await operate_lock(
                request, session, access, command, pin if isinstance(pin, str) else None, "alexa"
            )
        except LockRefused as exc:
            raise Refused(AlexaError(_LOCK_ERRORS[exc.why], exc.message)) from None
        await session.refresh(device)
        return alexa.response(device, token, correlation, "LOCKED" if name == "Lock" else "UNLOCKED")
    if (namespace, name) == ("Alexa.CameraStreamController", "InitializeCameraStreams") and (
        device.kind == "camera"
    ):
        camera = await session.get(Camera, device.id)
        if camera is None or not device.online:
            raise Refused(AlexaError("ENDPOINT_UNREACHABLE", "the camera's stream is not available"))
        box = request.app.state.broker_sync.box
        password = (
            box.decrypt(camera.password_encrypted, password_context(device.serial))
            if (camera.password_encrypted)
            else ""
        )
        uri = with_credentials(camera.main_url, camera.username, password)
        image = str(request.url_for("camera_image", token=image_token(box, device.id)))
        return alexa.camera_streams(device, token, correlation, uri, image)
    raise Refused(AlexaError("INVALID_DIRECTIVE", f"{namespace}.{name} is not supported for this device"))


def caller_token(endpoint: Any) -> str:
    token = _dig(endpoint, "scope", "token")
    return token if isinstance(token, str) else ""


@router.post("/v3", response_model=dict[str, Any])
async def directive(body: AlexaIn, request: Request, session: DbSession) -> dict[str, Any]:
    """One Alexa directive in, its response out (Discovery, AcceptGrant, ReportState, LockController,
    CameraStreamController)."""
    message = body.directive
    try:
        return await _handle(request, session, message)
    except Refused as exc:
        correlation = _dig(message, "header", "correlationToken")
        endpoint = message.get("endpoint")
        endpoint_id = _dig(endpoint, "endpointId")
        where = None
        if isinstance(endpoint_id, str) and endpoint_id:
            where = {"endpointId": endpoint_id[:256]}
        return alexa.error_response(exc.error, correlation if isinstance(correlation, str) else None, where)


# -- the still image an Echo Show shows while the stream starts -----------------------------------------
_IMAGE_CONTEXT = "alexa-image"


def image_token(box: SecretBox, device_id: int) -> str:
    """A URL token for one camera's image, sealed with the hub key, good for ``alexa.STREAM_TTL``."""
    expires = int((utcnow() + alexa.STREAM_TTL).timestamp())
    return box.encrypt(f"{device_id}:{expires}", _IMAGE_CONTEXT)


def _image_device(box: SecretBox, token: str) -> int | None:
    try:
        device_id, _, expires = box.decrypt(token, _IMAGE_CONTEXT).partition(":")
    except Exception:  # not ours, altered or garbage: the same answer as expired
        return None
    if int(expires) < utcnow().timestamp():
        return None
    return int(device_id)


@router.get(
    "/image/{token}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, **errors(503)},
)
async def camera_image(
    token: Annotated[str, Path(min_length=1, max_length=500)], request: Request, session: DbSession
) -> Response:
    """The camera's latest keyframe as JPEG, for the URL given in InitializeCameraStreams (expires)."""
    device_id = _image_device(request.app.state.broker_sync.box, token)
    device = None if device_id is None else await session.get(Device, device_id)
    if device is None or device.kind != "camera" or image_encrypted(device):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this image link is unknown or expired")
    supervisor: CameraSupervisor | None = getattr(request.app.state, "cameras", None)
    return await live_snapshot(supervisor, device.id)


# -- proactive events ------------------------------------------------------------------------------------
async def report(app: FastAPI, device: Device, build: Any, *, hidden_too: bool = False) -> int:
    """Send ``build(device, token)`` to the event gateway for every Alexa-linked account this device is
    exposed to (``hidden_too``: every account that may see it, to tell them it is no longer exposed)."""
    settings: HubSettings = app.state.settings
    box = app.state.broker_sync.box
    sent = 0
    async with app.state.sessionmaker() as session:
        fresh = await session.get(Device, device.id)
        if fresh is None:
            return 0
        for grant in await alexa_grants(session):
            user = await session.get(User, grant.user_id)
            access = None if user is None else await resolve_access(session, user, fresh)
            if access is None or not (hidden_too or is_exposed(access)):
                continue
            token = await event_token(session, settings, box, grant)
            if token is not None and await send_event(settings, token, build(fresh, token)):
                sent += 1
    return sent


@asynccontextmanager
async def service(app: FastAPI) -> AsyncIterator[None]:
    """ChangeReports when a lock's state or a device's connectivity changes; DoorbellPress on the bell."""
    last: dict[int, tuple[str, bool]] = {}

    encrypted: dict[int, bool] = {}

    async def on_state(device: Device, state: dict[str, Any]) -> None:
        if device.kind not in ("lock", "camera"):
            return
        if device.kind == "camera":  # Image Encryption turned on or off: Alexa forgets or learns it (C11.1)
            now_encrypted = settings_encrypted(state)
            was = encrypted.get(device.id, now_encrypted)
            encrypted[device.id] = now_encrypted
            if was != now_encrypted:
                if now_encrypted:
                    await report(app, device, alexa.delete_report, hidden_too=True)
                else:
                    await report(app, device, lambda d, t: alexa.add_or_update_report([d], t))
        now = (alexa.lock_state_of(state) if device.kind == "lock" else "", device.online)
        before = last.get(device.id)
        last[device.id] = now
        if before is None or before == now:
            return
        changed = [
            n
            for n, (a, b) in zip(("lockState", "connectivity"), zip(before, now, strict=True), strict=True)
            if a != b
        ]
        await report(app, device, lambda d, t: alexa.change_report(d, t, changed, "PHYSICAL_INTERACTION"))

    async def on_availability(device: Device, online: bool) -> None:
        await on_state(device, device.state or {})

    async def on_event(device: Device, event: Event) -> None:
        if device.kind == "lock" and event.type == EventType.Doorbell:
            await report(app, device, lambda d, t: alexa.doorbell_press(d, t, event.ts))

    async def renamed(device_id: int) -> None:
        async with app.state.sessionmaker() as session:
            device = await session.get(Device, device_id)
        if device is not None:
            await report(app, device, lambda d, t: alexa.add_or_update_report([d], t))

    tasks: set[asyncio.Task[None]] = set()

    def on_message(message: dict[str, Any]) -> None:
        if message.get("type") == "device.renamed" and isinstance(message.get("device_id"), int):
            task = asyncio.create_task(renamed(message["device_id"]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    app.state.mqtt.on_state(on_state)
    app.state.mqtt.on_event(on_event)
    app.state.mqtt.on_availability(on_availability)
    app.state.bus.watch(on_message)
    yield
