"""Poison messages (issue 10 item 2): what no database can store, sent as the gateway would send it."""

from __future__ import annotations

import asyncio
import json
import secrets
import time

import aiomqtt
import httpx

from tests.faults.conftest import System
from vakt.protocol import Event, Receipt, decode, device_password, encode
from vakt.protocol.messages import MAX_PAYLOAD_BYTES


def _event(serial: str, **fields: object) -> tuple[str, bytes]:
    ident = secrets.token_hex(16)
    body = {"id": ident, "source": serial, "type": "Doorbell", "ts": "2026-01-01T00:00:00Z", "data": {}}
    return ident, json.dumps({**body, **fields}).encode()


async def publish_poison_then_check(system: System) -> None:
    lock = system.home.lock.serial
    year_1, early = _event(lock, ts="0001-01-01T00:00:00Z")
    year_9999, late = _event(lock, ts="9999-12-31T23:59:59Z")
    deep_id, deep = _event(lock)
    deep = deep.replace(b'"data": {}', b'"data": {"x": ' + b"[" * 3000 + b"]" * 3000 + b"}")
    big_id, big = _event(lock, data={"blob": "x" * (MAX_PAYLOAD_BYTES + 10)})
    deep_state = b'{"kind": "lock", "x": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    good = Event(source=lock, type="Doorbell", data={"after": "poison"})
    receipts: list[Receipt] = []
    async with aiomqtt.Client(
        "127.0.0.1",
        system.broker.port,
        username=system.home.gateway.serial,
        password=device_password(system.home.gateway.code),
        identifier=f"poison-{secrets.token_hex(3)}",
    ) as client:
        # a relayed lock's receipts go to its gateway's topic: one per connection and batch
        await client.subscribe(f"vakt/v1/{system.home.gateway.serial}/receipt", qos=1)
        base = f"vakt/v1/{lock}"
        for payload in (early, late, deep, big):
            await client.publish(f"{base}/event", payload, qos=1)
        await client.publish(f"{base}/state", deep_state, qos=1)
        await client.publish(f"{base}/event", encode(good), qos=1)
        sent = time.monotonic()
        while good.id not in await system.database.stored_ids():
            assert time.monotonic() - sent < 1.0, "a valid event after poison was not stored within 1 s"
            await asyncio.sleep(0.02)
        print(f"valid event after poison stored in {time.monotonic() - sent:.2f} s")
        async with asyncio.timeout(10):
            async for message in client.messages:
                receipts.append(decode(Receipt, bytes(message.payload)))  # type: ignore[arg-type]
                refused = {r.id for receipt in receipts for r in receipt.refused}
                confirmed = {i for receipt in receipts for i in receipt.stored}
                if {year_1, year_9999, big_id} <= refused and good.id in confirmed:
                    break
    stored = {i for receipt in receipts for i in receipt.stored}
    assert good.id in stored  # the device may forget it
    reasons = {r.id: r.reason for receipt in receipts for r in receipt.refused}
    assert "before 2000" in reasons[year_1] and "ahead" in reasons[year_9999] and "exceeds" in reasons[big_id]
    health = system.hub.health()
    assert health["ingest"]["state"] == "ok", health  # never taken for an outage
    with httpx.Client(base_url=system.hub.url, timeout=10) as c:
        letters = c.get("/api/dead-letters", headers={"Authorization": f"Bearer {system.home.token}"}).json()
        by_id = {letter["event_id"]: letter for letter in letters}
        assert {year_1, year_9999, big_id} <= set(by_id)
        assert any("nested deeper" in letter["reason"] for letter in letters)  # the 3,000-deep event
        assert all(letter["device_serial"] == lock for letter in letters)
        assert len(by_id[big_id]["payload_excerpt"]) <= 2000 and by_id[big_id]["size"] > MAX_PAYLOAD_BYTES
        stranger = system.hub.user(f"stranger{secrets.token_hex(2)}")
        assert c.get("/api/dead-letters", headers={"Authorization": f"Bearer {stranger}"}).json() == []
        assert c.get("/api/dead-letters").status_code == 401
    log = system.hub.log.read_text(errors="replace")
    assert f"refused a message from device {lock} on vakt/v1/{lock}/event: malformed" in log
    assert f"refused a message from device {lock} on vakt/v1/{lock}/state: malformed" in log
    assert deep_id not in {r.id for receipt in receipts for r in receipt.refused}  # unreadable: no id
