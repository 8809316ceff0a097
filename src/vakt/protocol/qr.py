"""The QR label printed on every device (G4, A2): ``VAKT:1;S=<serial>;C=<verification code>;M=<model>``."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vakt.protocol.messages import ProtocolError
from vakt.protocol.topics import SERIAL_PATTERN

QR_PREFIX = "VAKT:1"
MAX_QR_CHARS = 256
_FIELDS = {"S": "serial", "C": "code", "M": "model"}


class QrError(ProtocolError):
    """A QR payload that is not a vakt device label; the message says why."""


class DeviceLabel(BaseModel):
    """What the QR label carries: enough for the hub to register the device with the broker."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    serial: str = Field(pattern=SERIAL_PATTERN.pattern, description="device serial number")
    code: str = Field(
        pattern=r"^[A-Za-z0-9]{6,32}$", description="verification code: the device's shared secret"
    )
    model: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$", description="device model, e.g. VG-1 or VL-100")

    def to_qr(self) -> str:
        return f"{QR_PREFIX};S={self.serial};C={self.code};M={self.model}"


def parse_qr(text: str) -> DeviceLabel:
    """Parse a scanned QR payload; raise QrError with a readable reason when it is not valid."""
    text = text.strip()
    if len(text) > MAX_QR_CHARS:
        raise QrError(f"QR payload of {len(text)} characters exceeds {MAX_QR_CHARS}")
    head, _, rest = text.partition(";")
    if head != QR_PREFIX:
        raise QrError(f"not a vakt device QR code (expected it to start with {QR_PREFIX!r})")
    values: dict[str, str] = {}
    for part in filter(None, rest.split(";")):
        key, sep, value = part.partition("=")
        if not sep or not re.fullmatch(r"[A-Z]", key):
            raise QrError(f"malformed QR field {part!r} (expected KEY=value)")
        if key not in _FIELDS:
            raise QrError(f"unknown QR field {key!r}")
        if _FIELDS[key] in values:
            raise QrError(f"QR field {key!r} appears twice")
        values[_FIELDS[key]] = value
    missing = [k for k, name in _FIELDS.items() if name not in values]
    if missing:
        raise QrError(f"QR code lacks field(s) {', '.join(missing)}")
    try:
        return DeviceLabel(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise QrError(f"invalid QR field {first['loc'][0]}: {first['msg']}") from None
