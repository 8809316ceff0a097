"""Cameras (C5-C7, V4): stream addresses and settings, the segment index, and stream gaps."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vakt.hub.db import Base, UTCDateTime, utcnow


class Definition(StrEnum):
    """C5.1 definitions: Ultra HD and Hi-Def play the main stream, Standard the sub-stream."""

    ULTRA_HD = "ultra_hd"
    HI_DEF = "hi_def"
    STANDARD = "standard"

    @property
    def stream(self) -> str:
        return "sub" if self is Definition.STANDARD else "main"


class RecordingMode(StrEnum):
    CONTINUOUS = "continuous"
    OFF = "off"  # only manual recording (C5.1)


class Camera(Base):
    """One per camera device: where its RTSP streams are and how it is recorded."""

    __tablename__ = "cameras"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    main_url: Mapped[str] = mapped_column(String(500))  # without credentials
    sub_url: Mapped[str | None] = mapped_column(String(500), default=None)
    username: Mapped[str] = mapped_column(String(100), default="")
    # RTSP password (the verification code for our cameras), encrypted with the hub key.
    password_encrypted: Mapped[str] = mapped_column(String(500), default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    recording_mode: Mapped[str] = mapped_column(String(16), default=RecordingMode.CONTINUOUS.value)
    definition: Mapped[str] = mapped_column(String(16), default=Definition.HI_DEF.value)
    audio: Mapped[bool] = mapped_column(default=True)
    retention_days: Mapped[int] = mapped_column(default=7)
    retention_max_mb: Mapped[int | None] = mapped_column(default=None)
    emulated: Mapped[bool] = mapped_column(default=False)
    # Image Encryption (C6): footage for the cloud is sealed to this camera's key (vakt.media.encryption)
    image_encryption: Mapped[bool] = mapped_column(default=False)
    # CameraKey JSON: the public key and the private key wrapped by the password (never the password)
    encryption_key: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Segment(Base):
    """One recorded fMP4 segment file (C7.1), flags set later by detection (events, motion)."""

    __tablename__ = "camera_segments"
    __table_args__ = (Index("ix_camera_segments_device_start", "device_id", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(500), unique=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    size: Mapped[int] = mapped_column(BigInteger)
    init_size: Mapped[int] = mapped_column()
    frames: Mapped[int] = mapped_column(default=0)
    has_audio: Mapped[bool] = mapped_column(default=False)
    has_motion: Mapped[bool] = mapped_column(default=False)
    has_event: Mapped[bool] = mapped_column(default=False)
    uploaded: Mapped[bool] = mapped_column(default=False)
    # The cloud tier's copy (C7.1): its object key and size; sealed: encrypted to the camera's key (C6)
    cloud_key: Mapped[str | None] = mapped_column(String(600), default=None)
    cloud_size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    sealed: Mapped[bool] = mapped_column(default=False)
    # False once local retention deleted the file: the segment is then served from the cloud copy
    local: Mapped[bool] = mapped_column(default=True)
    # Why the start-up check found the file damaged or missing (None: whole); shown as a gap, never served.
    damage: Mapped[str | None] = mapped_column(String(300), default=None)


class StreamGap(Base):
    """The camera's stream was lost from `start` until `end` (None: still lost)."""

    __tablename__ = "camera_gaps"
    __table_args__ = (Index("ix_camera_gaps_device_start", "device_id", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reason: Mapped[str] = mapped_column(String(200), default="stream lost")


class CloudUpload(Base):
    """The resume cursor of one multipart upload to the S3 tier (C10.1), saved after every part."""

    __tablename__ = "cloud_uploads"

    key: Mapped[str] = mapped_column(String(700), primary_key=True)
    upload_id: Mapped[str] = mapped_column(String(1024))
    fingerprint: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    parts: Mapped[str] = mapped_column(Text, default="[]")  # JSON [[number, etag], ...]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
