"""The lock's non-volatile memory (L14.3, L10.3): two checksummed copies (A/B), written atomically.

Each write goes to the copy that does not hold the newest good memory, with the next generation number
and a SHA-256 of its content; the copy itself is replaced atomically (temporary file, fsync,
``os.replace``, fsync of the folder). A power cut at any instant, or one copy damaged later (worn
flash, a torn sector), leaves the other: the lock loads the newest copy that checks out.

If no copy checks out the lock does not start factory-fresh (that would open the menu to anyone at the
door, L2.1): ``load`` raises ``MemoryLostError`` and the lock stays locked, refusing the menu, until a
factory reset at the inside panel (L12.1) or a restore from the app. See docs/lock.md.

The HMAC key of codes and cards is not part of this memory: it lives in the secure element
(``vakt.lock.secure_element``), its own file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field, ValidationError

from vakt.lock.credentials import CredentialStore
from vakt.lock.secure_element import (
    FileSecureElement,
    InMemorySecureElement,
    SecureElement,
    SecureElementError,
)
from vakt.lock.types import LockSettings, OperatingMode

log = logging.getLogger(__name__)

MAGIC = b"vakt-lock-memory/2"


class CorruptStateError(ValueError):
    """The stored document is not a valid lock memory; the message says what is wrong."""


class MemoryLostError(CorruptStateError):
    """Something was stored but no copy of it can be read: the lock must not start factory-fresh."""


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
    secure_element: SecureElement

    def load(self) -> LockMemory | None:
        """The stored memory; None when nothing was ever stored; MemoryLostError when none is readable."""
        ...

    def save(self, memory: LockMemory) -> None: ...


class InMemoryStore:
    """Non-volatile memory kept in a string (tests, emulators without a state file)."""

    def __init__(self, text: str | None = None) -> None:
        self.text = text
        self.secure_element: SecureElement = InMemorySecureElement()

    def load(self) -> LockMemory | None:
        if self.text is None:
            return None
        try:
            return parse_memory(self.text)
        except CorruptStateError as exc:
            raise MemoryLostError(str(exc)) from exc

    def save(self, memory: LockMemory) -> None:
        self.text = memory.model_dump_json()


@dataclass(frozen=True, slots=True)
class _Copy:
    slot: Path
    generation: int
    memory: LockMemory


class FileStore:
    """Two copies ``<stem>.a<suffix>`` and ``<stem>.b<suffix>`` next to ``path``; key in ``<stem>.key``."""

    def __init__(self, path: Path | str, secure_element: SecureElement | None = None) -> None:
        self.path = Path(path)  # the single file of stores written before A/B (migrated at load)
        self.slots = (
            self.path.with_name(f"{self.path.stem}.a{self.path.suffix}"),
            self.path.with_name(f"{self.path.stem}.b{self.path.suffix}"),
        )
        key_file = self.path.with_name(f"{self.path.stem}.key")
        self.secure_element = secure_element or FileSecureElement(key_file)
        self._newest: tuple[Path, int] | None = None  # the copy the next write must not replace
        self.fallback: str | None = None  # set by load when a damaged copy was passed over

    def load(self) -> LockMemory | None:
        folder = self.path.parent
        # A write cut short by power loss leaves only its temporary file; the copies are intact.
        for slot in (*self.slots, self.path):
            for stale in folder.glob(f".{slot.name}.*.tmp"):
                stale.unlink(missing_ok=True)
        self.fallback = None
        good: list[_Copy] = []
        damaged: list[tuple[Path, str]] = []
        for slot in self.slots:
            try:
                copy = read_copy(slot)
            except FileNotFoundError:
                continue
            except CorruptStateError as exc:
                damaged.append((slot, str(exc)))
                continue
            good.append(copy)
        if not good:
            return self._no_good_copy(damaged)
        newest = max(good, key=lambda c: c.generation)
        self._newest = (newest.slot, newest.generation)
        for slot, reason in damaged:
            kept = move_aside(slot)
            self.fallback = f"{reason}; kept as {kept.name}; loaded {newest.slot.name}"
            log.error("lock memory copy damaged, using the other copy: %s", self.fallback)
        return newest.memory

    def _no_good_copy(self, damaged: list[tuple[Path, str]]) -> LockMemory | None:
        if damaged:
            reasons = "; ".join(reason for _, reason in damaged)
            raise MemoryLostError(f"no copy of the lock memory can be read ({reasons})")
        if not self.path.exists():
            if self.secure_element.has_key():  # a key without a memory: erased, not factory-new
                raise MemoryLostError("the lock memory copies are gone but its secure element holds a key")
            return None  # factory-new: nothing was ever stored
        try:  # a store from before A/B copies: one plain JSON file
            text = self.path.read_text(encoding="utf-8")
            memory = parse_memory(text, self.path.name)
        except (OSError, UnicodeDecodeError, CorruptStateError) as exc:
            raise MemoryLostError(f"the lock memory {self.path.name} cannot be read: {exc}") from exc
        return memory

    def save(self, memory: LockMemory) -> None:
        if self._newest is None:
            self._newest = self._scan()
        current_slot, generation = self._newest if self._newest else (self.slots[1], 0)
        target = self.slots[0] if current_slot == self.slots[1] else self.slots[1]
        write_atomic(target, encode_copy(memory, generation + 1))
        self._newest = (target, generation + 1)
        if self.path.exists():  # the old single file held the key: it goes once a copy is written
            self.path.unlink()

    def _scan(self) -> tuple[Path, int] | None:
        best: tuple[Path, int] | None = None
        for slot in self.slots:
            try:
                copy = read_copy(slot)
            except (FileNotFoundError, CorruptStateError):
                continue
            if best is None or copy.generation > best[1]:
                best = (slot, copy.generation)
        return best


def encode_copy(memory: LockMemory, generation: int) -> bytes:
    """Header line (magic, generation, length, SHA-256 of generation and body), then the JSON body."""
    body = memory.model_dump_json().encode()
    digest = hashlib.sha256(f"{generation}\n".encode() + body).hexdigest()
    return b"%s %d %d %s\n%s" % (MAGIC, generation, len(body), digest.encode(), body)


def read_copy(slot: Path) -> _Copy:
    """One copy, checked; FileNotFoundError when absent, CorruptStateError saying what is wrong."""
    try:
        data = slot.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise CorruptStateError(f"cannot read {slot.name}: {exc}") from exc
    header, sep, body = data.partition(b"\n")
    fields = header.split(b" ")
    if not sep or len(fields) != 4 or fields[0] != MAGIC:
        raise CorruptStateError(f"{slot.name} has no valid header ({len(data)} bytes)")
    try:
        generation, length = int(fields[1]), int(fields[2])
        digest = fields[3].decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise CorruptStateError(f"{slot.name} has a damaged header") from None
    if len(body) != length:
        raise CorruptStateError(f"{slot.name} is truncated ({len(body)} of {length} bytes)")
    if hashlib.sha256(f"{generation}\n".encode() + body).hexdigest() != digest:
        raise CorruptStateError(f"{slot.name} fails its checksum")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise CorruptStateError(f"{slot.name} is not text") from None
    return _Copy(slot, generation, parse_memory(text, slot.name))


def move_aside(path: Path) -> Path:
    n = 1
    while (target := path.with_name(f"{path.name}.corrupt-{n}")).exists():
        n += 1
    os.replace(path, target)
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


@dataclass(frozen=True, slots=True)
class Boot:
    """What the lock found in its memory at power-on."""

    memory: LockMemory
    recovered_from: str | None = None  # a damaged copy was passed over (the other one loaded)
    lost: str | None = None  # nothing readable: the lock stays locked until reset or restored


def boot(store: MemoryStore) -> Boot:
    """Load the memory, move a key left in an old store into the secure element, bind hashing to it."""
    try:
        memory = store.load()
        key_present = store.secure_element.has_key()
    except (MemoryLostError, SecureElementError) as exc:
        log.error("lock memory unreadable; the lock stays locked until a factory reset or a restore: %s", exc)
        placeholder = LockMemory(paired=True)  # the gateway's pairing stays, so the app can restore it
        placeholder.credentials.bind(store.secure_element)
        return Boot(placeholder, lost=str(exc))
    fresh = memory is None
    if memory is None:
        memory = LockMemory()
    memory.credentials.bind(store.secure_element)
    legacy = memory.credentials.legacy_secret
    if legacy is not None:
        if not key_present:
            store.secure_element.adopt_key(legacy)
        memory.credentials.legacy_secret = None
    elif not key_present and any(c.secret_hash for c in memory.credentials.items):
        log.error(
            "the secure element has no key: stored door codes and cards no longer match; add them again"
        )
    if fresh or legacy is not None or (isinstance(store, FileStore) and store.path.exists()):
        _try_save(store, memory)  # first boot, or migration: the key leaves the store now
    recovered = store.fallback if isinstance(store, FileStore) else None
    return Boot(memory, recovered_from=recovered)


def _try_save(store: MemoryStore, memory: LockMemory) -> None:
    try:
        store.save(memory)
    except OSError as exc:  # the lock still runs from RAM; the next successful write catches up
        log.error("cannot write lock memory at boot: %s", exc)
