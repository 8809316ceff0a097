"""Cloud tier (C7.1, C10.1): finished segments go to a MediaStore through a queue kept on disk.

Two stores: `local` (a directory, e.g. a mounted NAS, `VAKT_MEDIA_CLOUD`) and S3 (`vakt.media.s3`,
`VAKT_S3_*`). A camera with Image Encryption on has its segments sealed (`vakt.media.encryption`)
into a staging file just before upload; the staging file stays until the store has the whole object,
so a multipart upload cut by a link or process failure resumes on the same bytes.
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
from vakt.media.encryption import (
    CHUNK_SIZE,
    HEADER,
    TAG,
    Header,
    Opener,
    load_public,
    parse_header,
    seal_bytes,
    seal_file,
    sealed_range,
    sealed_size,
)

log = logging.getLogger(__name__)


class StoreUnavailable(Exception):
    """The store cannot be reached now; the upload is retried later."""


class LocalStoreConfig(BaseModel):
    type: Literal["local"] = "local"
    root: Path = Field(description="Store directory; it must exist (an unmounted share is unreachable)")


StoreConfig = Annotated[LocalStoreConfig, Field(discriminator="type")]


class MediaStore(ABC):
    single_put_limit = 0  # objects up to this size go in one request: nothing to resume, no staging file

    async def put_bytes(self, key: str, data: bytes) -> None:
        """Store `data` under `key` in one request (objects up to `single_put_limit`)."""
        raise NotImplementedError

    @abstractmethod
    async def put(self, key: str, source: Path) -> None:
        """Store `source` under `key`; raise StoreUnavailable when the store cannot be reached."""

    @abstractmethod
    async def exists(self, key: str) -> bool: ...

    @abstractmethod
    async def read_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of the object (fewer at its end); StoreUnavailable when unreachable."""

    @abstractmethod
    async def delete(self, keys: list[str]) -> None:
        """Remove the objects (missing ones are no error)."""

    @abstractmethod
    async def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with `prefix` (a deleted camera's footage); how many."""


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

    async def read_range(self, key: str, start: int, end: int) -> bytes:
        return await asyncio.to_thread(self._read_range, key, start, end)

    def _read_range(self, key: str, start: int, end: int) -> bytes:
        try:
            with self._target(key).open("rb") as f:
                f.seek(start)
                return f.read(max(0, end - start))
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise StoreUnavailable(f"store read failed: {exc}") from exc

    async def delete(self, keys: list[str]) -> None:
        for key in keys:
            self._target(key).unlink(missing_ok=True)

    async def delete_prefix(self, prefix: str) -> int:
        folder = self._target(prefix.rstrip("/"))
        found = [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
        await asyncio.to_thread(shutil.rmtree, folder, True)
        return len(found)


async def read_footage(
    store: MediaStore, key: str, start: int, end: int, opener: Opener | None = None
) -> bytes:
    """Plaintext bytes [start, end) of a stored segment (fewer at its end).

    A sealed object (`opener` given) is read chunk by chunk: only the chunks that hold the range are
    fetched, and a changed or cut chunk raises DamagedFootage instead of returning garbage."""
    if opener is None:
        return await store.read_range(key, start, end)
    if start < CHUNK_SIZE:
        # the usual first request of a player (start 0): header and chunks in one round trip
        last = (max(start, end - 1)) // CHUNK_SIZE
        data = await store.read_range(key, 0, HEADER.size + (last + 1) * (CHUNK_SIZE + TAG))
        header = parse_header(data)
        if header.chunk_size == CHUNK_SIZE:
            return _open_range(header, opener, start, end, lambda lo, hi: data[lo:hi])
    header = parse_header(await store.read_range(key, 0, HEADER.size))
    end = min(end, header.plaintext_size)
    if start >= end:
        return b""
    _, lo, hi = sealed_range(header, start, end)
    fetched = await store.read_range(key, lo, hi)
    return _open_range(header, opener, start, end, lambda a, b: fetched[a - lo : b - lo])


def _open_range(
    header: Header, opener: Opener, start: int, end: int, sealed: Callable[[int, int], bytes]
) -> bytes:
    """Open the chunks holding plaintext [start, end); `sealed(lo, hi)` gives those sealed bytes."""
    end = min(end, header.plaintext_size)
    if start >= end:
        return b""
    first, lo, hi = sealed_range(header, start, end)
    plain = opener.open_chunks(header, first, sealed(lo, hi))
    offset = start - first * header.chunk_size
    return plain[offset : offset + (end - start)]


def create_store(config: StoreConfig) -> MediaStore:
    if isinstance(config, LocalStoreConfig):
        return LocalStore(config)
    raise ValueError(f"unknown media store type: {config!r}")


@dataclass(frozen=True)
class UploadJob:
    ticket: Path
    source: Path
    key: str
    seal_for: str | None = None  # the camera's public key (base64): seal before upload (Image Encryption)


@dataclass(frozen=True)
class Uploaded:
    """What reached the store for a job: the object's key and size, and whether it is sealed."""

    job: UploadJob
    key: str
    size: int
    sealed: bool


class UploadQueue:
    """One small JSON ticket per pending upload, named in arrival order; survives restarts."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._seq = max((int(p.stem) for p in directory.glob("*.json") if p.stem.isdigit()), default=0)

    def enqueue(self, source: Path, key: str, seal_for: str | None = None) -> None:
        self._seq += 1
        ticket = self.directory / f"{self._seq:012d}.json"
        write_file(ticket, json.dumps({"source": str(source), "key": key, "seal_for": seal_for}).encode())

    def pending(self) -> list[UploadJob]:
        jobs = []
        for ticket in sorted(self.directory.glob("*.json")):
            try:
                data = json.loads(ticket.read_text())
                seal_for = data.get("seal_for")
                jobs.append(
                    UploadJob(
                        ticket, Path(data["source"]), str(data["key"]), str(seal_for) if seal_for else None
                    )
                )
            except (OSError, ValueError, KeyError, AttributeError) as exc:
                log.error("upload ticket %s is unreadable (%s); dropped", ticket.name, exc)
                ticket.unlink(missing_ok=True)
        return jobs

    def done(self, job: UploadJob) -> None:
        job.ticket.unlink(missing_ok=True)


SEALED_SUFFIX = ".sealed"


class Uploader:
    """Uploads queued segments in order; while the store is away it waits and resumes where it stopped."""

    def __init__(
        self,
        store: MediaStore,
        queue: UploadQueue,
        *,
        retry_initial: float = 1.0,
        retry_cap: float = 60.0,
        on_uploaded: Callable[[Uploaded], Awaitable[None]] | None = None,
    ) -> None:
        self.on_uploaded = on_uploaded
        self.store = store
        self.queue = queue
        self.staging = queue.directory / "staging"
        self.retry_initial = retry_initial
        self.retry_cap = retry_cap
        self.uploaded = 0
        self.available = True
        self.last_error: str | None = None  # shown in the camera status while the store is away
        self._wake = asyncio.Event()

    def submit(self, source: Path, key: str, seal_for: str | None = None) -> None:
        self.queue.enqueue(source, key, seal_for)
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

    def _staged(self, job: UploadJob) -> Path:
        """The sealed copy of a segment, made once and kept until the store has it (same bytes on resume)."""
        assert job.seal_for is not None
        staged = self.staging / (job.key.replace("/", "__") + SEALED_SUFFIX)
        if staged.exists():
            return staged
        make_dirs(self.staging)
        partial = staged.with_name(staged.name + ".tmp")
        seal_file(job.source, partial, load_public(job.seal_for))
        publish(partial, staged)
        return staged

    async def _upload(self, job: UploadJob) -> bool:
        if not job.source.exists():
            log.warning("upload of %s skipped: the local file is gone", job.key)
            self.queue.done(job)
            return True
        key = job.key + SEALED_SUFFIX if job.seal_for else job.key
        size = job.source.stat().st_size
        source = job.source
        try:
            if job.seal_for and sealed_size(size) <= self.store.single_put_limit:
                # one PUT: sealed in memory (a retry seals again and overwrites; nothing to resume)
                data = await asyncio.to_thread(seal_bytes, job.source.read_bytes(), load_public(job.seal_for))
                await self.store.put_bytes(key, data)
                size = len(data)
            else:
                if job.seal_for:
                    source = await asyncio.to_thread(self._staged, job)
                await self.store.put(key, source)
                size = source.stat().st_size
        except StoreUnavailable as exc:
            if self.available:
                log.warning("cloud store unreachable (%s); local recording continues, uploads queued", exc)
            self.available = False
            self.last_error = str(exc)
            return False
        except OSError as exc:  # reading or sealing here (the file went, the disk is full): try again later
            log.error("upload of %s waits: %s", job.key, exc)
            self.last_error = f"the hub cannot prepare {job.key} for upload: {exc.strerror or exc}"
            return False
        if not self.available:
            log.info("cloud store reachable again; resuming uploads at %s", job.key)
        self.available = True
        self.last_error = None
        if self.on_uploaded is not None:
            # recorded before the ticket goes: a crash in between re-puts the same key (an overwrite)
            try:
                await self.on_uploaded(Uploaded(job, key, size, job.seal_for is not None))
            except Exception:
                log.exception("recording the upload of %s failed", job.key)
        self.queue.done(job)
        if source != job.source:
            source.unlink(missing_ok=True)  # the staging file
        self.uploaded += 1  # counted once recorded: whoever waits on it sees the index updated
        return True

    async def _sleep(self, delay: float) -> None:
        deadline = time.monotonic() + delay
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(0.0, deadline - time.monotonic()))
