"""The lock's non-volatile memory (L14.3, L10.3): one JSON document, written atomically.

A write goes to a temporary file in the same folder, is fsynced, replaces the old file with
``os.replace`` and then the folder is fsynced, so a power cut at any instant leaves the old or the new
document. A document that cannot be read is moved aside (``<name>.corrupt-<n>``) with a logged error and
the lock starts factory-fresh; nothing is silently overwritten.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field, ValidationError

from vakt.lock.credentials import CredentialStore
from vakt.lock.types import LockSettings, OperatingMode

log = logging.getLogger(__name__)


class CorruptStateError(ValueError):
    """The stored document is not a valid lock memory; the message says what is wrong."""


class LockMemory(BaseModel):
    """Everything that survives taking the batteries out."""

    version: int = 1
    credentials: CredentialStore = Field(default_factory=CredentialStore)
    settings: LockSettings = Field(default_factory=LockSettings)
    failed_attempts: int = Field(0, ge=0, description="failed verifications in a row (L10.2, L10.3)")
    lockout_until: float | None = Field(None, description="lock clock time the lockout ends (L10.3)")
    operating_mode: OperatingMode = OperatingMode.Normal
    paired: bool = False


class MemoryStore(Protocol):
    def load(self) -> LockMemory | None:
        """The stored memory, None when nothing was ever stored; CorruptStateError when unreadable."""

    def save(self, memory: LockMemory) -> None: ...


class InMemoryStore:
    """Non-volatile memory kept in a string (tests, emulators without a state file)."""

    def __init__(self, text: str | None = None) -> None:
        self.text = text

    def load(self) -> LockMemory | None:
        return None if self.text is None else parse_memory(self.text)

    def save(self, memory: LockMemory) -> None:
        self.text = memory.model_dump_json()


class FileStore:
    """Non-volatile memory in a JSON file, replaced atomically on every write."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def load(self) -> LockMemory | None:
        # A write cut short by power loss leaves only its temporary file; the real one is intact.
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise CorruptStateError(f"cannot read lock state {self.path}: {exc}") from exc
        return parse_memory(text, str(self.path))

    def save(self, memory: LockMemory) -> None:
        write_atomic(self.path, memory.model_dump_json().encode())

    def move_aside(self) -> Path:
        """Keep an unreadable file for inspection under a new name; returns that name."""
        n = 1
        while (target := self.path.with_name(f"{self.path.name}.corrupt-{n}")).exists():
            n += 1
        os.replace(self.path, target)
        return target


def parse_memory(text: str, where: str = "lock state") -> LockMemory:
    try:
        return LockMemory.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CorruptStateError(
            f"{where} is not a valid lock memory ({exc.error_count()} errors; first: "
            f"{'.'.join(str(p) for p in first['loc']) or '<document>'}: {first['msg']})"
        ) from exc


def write_atomic(path: Path, data: bytes) -> None:
    """Temp file + fsync + os.replace + fsync of the folder: old or new content, never a mix."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_or_recover(store: MemoryStore) -> tuple[LockMemory, str | None]:
    """Load the memory; an unreadable one is moved aside (file stores) and a fresh memory returned.

    Returns the memory and, after a recovery, the reason (the lock reports it in ``state()``).
    """
    try:
        memory = store.load()
    except CorruptStateError as exc:
        reason = str(exc)
        if isinstance(store, FileStore):
            kept = store.move_aside()
            reason += f"; moved aside to {kept.name}"
        log.error("lock memory unreadable, starting factory-fresh: %s", reason)
        fresh = LockMemory()
        _try_save(store, fresh)
        return fresh, reason
    if memory is None:
        memory = LockMemory()
        _try_save(store, memory)
    return memory, None


def _try_save(store: MemoryStore, memory: LockMemory) -> None:
    try:
        store.save(memory)
    except OSError as exc:  # the lock still runs from RAM; the next successful write catches up
        log.error("cannot write lock memory at boot: %s", exc)
