"""Recording settings of the hub (environment prefix ``VAKT_MEDIA_``), typed and bounded."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from vakt.media.cloud import StoreConfig
from vakt.media.s3 import S3Settings


class MediaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VAKT_MEDIA_", extra="ignore")

    segment_seconds: float = Field(10.0, ge=1.0, le=60.0, description="length of a recorded segment")
    min_free_mb: int = Field(500, ge=0, description="free disk space kept for the media folder (retention)")
    retention_interval_s: float = Field(60.0, ge=1.0, description="how often retention runs")
    reconcile_interval_s: float = Field(10.0, ge=0.5, description="pipelines follow the camera list")
    read_timeout_s: float = Field(5.0, ge=1.0, le=60.0, description="a stream silent this long is lost")
    reconnect_cap_s: float = Field(30.0, ge=0.5, le=600.0, description="longest wait between reconnects")
    reconnect_give_up_after: int = Field(
        60,
        ge=0,
        le=1_000_000,
        description="failed connections in a row after which the hub stops dialing a camera added by URL "
        "until its owner reconnects it (POST /api/cameras/{id}/reconnect); 0: never",
    )
    max_clip_s: int = Field(3600, ge=10, description="longest clip export")
    encryption_unlock_s: float = Field(
        600.0, ge=10, le=86_400, description="how long an entered encryption password opens footage (C6)"
    )
    upload_retry_cap_s: float = Field(60.0, ge=0.05, le=3600, description="longest wait between upload tries")
    cloud: StoreConfig | None = Field(None, description="cloud tier store (C7.1); none: local only")
    s3: S3Settings = Field(
        default_factory=S3Settings, description="the S3 cloud tier (VAKT_S3_*); wins over cloud"
    )
