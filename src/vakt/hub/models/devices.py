"""Devices, shares between accounts (A5) and the events devices report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vakt.hub.db import Base, UTCDateTime, utcnow


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # lock / gateway / camera
    model: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(100), default="")
    # Where it is installed ("Hall", "Garage"); empty: no room chosen. The devices screen groups by it.
    room: Mapped[str] = mapped_column(String(64), default="", server_default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # A lock's gateway (G5); the gateway publishes on the lock's behalf.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("devices.id", ondelete="SET NULL"), index=True, default=None
    )
    online: Mapped[bool] = mapped_column(default=False)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The QR verification code, encrypted with the hub key (vakt.hub.secretbox); never in clear.
    code_encrypted: Mapped[str] = mapped_column(String(255), default="")
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the device proved it holds the verification code it was added with (A2); None: not yet, and
    # whoever proves the code takes the device over (issue 11).
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Share(Base):
    """A device shared by its owner with another account, with permissions (A5)."""

    __tablename__ = "shares"
    __table_args__ = (UniqueConstraint("device_id", "user_id", name="uq_shares_device_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class DeviceEvent(Base):
    """An event a device reported (protocol ``Event``); each event id is stored once (G7)."""

    __tablename__ = "device_events"
    __table_args__ = (Index("ix_device_events_device_ts", "device_id", "ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64), index=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
