"""Lock management (A7): the credentials the app knows about, with their sync state against the lock."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vakt.hub.db import Base, UTCDateTime, utcnow
from vakt.lock.types import CredentialType


class CredentialKind(StrEnum):
    CODE = "code"  # Matter CredentialType PIN
    CARD = "card"  # RFID
    FINGERPRINT = "fingerprint"  # enrolled at the lock only


# The lock's (Matter) credential types, and back.
MATTER_TYPE = {
    CredentialKind.CODE: CredentialType.PIN,
    CredentialKind.CARD: CredentialType.RFID,
    CredentialKind.FINGERPRINT: CredentialType.Fingerprint,
}
KIND_OF_MATTER: dict[str, CredentialKind] = {v.value: k for k, v in MATTER_TYPE.items()}


class SyncState(StrEnum):
    ADDING = "adding"  # sent to the lock, not confirmed yet
    SYNCED = "synced"  # the lock reports it
    DELETING = "deleting"  # delete sent, not confirmed yet
    OUT_OF_SYNC = "out_of_sync"  # hub and lock disagree (e.g. deleted at the keypad, or no answer)


class LockCredential(Base):
    """One credential on a lock: its number (per type, 1-50, L1.2), type and the name given in the app.

    Door codes are never stored, not even hashed: the lock keeps its own keyed hash (L14.1).
    """

    __tablename__ = "lock_credentials"
    __table_args__ = (UniqueConstraint("device_id", "kind", "number", name="uq_lock_credentials_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[int | None] = mapped_column(default=None)
    user_name: Mapped[str] = mapped_column(String(64), default="")
    user_type: Mapped[str] = mapped_column(String(32), default="UnrestrictedUser")
    sync_state: Mapped[str] = mapped_column(String(16), default=SyncState.ADDING.value)
    error: Mapped[str | None] = mapped_column(String(255), default=None)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    max_uses: Mapped[int | None] = mapped_column(default=None)
    # The lock's clock when it stored this credential: a number reused after a keypad delete,
    # clear or initialize (L6, L7) then shows as a different credential, not as this one.
    enrolled_at: Mapped[float | None] = mapped_column(default=None)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
