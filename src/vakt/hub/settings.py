"""Hub settings (environment prefix ``VAKT_``), typed and bounded."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "vakt"


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VAKT_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir, description="where the hub keeps its files")
    database_url: str = Field(
        default="", description="SQLAlchemy async URL; default: SQLite file vakt.db in data_dir"
    )
    media_dir: Path = Field(
        default=Path("media"), description="recordings and snapshots; default data_dir/media"
    )
    models_dir: Path = Field(default=Path("models"), description="detector models; default data_dir/models")

    mqtt_host: str = Field(default="127.0.0.1", description="MQTT broker host")
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    mqtt_username: str | None = Field(default="hub", description="the hub's privileged broker account")
    mqtt_password: SecretStr | None = None
    mqtt_enabled: bool = Field(
        default=True, description="connect to the broker (off only for API-only tests)"
    )
    mqtt_client_id: str | None = Field(
        default=None, description="default: vakt-hub-<128 random bits>, made once in data_dir/mqtt-client-id"
    )
    mqtt_shared_group: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="several hub processes: each device event goes to one of them ($share/<group>/...), "
        "and live messages are relayed to all (each needs its own mqtt_client_id)",
    )
    mqtt_persistent_session: bool = Field(
        default=True, description="the broker keeps QoS 1 device events for the hub while it is down (G7)"
    )

    broker_accounts_file: Path | None = Field(
        default=None,
        description="BrokerAccounts JSON the hub keeps in sync with its devices (external broker)",
    )
    mosquitto_dir: Path | None = Field(default=None, description="regenerate Mosquitto passwd/acl/conf here")
    mosquitto_pid_file: Path | None = Field(default=None, description="SIGHUP this Mosquitto after changes")

    argon2_time_cost: int = Field(default=3, ge=1, le=20, description="argon2id passes for new hashes")
    argon2_memory_kib: int = Field(default=65536, ge=256, description="argon2id memory for new hashes")
    event_retention_days: int = Field(default=365, ge=1, description="device events older than this go")
    session_ttl_s: int = Field(default=14 * 24 * 3600, ge=60, description="sign-in session lifetime")
    cookie_secure: bool = Field(
        default=False,
        description="send the session cookie over HTTPS only; on by itself with TLS or behind a proxy "
        "that says X-Forwarded-Proto: https",
    )
    tls_cert: Path | None = Field(default=None, description="PEM certificate: serve HTTPS (with tls_key)")
    tls_key: Path | None = Field(default=None, description="PEM private key of tls_cert")
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="proxies trusted for X-Forwarded-For/-Proto (comma-separated addresses, '*' for any)",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="web origins (scheme://host[:port]) allowed to change state and open WebSockets, "
        "besides the hub's own (the Host it is reached at)",
    )
    open_registration: bool = Field(
        default=False,
        description="anyone may create an account; off: only the first account, then by the owner's invite",
    )
    invite_ttl_s: int = Field(default=7 * 24 * 3600, ge=60, le=90 * 24 * 3600, description="invite lifetime")
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="largest request body accepted (413 beyond)"
    )
    max_cameras_per_account: int = Field(
        default=32, ge=0, le=10_000, description="cameras one account may add"
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="failed sign-ins per account (and 4x per address) before delays start"
    )
    login_window_s: float = Field(
        default=3600.0, gt=0, description="failed sign-ins older than this are forgotten"
    )
    login_max_delay_s: float = Field(
        default=60.0, gt=0, le=3600, description="longest wait between sign-in attempts (no hard lock)"
    )
    pin_max_failures: int = Field(default=5, ge=1, description="wrong remote-unlock PINs before delays start")
    pin_window_s: float = Field(default=3600.0, gt=0, description="wrong PINs older than this are forgotten")
    pin_max_delay_s: float = Field(
        default=900.0, gt=0, le=24 * 3600, description="longest wait between remote-unlock PIN attempts"
    )
    command_timeout_s: float = Field(default=5.0, gt=0, le=60, description="wait for a device's ack")
    outbound_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="hosts that webhooks and Web Push may reach over plain http or at a private address "
        "(e.g. a receiver on your LAN); everything else needs https to a public address",
    )
    webhook_private_addresses: bool = Field(
        default=False, description="allow webhooks to loopback, link-local and private addresses (any host)"
    )
    alert_cooldown_s: float = Field(
        default=60.0,
        ge=0,
        le=3600,
        description="after a person alert, further person events of that camera within this time are "
        "recorded, shown and defended against but not notified again; 0: notify each one",
    )

    # -- voice assistants (C11, V1-V2; docs/integrations.md) --
    oauth_access_ttl_s: int = Field(
        default=3600, ge=60, le=24 * 3600, description="lifetime of an assistant's access token"
    )
    oauth_refresh_ttl_s: int = Field(
        default=180 * 24 * 3600,
        ge=3600,
        le=3650 * 24 * 3600,
        description="an assistant's refresh token dies when unused this long (each refresh rotates it)",
    )
    alexa_event_gateway_url: str = Field(
        default="https://api.amazonalexa.com/v3/events",
        description="where ChangeReports and doorbell presses go (Alexa's event gateway of your region)",
    )
    alexa_lwa_token_url: str = Field(
        default="https://api.amazon.com/auth/o2/token",
        description="Login with Amazon: the AcceptGrant code is exchanged here for event-gateway tokens",
    )
    alexa_client_id: str | None = Field(
        default=None, max_length=200, description="your skill's Alexa Skill Messaging client id"
    )
    alexa_client_secret: SecretStr | None = Field(
        default=None, description="your skill's Alexa Skill Messaging client secret"
    )
    google_report_state_url: str = Field(
        default="https://homegraph.googleapis.com/v1/devices:reportStateAndNotification",
        description="Google Home Graph Report State",
    )
    google_request_sync_url: str = Field(
        default="https://homegraph.googleapis.com/v1/devices:requestSync",
        description="Google Home Graph Request Sync",
    )
    google_api_token: SecretStr | None = Field(
        default=None,
        description="bearer token for Home Graph (from your action's service account); unset: no calls",
    )

    @model_validator(mode="after")
    def _defaults_under_data_dir(self) -> HubSettings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'vakt.db'}"
        if "media_dir" not in self.model_fields_set:
            self.media_dir = self.data_dir / "media"
        if "models_dir" not in self.model_fields_set:
            self.models_dir = self.data_dir / "models"
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("TLS needs both tls_cert and tls_key")
        return self

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None
