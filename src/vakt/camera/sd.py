"""The micro SD card (C4): status, capacity/used/free, and loop recording that overwrites the oldest
clips when the card is full (C4.3). ``SdCard`` is pure logic; ``SdFolder`` keeps it in a folder."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

log = logging.getLogger(__name__)

MB = 1024 * 1024


class SdStatus(StrEnum):
    ABSENT = "absent"
    NOT_INITIALIZED = "not_initialized"
    INITIALIZING = "initializing"
    NORMAL = "normal"
    ERROR = "error"


class SdError(Exception):
    """An SD operation that is not possible in the card's current state."""


@dataclass(frozen=True, slots=True)
class Recording:
    name: str
    size: int


@dataclass
class SdCard:
    """Pure state of the card slot: no files, no clock."""

    capacity: int = 0
    status: SdStatus = SdStatus.ABSENT
    recordings: list[Recording] = field(default_factory=list)  # oldest first

    @property
    def used(self) -> int:
        return sum(r.size for r in self.recordings)

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.used)

    @property
    def writable(self) -> bool:
        return self.status is SdStatus.NORMAL

    def insert(self, capacity: int, initialized: bool = False) -> None:
        if self.status is not SdStatus.ABSENT:
            raise SdError("a card is already inserted")
        if capacity <= 0:
            raise SdError("card capacity must be positive")
        self.capacity = capacity
        self.status = SdStatus.NORMAL if initialized else SdStatus.NOT_INITIALIZED
        self.recordings = []

    def remove(self) -> None:
        if self.status is SdStatus.ABSENT:
            raise SdError("no card inserted")
        self.status = SdStatus.ABSENT
        self.capacity = 0
        self.recordings = []

    def fault(self) -> None:
        if self.status is SdStatus.ABSENT:
            raise SdError("no card inserted")
        self.status = SdStatus.ERROR

    def begin_initialize(self) -> list[Recording]:
        """C4.1: formatting erases everything; returns what was erased."""
        if self.status is SdStatus.ABSENT:
            raise SdError("no card inserted")
        if self.status is SdStatus.INITIALIZING:
            raise SdError("the card is already initializing")
        erased, self.recordings = self.recordings, []
        self.status = SdStatus.INITIALIZING
        return erased

    def finish_initialize(self) -> None:
        if self.status is SdStatus.INITIALIZING:
            self.status = SdStatus.NORMAL

    def make_room(self, size: int, keep: str | None = None) -> list[Recording]:
        """Loop recording (C4.3): drop the oldest recordings until ``size`` more bytes fit."""
        if size > self.capacity:
            raise SdError(f"{size} bytes never fit on a {self.capacity}-byte card")
        dropped: list[Recording] = []
        while self.used + size > self.capacity:
            victim = next((r for r in self.recordings if r.name != keep), None)
            if victim is None:
                break
            self.recordings.remove(victim)
            dropped.append(victim)
        return dropped

    def add(self, recording: Recording) -> None:
        self.recordings = [r for r in self.recordings if r.name != recording.name] + [recording]

    def resize(self, name: str, size: int) -> None:
        self.recordings = [Recording(r.name, size) if r.name == name else r for r in self.recordings]

    def summary(self) -> dict[str, object]:
        return {
            "status": self.status.value,
            "capacity": self.capacity,
            "used": self.used,
            "free": self.free,
            "recordings": len(self.recordings),
        }


class SdFolder:
    """The card backed by a folder: recordings are files, loop overwrite deletes the oldest files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.card = SdCard()

    def insert(self, capacity: int, initialized: bool = False) -> None:
        self.card.insert(capacity, initialized)
        if initialized:
            self.folder.mkdir(parents=True, exist_ok=True)
            for path in sorted(self.folder.glob("*.mp4"), key=lambda p: p.stat().st_mtime):
                self.card.add(Recording(path.name, path.stat().st_size))
            self.make_room(0)

    def initialize_files(self) -> None:
        for recording in self.card.begin_initialize():
            (self.folder / recording.name).unlink(missing_ok=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        for stray in self.folder.glob("*"):
            if stray.is_file():
                stray.unlink()

    def make_room(self, size: int, keep: str | None = None) -> list[Recording]:
        dropped = self.card.make_room(size, keep)
        for recording in dropped:
            log.info("SD card full: overwriting the oldest recording %s (C4.3)", recording.name)
            (self.folder / recording.name).unlink(missing_ok=True)
        return dropped
