"""Home Assistant links (V3): accounts that turned MQTT discovery on, with their broker account's hash

Revision ID: 0015_homeassistant
Revises: 0010_sign_in_hardening
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vakt.hub.db

revision: str = "0015_homeassistant"
down_revision: str | Sequence[str] | None = "0014_cloud_tier"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "homeassistant_links",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("broker_password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", vakt.hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_homeassistant_links_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_homeassistant_links")),
    )


def downgrade() -> None:
    op.drop_table("homeassistant_links")
