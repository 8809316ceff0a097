"""The faults of issue 10's table, each during a burst of lock events; every one ends with a tally of
produced (queued by the gateway), stored, lost and duplicated events (G7)."""

from __future__ import annotations

import asyncio
import signal

from tests.faults.conftest import System
from tests.faults.harness import Tally, settle_and_count, wait_queued, wait_until


async def ready(system: System) -> int:
    """Wait until the lock is online at the hub; returns where this scenario's ledger starts."""
    await wait_until(system.lock_online, 60, "the lock online at the hub", every=0.3)
    return system.gateway.mark()


async def gateway_restarted(system: System) -> None:
    mark = system.gateway.mark()
    system.gateway.start()
    await wait_until(lambda: "connected to" in system.gateway.log_since(mark), 60, "the gateway connected")


async def broker_killed(system: System, down_s: float = 3.0, events: int = 300) -> Tally:
    since = await ready(system)
    await system.doorbell.press(events // 2)
    await wait_queued(system.gateway, since, events // 4)
    system.broker.stop(signal.SIGKILL)  # mid-burst: events in flight, unconfirmed, waiting in the outbox
    await asyncio.sleep(down_s)
    mark = system.gateway.mark()
    system.broker.start()
    await wait_until(lambda: "connected to" in system.gateway.log_since(mark), 30, "the gateway back")
    await system.doorbell.press(events // 2)
    return await settle_and_count(
        f"Mosquitto killed, back after {down_s:g} s", system.gateway, system.database, since
    )


async def hub_stopped_while_broker_restarts(system: System, events: int = 200) -> Tally:
    since = await ready(system)
    system.hub.stop(signal.SIGTERM)
    system.broker.stop(signal.SIGTERM)
    system.broker.start()
    await wait_until(lambda: "connected to" in system.gateway.log_since(since), 30, "the gateway back")
    await system.doorbell.press(events)
    await wait_queued(system.gateway, since, events)
    system.hub.restart()
    return await settle_and_count(
        "hub stopped while Mosquitto restarts cleanly", system.gateway, system.database, since
    )


async def hub_down_backlog(system: System, events: int = 1500) -> Tally:
    since = await ready(system)
    assert system.hub.stop(signal.SIGTERM) == 0
    await system.doorbell.press(events)
    await wait_queued(system.gateway, since, events, timeout=120)
    system.hub.restart()
    return await settle_and_count(
        f"hub down while {events:,} events are produced", system.gateway, system.database, since, timeout=120
    )


async def database_unreachable(system: System, down_s: float = 10.0, events: int = 300) -> Tally:
    since = await ready(system)
    presses = asyncio.create_task(system.doorbell.press(events, per_second=40))
    await wait_queued(system.gateway, since, 40)
    await system.database.refuse_connections()
    try:
        await wait_until(
            lambda: system.hub.health()["ingest"]["state"] == "backpressure",
            down_s,
            "/api/health to report back-pressure",
        )
        health = system.hub.health()
        assert health["status"] == "degraded" and "database" in health["ingest"]["reason"]
        await asyncio.sleep(max(0.0, down_s - 3))
    finally:
        await system.database.allow_connections()
    await presses
    tally = await settle_and_count(
        f"database unreachable for {down_s:g} s", system.gateway, system.database, since
    )
    await wait_until(lambda: system.hub.health()["ingest"]["state"] == "ok", 30, "ingest back to ok")
    log = system.hub.log.read_text(errors="replace")
    assert "device messages are not being stored: the database is unreachable" in log
    assert "the database is back" in log
    return tally


async def hub_killed_while_draining(system: System, events: int = 500) -> Tally:
    since = await ready(system)
    system.hub.stop(signal.SIGTERM)
    await system.doorbell.press(events)
    await wait_queued(system.gateway, since, events)
    before = len(await system.database.stored_ids())
    system.hub.start()

    async def draining() -> bool:
        return len(await system.database.stored_ids()) - before >= 30

    await wait_until(draining, 60, "the hub to start draining the backlog", every=0.05)
    system.hub.stop(signal.SIGKILL)
    system.hub.restart()
    return await settle_and_count(
        "hub SIGKILL while draining a backlog", system.gateway, system.database, since
    )


async def hub_terminated_under_load(system: System, events: int = 300) -> Tally:
    since = await ready(system)
    presses = asyncio.create_task(system.doorbell.press(events, per_second=150))
    await wait_queued(system.gateway, since, events // 3)
    assert system.hub.stop(signal.SIGTERM) == 0  # a clean stop, with messages arriving
    system.hub.restart()
    await presses
    return await settle_and_count(
        "hub SIGTERM (clean stop) under load", system.gateway, system.database, since
    )


async def gateway_killed_mid_burst(system: System, rounds: int = 5, events: int = 60) -> Tally:
    since = await ready(system)
    for _ in range(rounds):
        mark = system.gateway.mark()
        presses = asyncio.create_task(system.doorbell.press(events))
        await wait_queued(system.gateway, mark, events // 3)
        system.gateway.stop(signal.SIGKILL)
        presses.cancel()
        await asyncio.gather(presses, return_exceptions=True)
        await gateway_restarted(system)
    return await settle_and_count(
        f"gateway SIGKILL x{rounds} mid-burst", system.gateway, system.database, since
    )
