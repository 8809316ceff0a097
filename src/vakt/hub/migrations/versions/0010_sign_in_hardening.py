"""sign-in hardening: failed-attempt counters kept across restarts, single-use invites (issue 11)

Revision ID: 0010_sign_in_hardening
Revises: 0004_cameras
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vakt.hub.db

revision: str = "0010_sign_in_hardening"
down_revision: str | Sequence[str] | None = "0008_device_proof"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attempt_counters",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", vakt.hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_attempt_counters")),
    )
    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", vakt.hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", vakt.hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", vakt.hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_invites_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["used_by"], ["users.id"], name=op.f("fk_invites_used_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invites")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invites_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("invites")
    op.drop_table("attempt_counters")
