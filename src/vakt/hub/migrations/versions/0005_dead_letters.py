"""dead letters: device messages that can never be stored (G7, issue 10)

Revision ID: 0005_dead_letters
Revises: 0004_cameras
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vakt.hub.db

revision: str = "0005_dead_letters"
down_revision: str | Sequence[str] | None = "0004_cameras"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("payload_excerpt", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("received_at", vakt.hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_dead_letters_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    op.create_index("ix_dead_letters_device_received", "dead_letters", ["device_id", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_dead_letters_device_received", table_name="dead_letters")
    op.drop_table("dead_letters")
