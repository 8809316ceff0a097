"""Cloud tier (C7.1, C10.1): finished segments go to a MediaStore through a queue kept on disk.

Stores are plugins chosen by a `type` field. Only `local` (a directory, e.g. a mounted NAS) ships:
boto3 is not installed here, so an `s3` store is left to a plugin with the same interface.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from vakt.media.durable import make_dirs, publish, write_file

log = logging.getLogger(__name__)


class StoreUnavailable(Exception):
    """The store cannot be reached now; the upload is retried later."""


class LocalStoreConfig(BaseModel):
    type: Literal["local"] = "local"
    root: Path = Field(description="Store directory; it must exist (an unmounted share is unreachable)")


StoreConfig = Annotated[LocalStoreConfig, Field(discriminator="type")]


class MediaStore(ABC):
    @abstractmethod
    async def put(self, key: str, source: Path) -> None:
        """Store `source` under `key`; raise StoreUnavailable when the store cannot be reached."""

    @abstractmethod
    async def exists(self, key: str) -> bool: ...


class LocalStore(MediaStore):
    def __init__(self, config: LocalStoreConfig) -> None:
        self.root = config.root

    def _target(self, key: str) -> Path:
        target = (self.root / key).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise ValueError(f"key escapes the store: {key}")
        return target

    async def put(self, key: str, source: Path) -> None:
        await asyncio.to_thread(self._put, key, source)

    def _put(self, key: str, source: Path) -> None:
        if not self.root.is_dir():
            raise StoreUnavailable(f"store directory {self.root} is not available")
        target = self._target(key)
        try:
            make_dirs(target.parent)
            partial = target.with_name(target.name + ".upload")
            shutil.copyfile(source, partial)
            # durable in the store before the index says "uploaded" (retention may then delete it here)
            publish(partial, target)
        except OSError as exc:
            raise StoreUnavailable(f"store write failed: {exc}") from exc

    async def exists(self, key: str) -> bool:
        return self._target(key).is_file()


def create_store(config: StoreConfig) -> MediaStore:
    if isinstance(config, LocalStoreConfig):
        return LocalStore(config)
    raise ValueError(f"unknown media store type: {config!r}")


@dataclass(frozen=True)
class UploadJob:
    ticket: Path
    source: Path
    key: str


class UploadQueue:
    """One small JSON ticket per pending upload, named in arrival order; survives restarts."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._seq = max((int(p.stem) for p in directory.glob("*.json") if p.stem.isdigit()), default=0)

    def enqueue(self, source: Path, key: str) -> None:
        self._seq += 1
        ticket = self.directory / f"{self._seq:012d}.json"
        write_file(ticket, json.dumps({"source": str(source), "key": key}).encode())

    def pending(self) -> list[UploadJob]:
        jobs = []
        for ticket in sorted(self.directory.glob("*.json")):
            try:
                data = json.loads(ticket.read_text())
                jobs.append(UploadJob(ticket, Path(data["source"]), str(data["key"])))
            except (OSError, ValueError, KeyError) as exc:
                log.error("upload ticket %s is unreadable (%s); dropped", ticket.name, exc)
                ticket.unlink(missing_ok=True)
        return jobs

    def done(self, job: UploadJob) -> None:
        job.ticket.unlink(missing_ok=True)


class Uploader:
    """Uploads queued segments in order; while the store is away it waits and resumes where it stopped."""

    def __init__(
        self,
        store: MediaStore,
        queue: UploadQueue,
        *,
        retry_initial: float = 1.0,
        retry_cap: float = 60.0,
        on_uploaded: Callable[[UploadJob], Awaitable[None]] | None = None,
    ) -> None:
        self.on_uploaded = on_uploaded
        self.store = store
        self.queue = queue
        self.retry_initial = retry_initial
        self.retry_cap = retry_cap
        self.uploaded = 0
        self.available = True
        self._wake = asyncio.Event()

    def submit(self, source: Path, key: str) -> None:
        self.queue.enqueue(source, key)
        self._wake.set()

    async def run(self) -> None:
        delay = self.retry_initial
        while True:
            jobs = self.queue.pending()
            if not jobs:
                self._wake.clear()
                await self._wake.wait()
                continue
            for job in jobs:
                if not await self._upload(job):
                    await self._sleep(delay)
                    delay = min(self.retry_cap, delay * 2)
                    break
                delay = self.retry_initial

    async def _upload(self, job: UploadJob) -> bool:
        if not job.source.exists():
            log.warning("upload of %s skipped: the local file is gone", job.key)
            self.queue.done(job)
            return True
        try:
            await self.store.put(job.key, job.source)
        except StoreUnavailable as exc:
            if self.available:
                log.warning("cloud store unreachable (%s); local recording continues, uploads queued", exc)
            self.available = False
            return False
        if not self.available:
            log.info("cloud store reachable again; resuming uploads at %s", job.key)
        self.available = True
        self.uploaded += 1
        self.queue.done(job)
        if self.on_uploaded is not None:
            try:
                await self.on_uploaded(job)
            except Exception:
                log.exception("recording the upload of %s failed", job.key)
        return True

    async def _sleep(self, delay: float) -> None:
        deadline = time.monotonic() + delay
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(0.0, deadline - time.monotonic()))
