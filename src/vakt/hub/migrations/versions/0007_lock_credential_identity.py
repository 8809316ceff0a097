"""lock credentials: the lock's own time of storing each one, to tell a reused number apart (issue 15)

Revision ID: 0007_lock_credential_identity
Revises: 0004_cameras
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_lock_credential_identity"
down_revision: str | Sequence[str] | None = "0006_segment_damage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lock_credentials") as batch:
        batch.add_column(sa.Column("enrolled_at", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lock_credentials") as batch:
        batch.drop_column("enrolled_at")
