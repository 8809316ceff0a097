"""G7: events raised while the broker or the gateway is down are delivered later, in order, none lost.

A real Mosquitto is killed (SIGKILL) in the middle of a burst of lock events and started again; the
gateway process itself is killed (SIGKILL) with undelivered events in its outbox and restarted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.broker.brokers import DEVICES, Mosquitto, make_accounts, mosquitto
from tests.gateway.hub import TestHub, running_hub
from vakt.gateway.config import GatewayConfig
from vakt.gateway.service import Gateway
from vakt.protocol import Event, device_password

pytestmark = [pytest.mark.timeout(90), pytest.mark.mosquitto]
GW, LK = "GW0001", "LK0001"


@pytest.fixture
def broker(tmp_path: Path) -> AsyncIterator[Mosquitto]:
    with mosquitto(make_accounts(), tmp_path / "mosquitto") as proc:
        yield proc


def unique_in_order(events: list[Event]) -> list[Event]:
    """What the hub's application sees: each id once, first arrival wins (at-least-once on the wire)."""
    seen: set[str] = set()
    out = []
    for event in events:
        if event.id not in seen:
            seen.add(event.id)
            out.append(event)
    return out


async def restart_and_let_the_hub_in_first(broker: Mosquitto, hub: TestHub) -> None:
    """Start the broker with the gateway's account missing, so the hub resubscribes before it flushes."""
    broker.accounts.remove_device(GW)
    broker.reload_files()
    broker.start()
    await hub.wait_for(lambda: hub.connected.is_set(), timeout=15)
    broker.accounts.set_device(GW, device_password(DEVICES[GW]), relayed=[LK])
    broker.reload()


async def test_g7_broker_killed_mid_burst_events_arrive_in_order(broker: Mosquitto, tmp_path: Path) -> None:
    config = GatewayConfig(
        serial=GW,
        code=DEVICES[GW],
        mqtt_port=broker.port,
        data_dir=tmp_path / "gw",
        lock_serial=LK,
        lock_code=DEVICES[LK],
        tick_interval=0.05,
        boot_seconds=0.3,
    )
    async with running_hub("127.0.0.1", broker.port) as hub, Gateway(config) as gateway:
        await hub.wait_for(lambda: hub.states.get(LK, {}).get("paired") is True)
        for n in range(60):
            gateway.lock_input(LK, "doorbell")
            if n == 20:
                broker.kill()
            if n == 40:
                assert len(gateway.outbox) > 0  # G7: queued on disk while the broker is away
                await restart_and_let_the_hub_in_first(broker, hub)
            await asyncio.sleep(0.01)
        await hub.wait_for(lambda: len(unique_in_order(hub.events_of(LK, "Doorbell"))) == 60, timeout=30)
        bells = unique_in_order(hub.events_of(LK, "Doorbell"))
        assert [e.ts for e in bells] == sorted(e.ts for e in bells) and len({e.ts for e in bells}) == 60
        await hub.wait_for(lambda: len(gateway.outbox) == 0)


def _start_gateway(broker: Mosquitto, data: Path, log: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "vakt.gateway",
        "--serial",
        GW,
        "--code",
        DEVICES[GW],
        "--mqtt-port",
        str(broker.port),
        "--data",
        str(data),
        "--lock-serial",
        LK,
        "--lock-code",
        DEVICES[LK],
        "--boot-seconds",
        "0.3",
    ]
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=out)


def _pending(data: Path) -> list[bytes]:
    with sqlite3.connect(data / "outbox.sqlite") as db:
        return [bytes(row[0]) for row in db.execute("SELECT payload FROM outbox ORDER BY seq")]


async def test_g7_gateway_killed_outbox_survives_the_restart(broker: Mosquitto, tmp_path: Path) -> None:
    data, log = tmp_path / "gw", tmp_path / "gateway.log"
    proc = _start_gateway(broker, data, log)
    try:
        async with running_hub("127.0.0.1", broker.port) as hub:
            await hub.wait_for(lambda: hub.states.get(LK, {}).get("paired") is True, timeout=30)
            for _ in range(10):
                assert (await hub.command(LK, "panel.input", {"input": "doorbell"})).ok
            assert (await hub.command(LK, "lock.unlock")).ok
            await hub.wait_for(lambda: len(hub.events_of(LK, "Doorbell")) == 10)
            broker.kill()
            # the lock relocks by itself after 5 s (L8.3) while nobody can hear it: the event waits on disk
            async with asyncio.timeout(20):
                while not any(b'"auto_relock"' in row for row in _pending(data)):
                    await asyncio.sleep(0.2)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            await restart_and_let_the_hub_in_first(broker, hub)
            proc = _start_gateway(broker, data, log)
            await hub.wait_for(
                lambda: any(
                    e.data.get("operation_source") == "Auto" for e in hub.events_of(LK, "LockOperation")
                ),
                timeout=30,
            )
            events = unique_in_order([e for e in hub.events if e.source == LK])
            assert [e.ts for e in events] == sorted(e.ts for e in events)
            assert len(unique_in_order(hub.events_of(LK, "Doorbell"))) == 10
            ops = [e.data["lock_operation_type"] for e in hub.events_of(LK, "LockOperation")]
            assert ops[-2:] == ["Unlock", "Lock"]
            await hub.wait_for(lambda: not _pending(data))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


async def test_g7_events_leave_the_outbox_only_with_the_hubs_receipt(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """A PUBACK is not enough (a broker that forgot the hub's session would swallow the event): the
    gateway keeps each event until the hub confirms it, re-sending what stays unconfirmed."""
    config = GatewayConfig(
        serial=GW,
        code=DEVICES[GW],
        mqtt_port=broker.port,
        data_dir=tmp_path / "gw",
        lock_serial=LK,
        lock_code=DEVICES[LK],
        tick_interval=0.05,
        boot_seconds=0.3,
        resend_after=0.5,
    )
    async with running_hub("127.0.0.1", broker.port, confirm=False) as hub, Gateway(config) as gateway:
        await hub.wait_for(lambda: hub.states.get(LK, {}).get("paired") is True)
        for _ in range(5):
            gateway.lock_input(LK, "doorbell")
        await hub.wait_for(lambda: len(hub.events_of(LK, "Doorbell")) >= 10)  # sent, unconfirmed, sent again
        assert len(gateway.outbox) == 5
        hub.confirm = True
        await hub.wait_for(lambda: len(gateway.outbox) == 0, timeout=20)
        assert len(unique_in_order(hub.events_of(LK, "Doorbell"))) == 5


def test_g7_a_corrupt_outbox_is_moved_aside_and_the_gateway_keeps_serving(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "gw"
    data.mkdir()
    (data / "outbox.sqlite").write_bytes(b"not a database, a disk that went wrong " * 200)
    config = GatewayConfig(serial=GW, code=DEVICES[GW], data_dir=data, lock_serial=LK, lock_code=DEVICES[LK])
    with caplog.at_level(logging.ERROR, logger="vakt.gateway.outbox"):
        gateway = Gateway(config)
    kept = list(data.glob("outbox.sqlite.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b"not a database")
    assert "is corrupt" in caplog.text and "moved aside" in caplog.text and str(kept[0]) in caplog.text
    gateway.raise_event("Test", {})
    assert len(gateway.outbox) == 1  # a fresh outbox, in use
    gateway.outbox.close()
