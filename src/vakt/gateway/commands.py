"""Arguments of the commands the gateway executes, validated before anything reaches the lock."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from vakt.gateway.radio import Placement
from vakt.protocol.client import CommandError

PanelValue = str | int | float | bool | None
A = TypeVar("A", bound=BaseModel)


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoArgs(_Args):
    pass


class OperatingModeArgs(_Args):
    mode: Literal["Normal", "Passage"] = Field(description="Passage = normally-open (L11.1)")


class VolumeArgs(_Args):
    level: Literal["high", "low", "mute"]


CredentialKind = Literal["code", "card"]


class CredentialAddArgs(_Args):
    """Provision a door code or a card from the app (A7); a door code arrives sealed (L14.1)."""

    type: CredentialKind
    sealed: str | None = Field(None, max_length=4096, description="door code sealed for this lock")
    card_uid: str | None = Field(None, pattern=r"^[A-Za-z0-9:_-]{1,64}$")
    user_type: Literal["UnrestrictedUser", "ProgrammingUser", "DisposableUser", "ExpiringUser"] = (
        "UnrestrictedUser"
    )
    name: str | None = Field(None, max_length=64)
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    max_uses: int | None = Field(None, ge=1, le=10_000)

    @model_validator(mode="after")
    def _secret_matches_type(self) -> CredentialAddArgs:
        if self.type == "code" and (self.sealed is None or self.card_uid is not None):
            raise ValueError("a door code needs 'sealed' (and no card_uid)")
        if self.type == "card" and (self.card_uid is None or self.sealed is not None):
            raise ValueError("a card needs 'card_uid' (and no sealed)")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class MemoryRestoreArgs(_Args):
    """Start a lock whose memory is damaged over with one administrator door code, sealed (L14.1)."""

    sealed: str = Field(min_length=1, max_length=4096, description="the new administrator code, sealed")


class CredentialDeleteArgs(_Args):
    type: Literal["code", "card", "fingerprint"]
    index: int = Field(ge=1, le=50)


class PanelInputArgs(_Args):
    """An emulator-only physical input; ``device`` picks an unpaired lock in range (gateway topic)."""

    input: str = Field(min_length=1, max_length=32)
    value: PanelValue = None
    device: str | None = Field(None, max_length=64)


class PairArgs(_Args):
    serial: str = Field(min_length=1, max_length=64, description="the lock to pair (G5)")


class PlacementArgs(Placement):
    """Emulator-only: move a lock relative to the gateway (G6)."""

    model_config = ConfigDict(extra="forbid")
    serial: str = Field(min_length=1, max_length=64)


def parse_args(model: type[A], args: dict[str, Any]) -> A:
    """Validate command args, turning a validation error into a readable CommandError."""
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "args"
        raise CommandError(f"invalid args: {where}: {first['msg']}") from None
