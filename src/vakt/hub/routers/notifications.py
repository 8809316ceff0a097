"""Notifications (A4), Web Push subscriptions, webhooks, arming mode (X4) and person events (C8)."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import FileResponse
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, func, select, update

from vakt.hub.alerts.notifier import notification_json
from vakt.hub.alerts.service import person_event_json
from vakt.hub.api_types import BeforeId, EventId, NotificationId
from vakt.hub.auth import CurrentUser
from vakt.hub.authz import Action, Located, located, on_device, require_since
from vakt.hub.db import DbSession, utcnow
from vakt.hub.errors import errors
from vakt.hub.models.alerts import (
    Arming,
    ArmingMode,
    Notification,
    NotificationDelivery,
    PersonEventRecord,
    PushSubscription,
    Webhook,
)
from vakt.hub.outbound import RefusedDestination, check_resolved
from vakt.hub.permissions import DeviceAccess, visible_devices
from vakt.hub.settings import HubSettings

router = APIRouter(prefix="/api", tags=["notifications"])
HistoryAccess = Annotated[DeviceAccess, on_device(Action.VIEW_HISTORY)]


# -- in-app notifications -----------------------------------------------------------------------------
class NotificationPage(BaseModel):
    items: list[dict[str, Any]]
    next_before: int | None = Field(description="pass as ?before= for the next (older) page")
    unread: int


@router.get("/notifications", response_model=NotificationPage)
async def list_notifications(
    user: CurrentUser,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: BeforeId = None,
    unread_only: bool = False,
) -> NotificationPage:
    """The signed-in account's notifications, newest first."""
    query = select(Notification).where(Notification.user_id == user.id)
    if before is not None:
        query = query.where(Notification.id < before)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    rows = (await session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1))).all()
    unread = await session.scalar(
        select(func.count()).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )
    page = rows[:limit]
    return NotificationPage(
        items=[notification_json(n) for n in page],
        next_before=page[-1].id if len(rows) > limit else None,
        unread=int(unread or 0),
    )


async def _own_notification(session: DbSession, user_id: int, notification_id: int) -> Notification:
    row = await session.get(Notification, notification_id)
    if row is None or row.user_id != user_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"notification {notification_id} not found")
    return row


@router.post("/notifications/{notification_id}/read", status_code=status.HTTP_204_NO_CONTENT)
async def mark_read(notification_id: NotificationId, user: CurrentUser, session: DbSession) -> Response:
    row = await _own_notification(session, user.id, notification_id)
    if row.read_at is None:
        row.read_at = utcnow()
        await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/notifications/read-all")
async def mark_all_read(user: CurrentUser, session: DbSession) -> dict[str, int]:
    result = await session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    await session.commit()
    return {"updated": int(getattr(result, "rowcount", 0) or 0)}


class DeliveryOut(BaseModel):
    channel: str
    target: str
    status: str
    attempts: int
    error: str | None
    updated_at: datetime


@router.get("/notifications/{notification_id}/deliveries", response_model=list[DeliveryOut])
async def deliveries(
    notification_id: NotificationId, user: CurrentUser, session: DbSession
) -> list[DeliveryOut]:
    """How the notification went out: per channel sent / failed / retrying (with attempts) / gone."""
    await _own_notification(session, user.id, notification_id)
    rows = await session.scalars(
        select(NotificationDelivery)
        .where(NotificationDelivery.notification_id == notification_id)
        .order_by(NotificationDelivery.id)
    )
    return [
        DeliveryOut(
            channel=r.channel,
            target=r.target,
            status=r.status,
            attempts=r.attempts,
            error=r.error,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


async def _notification_camera(
    notification_id: NotificationId, user: CurrentUser, session: DbSession
) -> Located:
    """The camera that took the snapshot of one of the user's own notifications."""
    row = await _own_notification(session, user.id, notification_id)
    camera_id = (row.data or {}).get("camera_id")
    if not (row.data or {}).get("snapshot") or not isinstance(camera_id, int):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this notification has no snapshot")
    return Located(camera_id, f"notification {notification_id}")


@router.get("/notifications/{notification_id}/snapshot")
async def notification_snapshot(
    notification_id: NotificationId,
    user: CurrentUser,
    session: DbSession,
    request: Request,
    _access: Annotated[DeviceAccess, located(Action.WATCH_LIVE, _notification_camera)],
) -> FileResponse:
    """The camera snapshot taken when a lock alarm or the doorbell went off (X2, X3): what the user, then
    told of it, could see live; still needs ``live_view`` on that camera."""
    row = await _own_notification(session, user.id, notification_id)
    return _media_file(request, str((row.data or {})["snapshot"]))


def _media_file(request: Request, relative: str) -> FileResponse:
    media = Path(request.app.state.settings.media_dir).resolve()
    path = (media / relative).resolve()
    if not path.is_relative_to(media) or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "snapshot not found")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


# -- Web Push -------------------------------------------------------------------------------------------
def _b64url(value: str, length: int, name: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValueError(f"{name} is not base64url") from None
    if len(raw) != length:
        raise ValueError(f"{name} must be {length} bytes, got {len(raw)}")
    return value


class PushKeys(BaseModel):
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)

    @field_validator("p256dh")
    @classmethod
    def _p256dh(cls, v: str) -> str:
        return _b64url(v, 65, "p256dh")

    @field_validator("auth")
    @classmethod
    def _auth(cls, v: str) -> str:
        return _b64url(v, 16, "auth")


class PushSubscriptionIn(BaseModel):
    """The browser's ``PushSubscription.toJSON()``."""

    model_config = ConfigDict(extra="ignore")
    endpoint: AnyHttpUrl
    keys: PushKeys


class PushEndpointIn(BaseModel):
    endpoint: AnyHttpUrl


@router.get("/push/vapid-public-key", responses=errors(503))
async def vapid_public_key(user: CurrentUser, request: Request) -> dict[str, str]:
    """The ``applicationServerKey`` for ``pushManager.subscribe``."""
    alerts = _alerts(request)
    return {"public_key": alerts.vapid.public_key}


def _destinations(request: Request) -> tuple[frozenset[str], bool]:
    settings: HubSettings = request.app.state.settings
    return frozenset(h.lower() for h in settings.outbound_allowed_hosts), settings.webhook_private_addresses


async def _check_destination(request: Request, url: str, field: str, private_ok: bool | None = None) -> None:
    allowed, private = _destinations(request)
    try:
        await check_resolved(
            url, allowed, private if private_ok is None else private_ok, unresolvable_ok=True
        )
    except RefusedDestination as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{field}: {exc}") from None


@router.post("/push/subscriptions", status_code=status.HTTP_201_CREATED, responses=errors(409))
async def subscribe(
    body: PushSubscriptionIn, user: CurrentUser, session: DbSession, request: Request
) -> dict[str, int]:
    """Register this browser for Web Push; an endpoint stays with the account that registered it."""
    endpoint = str(body.endpoint)
    if len(endpoint) > 1000:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "endpoint: at most 1000 characters")
    await _check_destination(request, endpoint, "endpoint", private_ok=False)
    row = await session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if row is not None and row.user_id != user.id:
        # Whoever learns an endpoint must not redirect another account's alerts to their own keys.
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "endpoint: this browser is registered to another account; it must unsubscribe first",
        )
    if row is None:
        row = PushSubscription(
            user_id=user.id, endpoint=endpoint, p256dh=body.keys.p256dh, auth=body.keys.auth
        )
        session.add(row)
    else:  # the same account's browser re-subscribing with fresh keys
        row.p256dh, row.auth = body.keys.p256dh, body.keys.auth
    await session.commit()
    return {"id": row.id}


@router.delete("/push/subscriptions", status_code=status.HTTP_204_NO_CONTENT)
async def unsubscribe(body: PushEndpointIn, user: CurrentUser, session: DbSession) -> Response:
    result = await session.execute(
        delete(PushSubscription).where(
            PushSubscription.endpoint == str(body.endpoint), PushSubscription.user_id == user.id
        )
    )
    await session.commit()
    if not getattr(result, "rowcount", 0):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such push subscription")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- webhook --------------------------------------------------------------------------------------------
class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: AnyHttpUrl


@router.get("/notifications/webhook")
async def get_webhook(user: CurrentUser, session: DbSession) -> dict[str, str | None]:
    row = await session.get(Webhook, user.id)
    return {"url": row.url if row else None}


@router.put("/notifications/webhook")
async def set_webhook(
    body: WebhookIn, user: CurrentUser, session: DbSession, request: Request
) -> dict[str, str]:
    """Notifications are POSTed as JSON with ``X-Vakt-Signature: sha256=<HMAC-SHA256 of the body>``;
    the secret is shown here once. Only https to a public host, unless the hub's owner allows it."""
    await _check_destination(request, str(body.url), "url")
    secret = secrets.token_urlsafe(32)
    sealed = request.app.state.broker_sync.box.encrypt(secret, "webhook")
    row = await session.get(Webhook, user.id)
    if row is None:
        session.add(Webhook(user_id=user.id, url=str(body.url), secret_encrypted=sealed))
    else:
        row.url, row.secret_encrypted = str(body.url), sealed
    await session.commit()
    return {"url": str(body.url), "secret": secret}


@router.delete("/notifications/webhook", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(user: CurrentUser, session: DbSession) -> Response:
    await session.execute(delete(Webhook).where(Webhook.user_id == user.id))
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- arming mode (X4) -------------------------------------------------------------------------------------
class ArmingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: ArmingMode


class ArmingOut(BaseModel):
    mode: ArmingMode
    updated_at: datetime | None


@router.get("/arming", response_model=ArmingOut)
async def get_arming(user: CurrentUser, session: DbSession) -> ArmingOut:
    row = await session.get(Arming, user.id)
    return ArmingOut(
        mode=ArmingMode(row.mode) if row else ArmingMode.AWAY, updated_at=row.updated_at if row else None
    )


@router.put("/arming", response_model=ArmingOut)
async def set_arming(body: ArmingIn, user: CurrentUser, session: DbSession) -> ArmingOut:
    """Home / Away / Sleep for the account's home (its own devices); see docs/detection.md."""
    row = await session.get(Arming, user.id)
    if row is None:
        row = Arming(user_id=user.id)
        session.add(row)
    row.mode, row.updated_at = body.mode.value, utcnow()
    await session.commit()
    return ArmingOut(mode=body.mode, updated_at=row.updated_at)


# -- person events (C8) --------------------------------------------------------------------------------
def _alerts(request: Request) -> Any:
    alerts = getattr(request.app.state, "alerts", None)
    if alerts is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the alerts service is not running")
    return alerts


class CameraAnalysisOut(BaseModel):
    frames: int
    error: str | None


class DetectionStatusOut(BaseModel):
    detector: str
    person_detection: bool
    problem: str | None = Field(description="why alerts are motion-only, when they are")
    cameras: dict[str, CameraAnalysisOut] = Field(description="the caller's cameras under analysis, by id")


_PATH = re.compile(r"(?<![\w.:/])/[^\s:;,()'\"]+")
_URL_CREDENTIALS = re.compile(r"://[^/@\s]+@")


def _without_paths(text: str | None, folders: tuple[str, ...] = ()) -> str | None:
    """The server's folders and stream passwords are nobody's business but its owner's (they are in
    its logs)."""
    if text is None:
        return None
    for folder in sorted(folders, key=len, reverse=True):  # folders may contain spaces
        text = text.replace(folder, "<hub folder>")
    return _PATH.sub("<hub folder>", _URL_CREDENTIALS.sub("://***@", text))


@router.get("/detection/status", response_model=DetectionStatusOut, responses=errors(503))
async def detection_status(user: CurrentUser, session: DbSession, request: Request) -> DetectionStatusOut:
    """Whether a person model is loaded (else motion-only alerts, and why) and the caller's cameras."""
    status_: dict[str, Any] = _alerts(request).status
    settings: HubSettings = request.app.state.settings
    folders = tuple(str(p) for p in (settings.data_dir, settings.models_dir, settings.media_dir))
    mine = {str(a.device.id) for a in await visible_devices(session, user)}
    cameras = {
        key: CameraAnalysisOut(frames=int(value["frames"]), error=_without_paths(value["error"], folders))
        for key, value in status_["cameras"].items()
        if key in mine
    }
    return DetectionStatusOut(
        detector=_without_paths(status_["detector"], folders) or "",
        person_detection=bool(status_["person_detection"]),
        problem=_without_paths(status_["problem"], folders),
        cameras=cameras,
    )


@router.get("/cameras/{device_id}/person-events")
async def person_events(
    access: HistoryAccess,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: BeforeId = None,
) -> list[dict[str, Any]]:
    """A camera's person events, newest first; a shared user sees them from the share's start (A5)."""
    query = select(PersonEventRecord).where(PersonEventRecord.device_id == access.device.id)
    if access.history_since is not None:
        query = query.where(PersonEventRecord.started_at >= access.history_since)
    if before is not None:
        query = query.where(PersonEventRecord.id < before)
    rows = await session.scalars(query.order_by(PersonEventRecord.id.desc()).limit(limit))
    return [person_event_json(r) for r in rows]


async def _person_event_camera(event_id: EventId, user: CurrentUser, session: DbSession) -> Located:
    record = await session.get(PersonEventRecord, event_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"person event {event_id} not found")
    notified = await session.scalar(
        select(Notification.id)
        .where(Notification.user_id == user.id, Notification.person_event_id == event_id)
        .limit(1)
    )
    watch = Action.WATCH_LIVE if notified is not None else None  # the alert was sent to live_view
    return Located(record.device_id, f"person event {event_id}", notified_with=watch)


@router.get("/person-events/{event_id}/snapshot")
async def person_event_snapshot(
    event_id: EventId,
    session: DbSession,
    request: Request,
    access: Annotated[DeviceAccess, located(Action.VIEW_HISTORY, _person_event_camera)],
    where: Annotated[Located, Depends(_person_event_camera)],  # the same call, cached by FastAPI
) -> FileResponse:
    """The JPEG of the frame of the event's best detection, taken when it was seen: history, so it needs
    ``history`` and a shared user sees it only for events from the share's start on (A5); the snapshot of
    a person alert the user was sent needs only ``live_view`` (what the alert went to)."""
    record = await session.get(PersonEventRecord, event_id)
    if record is None:  # deleted since it was located
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"person event {event_id} not found")
    if where.notified_with is None:  # what the user was sent stays theirs to see
        require_since(access, record.started_at)
    if not record.snapshot_path:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this event has no snapshot")
    return _media_file(request, record.snapshot_path)


# Declared after /notifications/webhook, so that DELETE of the webhook is never read as a notification id.
@router.delete("/notifications/{notification_id}", status_code=status.HTTP_204_NO_CONTENT)
async def dismiss_notification(
    notification_id: NotificationId, user: CurrentUser, session: DbSession
) -> Response:
    """Dismiss one of the account's own notifications (its snapshot stays: other accounts may show it)."""
    row = await _own_notification(session, user.id, notification_id)
    await session.execute(delete(NotificationDelivery).where(NotificationDelivery.notification_id == row.id))
    await session.delete(row)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
