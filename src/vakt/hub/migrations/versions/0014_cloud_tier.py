"""The S3 cloud tier and Image Encryption (C6, C7.1, C10.1): cloud copies, resume cursors, camera keys

Revision ID: 0014_cloud_tier
Revises: 0010_sign_in_hardening
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vakt.hub.db

revision: str = "0014_cloud_tier"
# The brief says 0004_cameras; this branch already chains 0006..0010 after it, and the hub refuses to
# start with two heads, so this follows the current head. The integrator re-chains at merge.
down_revision: str | Sequence[str] | None = "0013_voice_assistants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("camera_segments") as batch:
        batch.add_column(sa.Column("cloud_key", sa.String(length=600), nullable=True))
        batch.add_column(sa.Column("cloud_size", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("sealed", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("local", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(
            sa.Column("image_encryption", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("encryption_key", sa.Text(), nullable=True))
    op.create_table(
        "cloud_uploads",
        sa.Column("key", sa.String(length=700), primary_key=True),
        sa.Column("upload_id", sa.String(length=1024), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("parts", sa.Text(), nullable=False),
        sa.Column("updated_at", vakt.hub.db.UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cloud_uploads")
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("encryption_key")
        batch.drop_column("image_encryption")
    with op.batch_alter_table("camera_segments") as batch:
        batch.drop_column("local")
        batch.drop_column("sealed")
        batch.drop_column("cloud_size")
        batch.drop_column("cloud_key")
