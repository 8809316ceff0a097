"""camera_segments.damage: why a segment failed the start-up check (None: whole)

Revision ID: 0006_segment_damage
Revises: 0004_cameras
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_segment_damage"
down_revision: str | Sequence[str] | None = "0005_dead_letters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("camera_segments") as batch:
        batch.add_column(sa.Column("damage", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("camera_segments") as batch:
        batch.drop_column("damage")
