"""Alerts (A4, C8, C9, X4): person events, notifications and their delivery, push subscriptions,
webhooks and the arming mode."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vakt.hub.db import Base, UTCDateTime, utcnow


class ArmingMode(StrEnum):
    """X4: what a detection does (see docs/detection.md)."""

    HOME = "home"
    AWAY = "away"
    SLEEP = "sleep"


class NotificationKind(StrEnum):
    PERSON = "person"
    MOTION = "motion"
    OFFLINE = "offline"
    TAMPER = "tamper"
    LOCKOUT = "lockout"
    FORCED_ENTRY = "forced_entry"
    JAMMED = "jammed"
    LOW_BATTERY = "low_battery"
    DOORBELL = "doorbell"


class DeliveryStatus(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    RETRYING = "retrying"
    GONE = "gone"  # the push service says the subscription no longer exists
    NO_CLIENT = "no_client"  # no open app to deliver to


class PersonEventRecord(Base):
    """A person (or, without a model, motion) event seen by a camera's analysis (C8.1)."""

    __tablename__ = "person_events"
    __table_args__ = (Index("ix_person_events_device_started", "device_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(16), default="person")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    score: Mapped[float] = mapped_column(default=0.0)
    box: Mapped[list[float] | None] = mapped_column(JSON, default=None)
    # relative to the media folder; the JPEG of the frame the best detection was made on
    snapshot_path: Mapped[str | None] = mapped_column(String(255), default=None)
    snapshot_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Notification(Base):
    """One notification for one account (the in-app list)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_desc", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), default=None)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(500), default="")
    person_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("person_events.id", ondelete="SET NULL"), default=None
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class NotificationDelivery(Base):
    """How one notification went out on one channel (websocket, push to one browser, webhook)."""

    __tablename__ = "notification_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(255), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PushSubscription(Base):
    """A browser's Web Push subscription (the service worker's PushSubscription JSON)."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Webhook(Base):
    """An account's webhook: notifications POSTed as JSON, signed with HMAC-SHA256."""

    __tablename__ = "webhooks"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    # sealed with the hub key (vakt.hub.secretbox); shown to the user once
    secret_encrypted: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Arming(Base):
    """X4: the arming mode of an account's home (per account: an account is one home here)."""

    __tablename__ = "arming"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), default=ArmingMode.AWAY.value)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
