"""The cloud tier on any S3-compatible store (C7.1, C10.1), with aiobotocore.

aiobotocore, because the hub is asyncio and it is botocore itself (SigV4, the standard retry mode,
every S3 call), kept by the aio-libs project; it exposes the multipart calls one by one, so the hub
keeps its own resume cursor (upload id and the parts the store has) in the database and, after a
link or process failure, asks the store which parts it holds and sends only the rest: no object is
uploaded twice and none is lost. (obstore's managed multipart upload cannot resume across a restart.)

Objects smaller than one part go in one PUT. Errors are said in words (clock skew, expired or wrong
credentials, a full bucket, an unreachable endpoint) and turn into `StoreUnavailable`: the uploader
keeps the segment queued and retries with backoff; nothing local is deleted before it is uploaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from vakt.media.cloud import MediaStore, StoreUnavailable

log = logging.getLogger(__name__)
MiB = 1024 * 1024


class S3Settings(BaseSettings):
    """`VAKT_S3_*`: the S3 cloud tier is on when a bucket is named."""

    model_config = SettingsConfigDict(env_prefix="VAKT_S3_", extra="ignore")

    endpoint_url: str | None = Field(
        None, description="e.g. https://s3.eu-central-1.amazonaws.com; none: AWS"
    )
    bucket: str = Field("", max_length=63, description="bucket for footage; empty: no S3 tier")
    region: str = Field("us-east-1", max_length=64)
    access_key_id: str = Field("", max_length=256)
    secret_access_key: SecretStr = SecretStr("")
    prefix: str = Field("vakt/", max_length=200, description="key prefix of every object")
    part_size: int = Field(8 * MiB, ge=1024, le=5 * 1024 * MiB, description="multipart part (S3: >= 5 MiB)")
    connect_timeout_s: float = Field(5.0, gt=0, le=120)
    read_timeout_s: float = Field(30.0, gt=0, le=600)
    max_attempts: int = Field(3, ge=1, le=10, description="botocore's own retries of one call")
    retention_days: int = Field(30, ge=0, le=3650, description="cloud footage older than this goes; 0: kept")
    retention_max_gb: float | None = Field(
        None, gt=0, description="cloud footage above this, oldest first, goes"
    )

    @property
    def enabled(self) -> bool:
        return bool(self.bucket)


@dataclass
class UploadCursor:
    """Where a multipart upload stands: kept after every part, so an interrupted upload resumes."""

    upload_id: str
    fingerprint: str  # of the file being sent: a different file under the same key starts over
    size: int
    parts: list[tuple[int, str]] = field(default_factory=list)  # (part number, ETag), 1..n in order


class CursorStore(Protocol):
    async def load(self, key: str) -> UploadCursor | None: ...
    async def save(self, key: str, cursor: UploadCursor) -> None: ...
    async def clear(self, key: str) -> None: ...


class MemoryCursors:
    """Cursors in memory (the benchmark; the hub keeps them in its database)."""

    def __init__(self) -> None:
        self.cursors: dict[str, UploadCursor] = {}

    async def load(self, key: str) -> UploadCursor | None:
        return self.cursors.get(key)

    async def save(self, key: str, cursor: UploadCursor) -> None:
        self.cursors[key] = cursor

    async def clear(self, key: str) -> None:
        self.cursors.pop(key, None)


@dataclass
class S3Stats:
    """What was sent, for the status and the tests that prove nothing went twice."""

    objects_put: int = 0  # single PUTs and completed multipart uploads
    parts_sent: int = 0
    uploads_resumed: int = 0
    completed: dict[str, int] = field(default_factory=dict)  # key -> times completed


def fingerprint(path: Path) -> str:
    """Size and the first 64 KiB (a sealed file's header holds its random ephemeral key)."""
    with path.open("rb") as f:
        head = f.read(64 * 1024)
    return hashlib.sha256(head + str(path.stat().st_size).encode()).hexdigest()


ERROR_WORDS = {
    "RequestTimeTooSkewed": "the hub's clock differs too much from the cloud store's; set the hub's time",
    "ExpiredToken": "the cloud store credentials have expired; enter new ones (VAKT_S3_ACCESS_KEY_ID)",
    "InvalidAccessKeyId": "the cloud store does not know this access key (VAKT_S3_ACCESS_KEY_ID)",
    "SignatureDoesNotMatch": "the cloud store secret key is wrong (VAKT_S3_SECRET_ACCESS_KEY)",
    "AccessDenied": "the cloud store refuses access to the bucket with these credentials",
    "NoSuchBucket": "the cloud store has no such bucket (VAKT_S3_BUCKET)",
    "QuotaExceeded": "the cloud bucket is full (its quota is reached)",
    "EntityTooLarge": "the cloud store refuses an object this large",
}


def explain(exc: BaseException) -> str:
    """One line a person understands for an S3 failure."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ERROR_WORDS:
            return ERROR_WORDS[code]
        if status == 507:
            return ERROR_WORDS["QuotaExceeded"]
        return (
            f"the cloud store answered {code or status}: {exc.response.get('Error', {}).get('Message', '')}"
        )
    if isinstance(exc, BotoCoreError):
        return f"the cloud store cannot be reached ({exc})"
    return f"the cloud store failed ({type(exc).__name__}: {exc})"


class S3Store(MediaStore):
    def __init__(self, settings: S3Settings, cursors: CursorStore | None = None) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        self.prefix = settings.prefix
        self.part_size = settings.part_size
        self.cursors: CursorStore = cursors or MemoryCursors()
        self.stats = S3Stats()
        self.single_put_limit = settings.part_size
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None

    async def _s3(self) -> Any:
        if self._client is None:
            config = AioConfig(
                connect_timeout=self.settings.connect_timeout_s,
                read_timeout=self.settings.read_timeout_s,
                retries={"max_attempts": self.settings.max_attempts, "mode": "standard"},
                s3={"addressing_style": "path"},
            )
            self._client = await self._stack.enter_async_context(
                get_session().create_client(
                    "s3",
                    endpoint_url=self.settings.endpoint_url,
                    region_name=self.settings.region,
                    aws_access_key_id=self.settings.access_key_id or None,
                    aws_secret_access_key=self.settings.secret_access_key.get_secret_value() or None,
                    config=config,
                )
            )
        return self._client

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None

    def _key(self, key: str) -> str:
        if ".." in key.split("/") or key.startswith("/"):
            raise ValueError(f"key escapes the store: {key}")
        return self.prefix + key

    async def put_bytes(self, key: str, data: bytes) -> None:
        full = self._key(key)
        try:
            s3 = await self._s3()
            await s3.put_object(Bucket=self.bucket, Key=full, Body=data)
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailable(explain(exc)) from exc
        self.stats.objects_put += 1
        self.stats.completed[full] = self.stats.completed.get(full, 0) + 1

    async def put(self, key: str, source: Path) -> None:
        full = self._key(key)
        try:
            size = source.stat().st_size
            if size <= self.part_size:
                s3 = await self._s3()
                await s3.put_object(Bucket=self.bucket, Key=full, Body=source.read_bytes())
            else:
                await self._multipart(full, source, size)
        except (BotoCoreError, ClientError, OSError) as exc:
            raise StoreUnavailable(explain(exc)) from exc
        self.stats.objects_put += 1
        self.stats.completed[full] = self.stats.completed.get(full, 0) + 1

    async def _resume(self, full: str, source: Path, size: int) -> UploadCursor:
        s3 = await self._s3()
        print_ = fingerprint(source)
        cursor = await self.cursors.load(full)
        if cursor is not None and (cursor.fingerprint != print_ or cursor.size != size):
            log.info("upload of %s: the file changed since the interrupted upload; starting over", full)
            with contextlib.suppress(ClientError):
                await s3.abort_multipart_upload(Bucket=self.bucket, Key=full, UploadId=cursor.upload_id)
            await self.cursors.clear(full)
            cursor = None
        if cursor is not None:
            try:
                held = await self._parts_held(full, cursor.upload_id)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                    raise
                log.info("upload of %s: the store forgot the interrupted upload; starting over", full)
                await self.cursors.clear(full)
                cursor = None
            else:
                # the store is the truth: parts it holds whole, 1..n without a hole
                cursor.parts = []
                for number, (etag, part_size) in sorted(held.items()):
                    if number != len(cursor.parts) + 1 or part_size != self._part_length(number, size):
                        break
                    cursor.parts.append((number, etag))
                self.stats.uploads_resumed += 1
                log.info("upload of %s resumes after part %d", full, len(cursor.parts))
        if cursor is None:
            started = await s3.create_multipart_upload(Bucket=self.bucket, Key=full)
            cursor = UploadCursor(str(started["UploadId"]), print_, size)
            await self.cursors.save(full, cursor)
        return cursor

    def _part_length(self, number: int, size: int) -> int:
        return min(self.part_size, size - (number - 1) * self.part_size)

    async def _parts_held(self, full: str, upload_id: str) -> dict[int, tuple[str, int]]:
        s3 = await self._s3()
        held: dict[int, tuple[str, int]] = {}
        marker = 0
        while True:
            page = await s3.list_parts(
                Bucket=self.bucket, Key=full, UploadId=upload_id, PartNumberMarker=marker
            )
            for part in page.get("Parts", []):
                held[int(part["PartNumber"])] = (str(part["ETag"]), int(part["Size"]))
            if not page.get("IsTruncated"):
                return held
            marker = int(page["NextPartNumberMarker"])

    async def _multipart(self, full: str, source: Path, size: int) -> None:
        s3 = await self._s3()
        cursor = await self._resume(full, source, size)
        total = -(-size // self.part_size)
        with source.open("rb") as f:
            for number in range(len(cursor.parts) + 1, total + 1):
                f.seek((number - 1) * self.part_size)
                body = f.read(self.part_size)
                sent = await s3.upload_part(
                    Bucket=self.bucket, Key=full, UploadId=cursor.upload_id, PartNumber=number, Body=body
                )
                self.stats.parts_sent += 1
                cursor.parts.append((number, str(sent["ETag"])))
                await self.cursors.save(full, cursor)
        await s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key=full,
            UploadId=cursor.upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in cursor.parts]},
        )
        await self.cursors.clear(full)

    async def exists(self, key: str) -> bool:
        s3 = await self._s3()
        try:
            await s3.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return False
            raise StoreUnavailable(explain(exc)) from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(explain(exc)) from exc
        return True

    async def read_range(self, key: str, start: int, end: int) -> bytes:
        if end <= start:
            return b""
        s3 = await self._s3()
        try:
            answer = await s3.get_object(
                Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{end - 1}"
            )
            async with answer["Body"] as body:
                return bytes(await body.read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(f"the cloud store has no object {key}") from exc
            raise StoreUnavailable(explain(exc)) from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(explain(exc)) from exc

    async def delete(self, keys: list[str]) -> None:
        s3 = await self._s3()
        try:
            for first in range(0, len(keys), 1000):
                batch = [{"Key": self._key(k)} for k in keys[first : first + 1000]]
                await s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailable(explain(exc)) from exc

    async def list_objects(self, under: str = "") -> dict[str, int]:
        """Every object whose key starts with `under` -> its size."""
        s3 = await self._s3()
        found: dict[str, int] = {}
        try:
            paginator = s3.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(under)):
                for item in page.get("Contents", []):
                    found[str(item["Key"])[len(self.prefix) :]] = int(item["Size"])
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailable(explain(exc)) from exc
        return found

    async def delete_prefix(self, prefix: str) -> int:
        keys = list(await self.list_objects(prefix))
        await self.delete(keys)
        return len(keys)
