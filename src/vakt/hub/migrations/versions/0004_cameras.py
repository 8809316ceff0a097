"""cameras: stream settings, segment index, stream gaps (C5-C7, V4)

Revision ID: 0004_cameras
Revises: 0003_alerts
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vakt.hub.db

revision: str = "0004_cameras"
down_revision: str | Sequence[str] | None = "0003_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cameras",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("main_url", sa.String(length=500), nullable=False),
        sa.Column("sub_url", sa.String(length=500), nullable=True),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_encrypted", sa.String(length=500), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("recording_mode", sa.String(length=16), nullable=False),
        sa.Column("definition", sa.String(length=16), nullable=False),
        sa.Column("audio", sa.Boolean(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("retention_max_mb", sa.Integer(), nullable=True),
        sa.Column("emulated", sa.Boolean(), nullable=False),
        sa.Column("created_at", vakt.hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_cameras_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_cameras")),
    )
    op.create_table(
        "camera_segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("start", vakt.hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", vakt.hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("init_size", sa.Integer(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("has_audio", sa.Boolean(), nullable=False),
        sa.Column("has_motion", sa.Boolean(), nullable=False),
        sa.Column("has_event", sa.Boolean(), nullable=False),
        sa.Column("uploaded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_camera_segments_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_segments")),
        sa.UniqueConstraint("path", name=op.f("uq_camera_segments_path")),
    )
    op.create_index("ix_camera_segments_device_start", "camera_segments", ["device_id", "start"])
    op.create_table(
        "camera_gaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("start", vakt.hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", vakt.hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_camera_gaps_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_gaps")),
    )
    op.create_index("ix_camera_gaps_device_start", "camera_gaps", ["device_id", "start"])


def downgrade() -> None:
    op.drop_index("ix_camera_gaps_device_start", table_name="camera_gaps")
    op.drop_table("camera_gaps")
    op.drop_index("ix_camera_segments_device_start", table_name="camera_segments")
    op.drop_table("camera_segments")
    op.drop_table("cameras")
