"""Live fan-out (C5.1): fMP4 init + fragments without transcoding, for the web app's MSE player."""

from __future__ import annotations

import asyncio
import io

import av
import pytest

from tests.media.helpers import PEOPLE, needs_assets, run_one_session, video_packets
from vakt.media.clips import decode_fragment_jpeg
from vakt.media.live import LiveChunk, LiveMuxer, LiveStream, SlowSubscriber

pytestmark = needs_assets


@pytest.fixture(scope="module")
def chunks() -> list[LiveChunk]:
    out: list[LiveChunk] = []
    run_one_session(str(PEOPLE), [LiveMuxer(out.append)], audio=False)
    return out


def decode(data: bytes) -> int:
    with av.open(io.BytesIO(data), "r", format="mp4") as container:
        return sum(1 for _ in container.decode(video=0))


def test_init_then_one_fragment_per_frame_decodable(chunks: list[LiveChunk]) -> None:
    assert chunks[0].kind == "init" and chunks[0].codec == "avc1.4D401F"
    fragments = [c for c in chunks[1:] if c.kind == "fragment"]
    source = video_packets(PEOPLE)
    assert len(fragments) == len(source)
    assert sum(c.keyframe for c in fragments) == sum(p[2] for p in source), "keyframes marked exactly"
    assert decode(chunks[0].data + b"".join(c.data for c in fragments[:50])) == 50


async def test_late_subscriber_starts_at_latest_keyframe(chunks: list[LiveChunk]) -> None:
    """A new viewer gets the init segment, then the GOP from its keyframe: playback starts at once."""
    live = LiveStream()
    fragments = [c for c in chunks if c.kind == "fragment"]
    live.publish(chunks[0])
    for chunk in fragments[:25]:  # keyframes at 0, 10, 20 -> current GOP is frames 20..24
        live.publish(chunk)
    received: list[bytes] = []

    async def watch() -> None:
        async for data in live.subscribe():
            received.append(data)

    task = asyncio.create_task(watch())
    await asyncio.sleep(0.05)
    for chunk in fragments[25:40]:
        live.publish(chunk)
    await asyncio.sleep(0.05)
    live.stop()
    await asyncio.wait_for(task, 2)
    assert received[0] == chunks[0].data
    assert received[1] == fragments[20].data and len(received) == 1 + 20
    assert decode(b"".join(received)) == 20
    assert live.latest_keyframe is not None
    jpeg = decode_fragment_jpeg(chunks[0].data, live.latest_keyframe)
    assert jpeg[:2] == b"\xff\xd8"


async def test_slow_subscriber_is_dropped_without_stalling_others(chunks: list[LiveChunk]) -> None:
    live = LiveStream(queue_size=10)
    live.publish(chunks[0])
    fast: list[bytes] = []
    slow = live.subscribe()
    first = await slow.__anext__()  # subscribed, then never reads again
    assert first == chunks[0].data

    async def watch() -> None:
        async for data in live.subscribe():
            fast.append(data)

    task = asyncio.create_task(watch())
    await asyncio.sleep(0.01)
    for chunk in chunks[1:60]:
        live.publish(chunk)
        await asyncio.sleep(0)
    assert live.subscriber_count == 1
    live.stop()
    await asyncio.wait_for(task, 2)
    assert len(fast) == 1 + 59
    with pytest.raises(SlowSubscriber):
        await slow.__anext__()


async def test_session_restart_ends_subscriptions_for_a_new_init(chunks: list[LiveChunk]) -> None:
    live = LiveStream()
    live.publish(chunks[0])
    iterator = live.subscribe()
    assert await iterator.__anext__() == chunks[0].data
    live.publish(LiveChunk("init", b"new-init", codec="avc1.640028"))
    with pytest.raises(StopAsyncIteration):
        await iterator.__anext__()
    assert live.codec == "avc1.640028" and live.init == b"new-init"
