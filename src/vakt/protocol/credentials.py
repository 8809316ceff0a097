"""Device MQTT credentials, derived from the verification code printed on the device's QR label.

username = the serial; password = base64url(HKDF-SHA256(code, salt="vakt/v1", info=MQTT_INFO, 24 bytes)).
The hub, having scanned the QR code, registers the same pair with the broker; the code itself never
travels over the network. Before the hub binds a device to an account it asks for a proof (A2, C3.2):
``device.prove {nonce}`` answered with HMAC-SHA256(password, "<serial>|<nonce>"), which only a device
holding the code on its label can compute.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vakt.protocol.qr import DeviceLabel

HKDF_SALT = b"vakt/v1"
MQTT_INFO = b"vakt mqtt password v1"


def derive_key(code: str, info: bytes, length: int = 32) -> bytes:
    """A key for one purpose (``info``) derived from a device's verification code."""
    if not code:
        raise ValueError("verification code must not be empty")
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=HKDF_SALT, info=info).derive(code.encode())


def device_password(code: str) -> str:
    """The MQTT password of the device whose verification code is ``code``."""
    return base64.urlsafe_b64encode(derive_key(code, MQTT_INFO, 24)).decode().rstrip("=")


PROVE_COMMAND = "device.prove"


def device_proof(password: str, serial: str, nonce: str) -> str:
    """The answer to ``device.prove``: shows the device holds the code ``password`` was derived from."""
    digest = hmac.new(password.encode(), f"{serial}|{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def proof_matches(code: str, serial: str, nonce: str, proof: object) -> bool:
    """Whether ``proof`` answers ``nonce`` for the device whose verification code is ``code``."""
    expected = device_proof(device_password(code), serial, nonce)
    return isinstance(proof, str) and hmac.compare_digest(proof.encode(), expected.encode())


@dataclass(frozen=True, slots=True)
class DeviceCredentials:
    username: str
    password: str

    @classmethod
    def derive(cls, serial: str, code: str) -> DeviceCredentials:
        return cls(username=serial, password=device_password(code))

    @classmethod
    def from_label(cls, label: DeviceLabel) -> DeviceCredentials:
        return cls.derive(label.serial, label.code)
