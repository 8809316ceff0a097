"""Sealed secrets for one device (L14.1): door codes travel hub -> device only encrypted.

Token: ``v1.`` + base64url(nonce(12) || AES-256-GCM ciphertext+tag). The key is HKDF-SHA256 of the
target device's verification code (info SEAL_INFO); the associated data binds the token to the
device serial and purpose, so a sealed code for one lock cannot be replayed to another.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vakt.protocol.credentials import derive_key
from vakt.protocol.messages import ProtocolError

SEAL_INFO = b"vakt sealed secret v1"
TOKEN_PREFIX = "v1."
MAX_SECRET_BYTES = 1024


class SealedError(ProtocolError):
    """A sealed token that cannot be opened: malformed, for another device, or tampered with."""


def _aad(serial: str, purpose: str) -> bytes:
    return f"{serial}|{purpose}".encode()


def seal(code: str, serial: str, secret: str, purpose: str = "credential") -> str:
    """Encrypt ``secret`` for the device (serial, verification code); returns a text token."""
    data = secret.encode()
    if len(data) > MAX_SECRET_BYTES:
        raise ValueError(f"secret of {len(data)} bytes exceeds {MAX_SECRET_BYTES}")
    nonce = os.urandom(12)
    sealed = AESGCM(derive_key(code, SEAL_INFO)).encrypt(nonce, data, _aad(serial, purpose))
    return TOKEN_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def unseal(code: str, serial: str, token: str, purpose: str = "credential") -> str:
    """Decrypt a token made by :func:`seal`; raise SealedError when it is not valid for this device."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
        raise SealedError(f"sealed secret must be a string starting with {TOKEN_PREFIX!r}")
    body = token[len(TOKEN_PREFIX) :]
    if len(body) > 4 * MAX_SECRET_BYTES:
        raise SealedError("sealed secret too long")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise SealedError("sealed secret is not base64url") from None
    if len(raw) < 12 + 16:
        raise SealedError("sealed secret too short")
    try:
        plain = AESGCM(derive_key(code, SEAL_INFO)).decrypt(raw[:12], raw[12:], _aad(serial, purpose))
    except InvalidTag:
        raise SealedError("sealed secret does not open for this device (wrong key or tampered)") from None
    try:
        return plain.decode()
    except UnicodeDecodeError:
        raise SealedError("sealed secret is not UTF-8 text") from None
