"""C10.1 / issue 11: events raised at the same moment (active defense ending: siren off, defense off,
recording) are each delivered once, in order; two flushes at once once raised IndexError."""

from __future__ import annotations

import asyncio

import pytest

from tests.camera.test_control_plane import Hub, broker, camera, hub  # fixtures re-exported in __all__
from vakt.camera.emulator import CameraEmulator

pytestmark = pytest.mark.timeout(60)
__all__ = ["broker", "camera", "hub"]


async def test_c10_1_events_raised_together_are_each_delivered_once(camera: CameraEmulator, hub: Hub) -> None:
    await asyncio.gather(*(camera._emit("Probe", {"n": n}) for n in range(20)))
    await hub.until(lambda: sum(e.type == "Probe" for e in hub.events) >= 20)
    await asyncio.sleep(0.3)  # a duplicate would arrive right after
    assert [e.data["n"] for e in hub.events if e.type == "Probe"] == list(range(20))
    assert not camera._outbox
