"""Home Assistant links (V3): an account that turned on MQTT discovery, and its broker account's hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from vakt.hub.db import Base, UTCDateTime, utcnow


class HomeAssistantLink(Base):
    """A row per account with Home Assistant on (off by default: no row); deleting it turns it off."""

    __tablename__ = "homeassistant_links"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # Mosquitto $7$ hash of the password of broker user ``ha-<user id>``; the password is shown once.
    broker_password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
