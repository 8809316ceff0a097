"""The S3 cloud tier on a real S3 server (moto_server, tests/media/s3_server.py): C7.1, C10.1, C6."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.media.s3_server import KEY_ID, REGION, SECRET, S3Server, s3_server  # noqa: F401
from vakt.hub import migrate
from vakt.hub.camera_supervisor import CameraSupervisor
from vakt.hub.cloud_cursors import DbCursors
from vakt.hub.db import make_engine, make_sessionmaker
from vakt.hub.models.cameras import Camera, CloudUpload, Segment
from vakt.hub.models.devices import Device
from vakt.hub.models.users import User
from vakt.hub.secretbox import SecretBox
from vakt.media.cloud import StoreUnavailable, read_footage
from vakt.media.encryption import DamagedFootage, Opener, create_camera_key, sealed_size, unlock
from vakt.media.s3 import S3Settings, S3Store, UploadCursor, explain
from vakt.media.segments import SegmentInfo, segment_path
from vakt.media.settings import MediaSettings

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def s3_settings(server: S3Server, bucket: str, **extra: object) -> S3Settings:
    values: dict[str, object] = {
        "endpoint_url": server.endpoint,
        "bucket": bucket,
        "region": REGION,
        "access_key_id": KEY_ID,
        "secret_access_key": SECRET,
        "part_size": 4096,
        "max_attempts": 1,
        "connect_timeout_s": 2.0,
        "read_timeout_s": 5.0,
    }
    return S3Settings.model_validate(values | extra)


async def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


@dataclass
class World:
    sessionmaker: async_sessionmaker[AsyncSession]
    camera_id: int
    media: Path


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    await migrate.upgrade(engine)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as s:
        user = User(email="o@example.org", username="o", password_hash="x")
        s.add(user)
        await s.flush()
        device = Device(serial="RTSP-9", kind="camera", model="rtsp", name="yard", owner_id=user.id, state={})
        s.add(device)
        await s.flush()
        s.add(Camera(device_id=device.id, main_url="rtsp://camera/live", recording_mode="off"))
        await s.commit()
        camera_id = device.id
    yield World(sessionmaker, camera_id, tmp_path / "media")
    await engine.dispose()


def supervisor(world: World, settings: S3Settings) -> CameraSupervisor:
    media = MediaSettings(s3=settings, upload_retry_cap_s=0.2, min_free_mb=0)
    return CameraSupervisor(world.sessionmaker, SecretBox(os.urandom(32)), None, world.media, media)


async def record(sup: CameraSupervisor, world: World, index: int, size: int = 9000) -> SegmentInfo:
    """A finished segment as the recorder hands it over (file durable, then indexed and queued)."""
    start = T0 + timedelta(seconds=10 * index)
    path = segment_path(world.media, world.camera_id, start)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))
    info = SegmentInfo(world.camera_id, path, start, start + timedelta(seconds=10), size, 100)
    await sup._segment_done(info)
    return info


async def rows(world: World) -> list[Segment]:
    async with world.sessionmaker() as s:
        return list((await s.scalars(select(Segment).order_by(Segment.start))).all())


async def test_outage_local_recording_continues_uploads_resume_nothing_twice(
    s3_server: S3Server,  # noqa: F811
    world: World,
) -> None:
    """C10.1: the link to the store goes down: segments keep being indexed locally and wait; when it is
    back they are uploaded from where it stopped; each object once, every segment in the bucket."""
    bucket = s3_server.new_bucket()
    sup = supervisor(world, s3_settings(s3_server, bucket))
    assert sup.uploader is not None and isinstance(sup.store, S3Store)
    uploader, store = sup.uploader, sup.store
    task = asyncio.create_task(uploader.run())
    try:
        for i in range(3):
            await record(sup, world, i)
        await wait_until(lambda: uploader.uploaded == 3)
        s3_server.relay.down()
        for i in range(3, 8):
            await record(sup, world, i, size=3000 + 2000 * (i % 2))  # single PUTs and multipart
        await wait_until(lambda: not uploader.available)
        assert uploader.last_error is not None and "cannot be reached" in uploader.last_error
        assert len(await rows(world)) == 8, "local recording goes on while the store is away"
        assert all(Path(r.path).exists() for r in await rows(world))
        s3_server.relay.up()
        await wait_until(lambda: uploader.uploaded == 8)
    finally:
        task.cancel()
        await sup.stop()
    indexed = await rows(world)
    objects = s3_server.objects(bucket)
    assert len(objects) == len(indexed) == 8
    for row in indexed:
        assert row.uploaded and row.cloud_key is not None and not row.sealed
        assert objects["vakt/" + row.cloud_key] == row.size == row.cloud_size
    assert sorted(store.stats.completed.values()) == [1] * 8, "nothing uploaded twice"
    assert uploader.queue.pending() == []


class CutAfter:
    """The database cursors, with the link cut right after the store confirmed part `n` (a test hook)."""

    def __init__(self, inner: DbCursors, server: S3Server, n: int) -> None:
        self.inner, self.server, self.n = inner, server, n

    async def load(self, key: str) -> UploadCursor | None:
        return await self.inner.load(key)

    async def save(self, key: str, cursor: UploadCursor) -> None:
        await self.inner.save(key, cursor)
        if len(cursor.parts) == self.n:
            self.server.relay.down()

    async def clear(self, key: str) -> None:
        await self.inner.clear(key)


async def test_multipart_cut_midway_resumes_after_restart_from_the_database_cursor(
    s3_server: S3Server,  # noqa: F811
    world: World,
    tmp_path: Path,
) -> None:
    """C10.1: an upload cut after 3 of 8 parts, then the process restarts: the new store reads the
    cursor from the database, asks the server which parts it holds, and sends only the other 5."""
    bucket = s3_server.new_bucket()
    settings = s3_settings(s3_server, bucket, part_size=1024)
    source = tmp_path / "segment.mp4"
    source.write_bytes(os.urandom(8 * 1024 - 100))
    first = S3Store(settings, CutAfter(DbCursors(world.sessionmaker), s3_server, 3))
    try:
        with pytest.raises(StoreUnavailable, match="cannot be reached"):
            await first.put("camera-1/segment.mp4", source)
    finally:
        await first.close()
        s3_server.relay.up()
    assert first.stats.parts_sent == 3
    async with world.sessionmaker() as s:
        assert len((await s.scalars(select(CloudUpload))).all()) == 1  # the cursor survived "the crash"
    second = S3Store(settings, DbCursors(world.sessionmaker))  # a new process: nothing in memory
    try:
        await second.put("camera-1/segment.mp4", source)
        assert second.stats.uploads_resumed == 1 and second.stats.parts_sent == 5
        assert await second.read_range("camera-1/segment.mp4", 0, 10**6) == source.read_bytes()
    finally:
        await second.close()
    async with world.sessionmaker() as s:
        assert (await s.scalars(select(CloudUpload))).all() == []
    assert list(s3_server.objects(bucket)) == ["vakt/camera-1/segment.mp4"]


async def test_cloud_retention_past_its_limit_keeps_the_newest(
    s3_server: S3Server,  # noqa: F811
    world: World,
) -> None:
    """C7.1 retention per tier: past VAKT_S3_RETENTION_MAX_GB the oldest cloud copies go; a segment
    whose local file is gone too loses its row; the local tier keeps its own files."""
    bucket = s3_server.new_bucket()
    budget_gb = 4 * 5000 / 1024**3  # room for four 5,000-byte segments
    sup = supervisor(world, s3_settings(s3_server, bucket, retention_max_gb=budget_gb, retention_days=0))
    assert sup.uploader is not None
    task = asyncio.create_task(sup.uploader.run())
    try:
        for i in range(7):
            await record(sup, world, i, size=5000)
        await wait_until(lambda: sup.uploader is not None and sup.uploader.uploaded == 7)
    finally:
        task.cancel()
    async with world.sessionmaker() as s:  # the oldest has left the local disk already (local retention)
        oldest = (await s.scalars(select(Segment).order_by(Segment.start).limit(1))).one()
        oldest.local = False
        await s.commit()
    assert await sup.run_cloud_retention() == 3
    await sup.stop()
    indexed = await rows(world)
    assert len(indexed) == 6, "the segment with neither copy left is gone from the index"
    assert [r.cloud_key is not None for r in indexed] == [False, False, True, True, True, True]
    in_cloud = {"vakt/" + str(r.cloud_key) for r in indexed if r.cloud_key}
    assert set(s3_server.objects(bucket)) == in_cloud
    assert all(Path(r.path).exists() for r in indexed)


async def test_encrypted_camera_sealed_in_the_bucket_opened_by_range_tamper_is_damage(
    s3_server: S3Server,  # noqa: F811
    world: World,
) -> None:
    """C6: an encrypted camera's segment leaves sealed (no plaintext in the bucket); any range opens
    with the password's key; a changed chunk in the bucket is DamagedFootage, never garbage."""
    bucket = s3_server.new_bucket()
    key = create_camera_key("correct horse battery", n=2**12)
    async with world.sessionmaker() as s:
        camera = await s.get(Camera, world.camera_id)
        assert camera is not None
        camera.image_encryption, camera.encryption_key = True, key.to_json()
        await s.commit()
    sup = supervisor(world, s3_settings(s3_server, bucket, part_size=50_000))
    assert sup.uploader is not None and isinstance(sup.store, S3Store)
    task = asyncio.create_task(sup.uploader.run())
    try:
        info = await record(sup, world, 0, size=200_000)
        await wait_until(lambda: sup.uploader is not None and sup.uploader.uploaded == 1)
        [row] = await rows(world)
        assert row.sealed and row.cloud_key == str(info.path.relative_to(world.media)) + ".sealed"
        plain = info.path.read_bytes()
        client = s3_server.client()
        stored = client.get_object(Bucket=bucket, Key="vakt/" + row.cloud_key)["Body"].read()  # type: ignore[attr-defined]
        assert plain[1000:1064] not in stored
        opener = Opener(unlock(key, "correct horse battery"))
        for start, end in [(0, 100), (65_000, 140_000), (199_990, 200_000)]:
            assert await read_footage(sup.store, row.cloud_key, start, end, opener) == plain[start:end]
        tampered = bytearray(stored)
        tampered[100_000] ^= 0x40
        client.put_object(Bucket=bucket, Key="vakt/" + row.cloud_key, Body=bytes(tampered))  # type: ignore[attr-defined]
        assert await read_footage(sup.store, row.cloud_key, 0, 100, opener) == plain[:100]  # other chunk
        with pytest.raises(DamagedFootage):
            await read_footage(sup.store, row.cloud_key, 90_000, 110_000, opener)
        assert not list((world.media / ".upload-queue" / "staging").glob("*")), "staging emptied"
        # a segment smaller than one part is sealed in memory and sent in one PUT (no staging file)
        small = await record(sup, world, 1, size=30_000)
        await wait_until(lambda: sup.uploader is not None and sup.uploader.uploaded == 2)
        row = (await rows(world))[1]
        assert row.sealed and row.cloud_size == sealed_size(30_000)
        assert await read_footage(sup.store, str(row.cloud_key), 0, 30_000, opener) == small.path.read_bytes()
    finally:
        task.cancel()
        await sup.stop()


async def test_store_errors_are_said_in_words(s3_server: S3Server, tmp_path: Path) -> None:  # noqa: F811
    """Issue 12 item 6: a missing bucket (from the real server), clock skew, expired credentials and a full
    bucket (the answers S3 gives for them) become StoreUnavailable with a line a person understands."""
    source = tmp_path / "x.mp4"
    source.write_bytes(b"x" * 100)
    store = S3Store(s3_settings(s3_server, "no-such-bucket-here"))
    try:
        with pytest.raises(StoreUnavailable, match="no such bucket"):
            await store.put("camera-1/x.mp4", source)
    finally:
        await store.close()
    for code, status, words in [
        ("RequestTimeTooSkewed", 403, "clock"),
        ("ExpiredToken", 400, "expired"),
        ("QuotaExceeded", 403, "full"),
        ("SomethingNew", 507, "full"),
    ]:
        error = ClientError(
            {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
            "PutObject",
        )
        assert words in explain(error)


async def test_cloud_retention_by_age(s3_server: S3Server, world: World) -> None:  # noqa: F811
    """VAKT_S3_RETENTION_DAYS: cloud copies older than the limit go; the local files stay."""
    bucket = s3_server.new_bucket()
    sup = supervisor(world, s3_settings(s3_server, bucket, retention_days=1))
    assert sup.uploader is not None
    task = asyncio.create_task(sup.uploader.run())
    try:
        await record(sup, world, 0, size=2000)  # recorded on T0, two days ago
        await wait_until(lambda: sup.uploader is not None and sup.uploader.uploaded == 1)
    finally:
        task.cancel()
    assert s3_server.objects(bucket)
    assert await sup.run_cloud_retention() == 1
    await sup.stop()
    [row] = await rows(world)
    assert row.cloud_key is None and row.local and Path(row.path).exists()
    assert s3_server.objects(bucket) == {}
