"""devices.room: where a device is installed (issue 15: rooms, a device's About)

Revision ID: 0016_device_rooms
Revises: 0004_cameras (re-chained at merge)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_device_rooms"
down_revision: str | Sequence[str] | None = "0015_homeassistant"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("room", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("room")
