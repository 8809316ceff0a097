"""Cloud tier (C7.1, C10.1): uploads queue on disk, survive an unreachable store and a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from vakt.media.cloud import LocalStoreConfig, Uploader, UploadQueue, create_store


def make_segments(directory: Path, count: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = directory / f"seg{i:03d}.mp4"
        path.write_bytes(bytes([i]) * (1000 + i))
        paths.append(path)
    return paths


async def wait_until(predicate: object, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def test_store_unreachable_then_back_resumes_and_loses_nothing(tmp_path: Path) -> None:
    """C10.1: store away -> local files stay, uploads wait; store back -> they resume in order."""
    root = tmp_path / "nas"
    root.mkdir()
    store = create_store(LocalStoreConfig(root=root))
    uploader = Uploader(store, UploadQueue(tmp_path / "queue"), retry_initial=0.05, retry_cap=0.2)
    task = asyncio.create_task(uploader.run())
    local = make_segments(tmp_path / "media", 6)
    try:
        for path in local[:2]:
            uploader.submit(path, f"camera-1/{path.name}")
        await wait_until(lambda: uploader.uploaded == 2)
        root.rename(tmp_path / "nas-unmounted")  # the store goes away
        for path in local[2:]:
            uploader.submit(path, f"camera-1/{path.name}")
        await wait_until(lambda: not uploader.available)
        await asyncio.sleep(0.3)
        assert uploader.uploaded == 2 and len(uploader.queue.pending()) == 4
        assert all(p.exists() for p in local), "local recording is untouched"
        (tmp_path / "nas-unmounted").rename(root)  # back
        await wait_until(lambda: uploader.uploaded == 6)
    finally:
        task.cancel()
    assert uploader.queue.pending() == []
    for path in local:
        assert (root / "camera-1" / path.name).read_bytes() == path.read_bytes()


async def test_queue_survives_restart(tmp_path: Path) -> None:
    """Pending uploads are tickets on disk: a new Uploader (after a hub restart) finishes them."""
    local = make_segments(tmp_path / "media", 3)
    queue = UploadQueue(tmp_path / "queue")
    for path in local:
        queue.enqueue(path, f"k/{path.name}")
    (tmp_path / "queue" / "garbage.json").write_text("{not json")
    root = tmp_path / "store"
    root.mkdir()
    uploader = Uploader(create_store(LocalStoreConfig(root=root)), UploadQueue(tmp_path / "queue"))
    task = asyncio.create_task(uploader.run())
    try:
        await wait_until(lambda: uploader.uploaded == 3)
    finally:
        task.cancel()
    assert sorted(p.name for p in (root / "k").iterdir()) == [p.name for p in local]


def test_store_refuses_keys_outside_its_root(tmp_path: Path) -> None:
    store = create_store(LocalStoreConfig(root=tmp_path))
    with pytest.raises(ValueError, match="escapes"):
        asyncio.run(store.put("../outside.mp4", tmp_path / "x"))
