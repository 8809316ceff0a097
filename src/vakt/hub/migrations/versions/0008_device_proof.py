"""devices: verified_at, when a device proved its verification code (A2, issue 11)

Revision ID: 0008_device_proof
Revises: 0004_cameras
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vakt.hub.db

revision: str = "0008_device_proof"
down_revision: str | Sequence[str] | None = "0007_lock_credential_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Devices added before this had no proof: they stay unproven until a proven add takes them over.
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("verified_at", vakt.hub.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("verified_at")
