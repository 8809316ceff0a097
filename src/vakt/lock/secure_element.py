"""The lock's emulated secure element: the per-lock HMAC key for codes and card UIDs (L14.1).

The key lives apart from the credential store (its own file, mode 0600) and never leaves this object:
callers get keyed hashes, never the key. Whoever copies the store (a flash dump, a backup, the state
the lock reports) gets hashes that cannot be checked against a guess without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

KEY_BYTES = 32


class SecureElementError(ValueError):
    """The secure element's key cannot be read; the message says why (never the key)."""


class SecureElement(Protocol):
    def keyed_hash(self, value: str) -> str:
        """HMAC-SHA256 of ``value`` under the lock's key, hex."""
        ...

    def has_key(self) -> bool: ...

    def new_key(self) -> None:
        """Draw a fresh key (factory reset): every stored hash stops matching."""
        ...

    def adopt_key(self, key_hex: str) -> None:
        """Take over a key found in an old store (migration); the caller then forgets it."""
        ...


def _hmac(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _parse_key(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise SecureElementError(f"{where} does not hold a key (not hex)") from None
    if len(key) != KEY_BYTES:
        raise SecureElementError(f"{where} holds {len(key)} bytes, a key has {KEY_BYTES}")
    return key


class InMemorySecureElement:
    """A key in RAM (tests, emulators without a data folder); survives as long as the object."""

    def __init__(self) -> None:
        self._key: bytes | None = None

    def _ensure(self) -> bytes:
        if self._key is None:
            self._key = secrets.token_bytes(KEY_BYTES)
        return self._key

    def keyed_hash(self, value: str) -> str:
        return _hmac(self._ensure(), value)

    def has_key(self) -> bool:
        return self._key is not None

    def new_key(self) -> None:
        self._key = secrets.token_bytes(KEY_BYTES)

    def adopt_key(self, key_hex: str) -> None:
        self._key = _parse_key(key_hex, "the old store's key")

    def __repr__(self) -> str:
        return "InMemorySecureElement(<key hidden>)"


class FileSecureElement:
    """A key in its own file, created with mode 0600, replaced atomically; never logged or exported."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._key: bytes | None = None
        self._tmp = self.path.with_name(f".{self.path.name}.tmp")
        self._tmp.unlink(missing_ok=True)  # a key write cut short by power loss: never committed

    def _load(self) -> bytes | None:
        if self._key is not None:
            return self._key
        try:
            text = self.path.read_text(encoding="ascii")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise SecureElementError(f"cannot read the secure element {self.path.name}: {exc}") from exc
        self._key = _parse_key(text, f"the secure element {self.path.name}")
        return self._key

    def _ensure(self) -> bytes:
        key = self._load()
        if key is None:
            key = secrets.token_bytes(KEY_BYTES)
            self._write(key)
        return key

    def _write(self, key: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._tmp
        # O_EXCL after a stale unlink: the key is never written into a file someone else opened first.
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key.hex().encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        self._key = key

    def keyed_hash(self, value: str) -> str:
        return _hmac(self._ensure(), value)

    def has_key(self) -> bool:
        return self._load() is not None

    def new_key(self) -> None:
        self._write(secrets.token_bytes(KEY_BYTES))
        log.info("secure element %s: new key drawn", self.path.name)

    def adopt_key(self, key_hex: str) -> None:
        self._write(_parse_key(key_hex, "the old store's key"))
        log.info("secure element %s: key moved out of the credential store", self.path.name)

    def __repr__(self) -> str:
        return f"FileSecureElement({str(self.path)!r}, <key hidden>)"
