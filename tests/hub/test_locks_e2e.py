"""A7 lock management end to end through the real gateway emulator running the lock firmware (G5, L14.1).

Hub -> Mosquitto -> gateway emulator -> lock firmware and back: credentials provisioned sealed and
reconciled from the lock's state, a door code typed at the keypad (``panel.input``) shows up in the
operation log with its name and on the WebSocket, PIN-gated remote unlock, normally-open mode, volume.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.hub.conftest import Hub, label
from vakt.gateway.config import GatewayConfig
from vakt.gateway.service import Gateway
from vakt.protocol import DeviceLabel

DOOR_CODE = "246813"


@dataclass
class Home:
    hub: Hub
    token: str
    lock_id: int
    lock: DeviceLabel
    gateway: Gateway

    async def keypad(self, keys: str) -> None:
        mqtt = self.hub.app.state.mqtt
        await mqtt.send_command(self.lock.serial, "panel.input", {"input": "touch"})
        ack = await mqtt.send_command(self.lock.serial, "panel.input", {"input": "keys", "value": keys})
        assert ack.ok, ack.error


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 8.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


@pytest.fixture
async def home(hub: Hub, tmp_path: Path) -> AsyncIterator[Home]:
    _, token = await hub.user("alice")
    gateway_label, lock_label = label("gateway"), label("lock")
    gateway = await hub.add_device(token, gateway_label)
    lock = await hub.add_device(token, lock_label, gateway_id=gateway["id"], name="Front door")
    config = GatewayConfig(
        serial=gateway_label.serial,
        code=gateway_label.code,
        mqtt_port=hub.mosquitto.port,
        data_dir=tmp_path / "gateway",
        lock_serial=lock_label.serial,
        lock_code=lock_label.code,
        tick_interval=0.05,
    )
    async with Gateway(config) as gw:

        async def online() -> bool:
            async with hub.client(token) as c:
                row = (await c.get(f"/api/locks/{lock['id']}")).json()
            return bool(row["online"] and row["lock_state"])

        await eventually(online, 15)
        yield Home(hub, token, lock["id"], lock_label, gw)


async def _credentials(home: Home) -> list[dict[str, Any]]:
    async with home.hub.client(home.token) as c:
        return list((await c.get(f"/api/locks/{home.lock_id}/credentials")).json())


async def test_a7_provisioned_code_synced_used_at_keypad_logged_with_name_and_pushed(
    home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hub = home.hub
    # An administrator code enrolled at the keypad in initial mode (L4.1, L5.2) appears in the app (L2.3).
    await home.keypad("3571#12#135790#135790#*")
    rows = await eventually(lambda: _credentials(home))
    assert [(r["kind"], r["number"], r["sync_state"]) for r in rows] == [("code", 1, "synced")]
    ws = await websockets.connect(hub.url.replace("http", "ws") + f"/api/ws?token={home.token}")
    try:
        assert json.loads(await ws.recv())["type"] == "hello"
        async with hub.client(home.token) as c:
            r = await c.post(
                f"/api/locks/{home.lock_id}/credentials",
                json={"kind": "code", "user_name": "Alice", "code": DOOR_CODE},
            )
        assert r.status_code == 201, r.text
        added = r.json()
        assert added["sync_state"] == "synced" and added["number"] == 2 and added["user_name"] == "Alice"

        async def lock_lists_it() -> bool:
            return any(
                c["user_name"] == "Alice" and c["sync_state"] == "synced" for c in await _credentials(home)
            )

        await eventually(lock_lists_it)
        await home.keypad(f"99{DOOR_CODE}1#")  # a scrambled code (L8.2)

        async def pushed() -> dict[str, Any] | None:
            while True:
                try:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                except TimeoutError:
                    return None
                if (
                    message["type"] == "lock.operation"
                    and message["event"]["data"]["operation_source"] == "Keypad"
                ):
                    return dict(message)

        message = await eventually(pushed)
        assert message["device_id"] == home.lock_id
    finally:
        await ws.close()
    async with hub.client(home.token) as c:
        log = (await c.get(f"/api/locks/{home.lock_id}/log", params={"type": "LockOperation"})).json()
    keypad = [e for e in log if e["source"] == "Keypad"]
    assert keypad and keypad[0]["operation"] == "Unlock" and keypad[0]["user_name"] == "Alice"
    assert keypad[0]["credential_kind"] == "code" and keypad[0]["credential_number"] == 2
    # L14.1: the door code is in no log line and not in the database
    assert DOOR_CODE not in caplog.text
    assert DOOR_CODE.encode() not in (hub.app.state.settings.data_dir / "vakt.db").read_bytes()


async def test_a7_first_app_code_is_administrator_temporary_codes_count_down_and_refusals(home: Home) -> None:
    """Issue 15 items 9 and 11: the first credential from the app opens the menu (L2.3); a temporary
    code's uses left go down to 0 as the lock counts them."""
    url = f"/api/locks/{home.lock_id}/credentials"
    async with home.hub.client(home.token) as c:
        early = await c.post(
            url, json={"credential_type": "PIN", "name": "Cleaner", "secret": "5551234", "max_uses": 2}
        )
        assert early.status_code == 409 and "no administrator yet" in early.json()["detail"]
        owner = await c.post(url, json={"kind": "code", "user_name": "Owner", "code": "80808080"})
        assert owner.status_code == 201, owner.text
        assert owner.json()["administrator"] is True and owner.json()["user_type"] == "ProgrammingUser"
        temp = await c.post(
            url, json={"credential_type": "PIN", "name": "Cleaner", "secret": "5551234", "max_uses": 2}
        )
        assert temp.status_code == 201, temp.text
        assert temp.json()["max_uses"] == 2 and temp.json()["user_type"] == "DisposableUser"
        assert temp.json()["uses_left"] == 2 and temp.json()["administrator"] is False
        duplicate = await c.post(url, json={"kind": "code", "user_name": "Again", "code": "5551234"})
        assert duplicate.status_code == 409 and "refused" in duplicate.json()["detail"]
        bad = await c.post(url, json={"kind": "code", "user_name": "Short", "code": "123"})
        assert bad.status_code == 422 and "body.code" in bad.json()["message"]
        card = await c.post(url, json={"kind": "card", "user_name": "Bob", "card_uid": "04A1B2C3"})
        assert card.status_code == 201 and card.json()["number"] == 1
        assert (await c.delete(f"{url}/{card.json()['id']}")).status_code == 204

    async def card_gone() -> bool:
        return all(r["kind"] != "card" for r in await _credentials(home)) and not any(
            c["credential_type"] == "RFID"
            for c in home.gateway.locks[home.lock.serial].state()["credentials"]
        )

    await eventually(card_gone)
    owner_on_lock = home.gateway.locks[home.lock.serial].state()["credentials"][0]
    assert owner_on_lock["name"] == "Owner" and owner_on_lock["user_type"] == "ProgrammingUser"

    def uses_left_is(expected: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            rows = [r for r in await _credentials(home) if r["user_name"] == "Cleaner"]
            return bool(rows and rows[0]["uses_left"] == expected)

        return check

    for left in (1, 0):
        await home.keypad("5551234#")
        await eventually(uses_left_is(left))
    await home.keypad("5551234#")  # used up: refused by the lock itself
    assert home.gateway.locks[home.lock.serial].firmware.state().last_prompts[-1] == "not_valid_now"


async def test_a7_hub_follows_delete_clear_and_initialize_at_the_keypad(home: Home) -> None:
    """Issue 15 item 10: no stale "Out of sync" rows, no UNIQUE 500 and no stale row flipping to Synced
    after the lock's own changes (L6.1, L6.3, L7.1)."""
    url = f"/api/locks/{home.lock_id}/credentials"
    await home.keypad("3571#12#135790#135790#*")  # administrator code 1, enrolled at the keypad
    async with home.hub.client(home.token) as c:
        for body in (
            {"kind": "code", "user_name": "Alice", "code": "246813"},
            {"kind": "code", "user_name": "Dan", "code": "864200"},
            {"kind": "card", "user_name": "Bob", "card_uid": "04A1B2C3"},
        ):
            assert (await c.post(url, json=body)).status_code == 201

        async def rows_are(*expected: tuple[str, int, str]) -> bool:
            rows = await _credentials(home)
            return sorted((r["kind"], r["number"], r["sync_state"]) for r in rows) == sorted(expected)

        await eventually(
            lambda: rows_are(
                ("code", 1, "synced"), ("code", 2, "synced"), ("code", 3, "synced"), ("card", 1, "synced")
            )
        )
        await home.keypad("3571#135790#22#2##*")  # delete code 2 at the keypad (L6.1)
        await eventually(
            lambda: rows_are(("code", 1, "synced"), ("code", 3, "synced"), ("card", 1, "synced"))
        )
        await home.keypad("3571#135790#33##*")  # clear all cards (L6.3)
        await eventually(lambda: rows_are(("code", 1, "synced"), ("code", 3, "synced")))
        await home.keypad("3571#135790#3570##*")  # initialize (L7.1)
        await eventually(lambda: rows_are())
        again = await c.post(url, json={"kind": "code", "user_name": "Carol", "code": "97531864"})
        assert again.status_code == 201, again.text  # not a UNIQUE-constraint 500
        assert again.json()["number"] == 1 and again.json()["administrator"] is True  # L2.3, item 11
        await eventually(lambda: rows_are(("code", 1, "synced")))
        await asyncio.sleep(0.5)  # a few more states: nothing stale comes back
        assert [r["user_name"] for r in await _credentials(home)] == ["Carol"]


async def test_memory_damaged_lock_stays_locked_and_is_restored_from_the_app(home: Home) -> None:
    """Issue 10 item 3: a lock whose memory copies are both damaged reports it, opens for nobody, and
    the owner restores it from the app with a new administrator code."""
    base = f"/api/locks/{home.lock_id}"
    await home.keypad("3571#12#135790#135790#*")
    config = home.gateway.config
    await home.gateway.stop()
    folder = config.data_dir / f"lock-{home.lock.serial}"
    for slot in ("memory.a.json", "memory.b.json"):
        if (folder / slot).exists():
            (folder / slot).write_bytes(b"\x00" * 512)
    async with Gateway(config) as gw, home.hub.client(home.token) as c:
        home.gateway = gw

        async def damaged() -> dict[str, Any] | None:
            row = (await c.get(base)).json()
            return row if row["online"] and row["memory_damaged"] else None

        row = await eventually(damaged, 15)
        assert "MemoryDamaged" in row["alarms"] and row["lock_state"] == "locked"
        await home.keypad("135790#")
        refused = gw.locks[home.lock.serial].firmware.state()
        assert refused.motor == "locked" and refused.last_prompts[-1] == "memory_damaged"
        r = await c.post(f"{base}/restore", json={"admin_code": "11223344", "user_name": "Owner"})
        assert r.status_code == 201, r.text
        assert r.json()["administrator"] is True and r.json()["number"] == 1

        async def healthy() -> bool:
            row = (await c.get(base)).json()
            rows = await _credentials(home)
            return row["memory_damaged"] is None and [x["user_name"] for x in rows] == ["Owner"]

        await eventually(healthy)
        await home.keypad("11223344#")
        assert gw.locks[home.lock.serial].firmware.state().motor == "unlocked"
        r = await c.post(f"{base}/restore", json={"admin_code": "11223344", "user_name": "Owner"})
        assert r.status_code == 409 and "readable" in r.json()["detail"]


async def test_a7_remote_unlock_needs_pin_and_is_rate_limited(home: Home) -> None:
    base = f"/api/locks/{home.lock_id}"
    async with home.hub.client(home.token) as c:
        r = await c.post(f"{base}/unlock", json={"pin": "1234"})
        assert r.status_code == 409 and "Account > Remote unlock PIN" in r.json()["detail"]  # issue 15 #17
        assert "/api/" not in r.json()["detail"]
        r = await c.put("/api/auth/unlock-pin", json={"password": "correct horse battery", "pin": "4321"})
        assert r.status_code == 204
        r = await c.post(f"{base}/unlock", json={"pin": "1111"})
        assert r.status_code == 403 and "4 attempts left" in r.json()["detail"]
        r = await c.post(f"{base}/unlock", json={"pin": "4321"})
        assert r.status_code == 200 and r.json()["result"]["motor"] == "unlocked"

        async def logged() -> list[dict[str, Any]]:
            entries = (await c.get(f"{base}/log", params={"source": "Remote"})).json()
            return [e for e in entries if e["operation"] == "Unlock"]

        entry = (await eventually(logged))[0]
        assert entry["user_name"] == "alice"
        for _ in range(5):
            await c.post(f"{base}/unlock", json={"pin": "0000"})
        r = await c.post(f"{base}/unlock", json={"pin": "4321"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


async def test_a2_a_lock_proves_its_code_through_its_gateway(home: Home) -> None:
    """The gateway answers ``device.prove`` for its paired lock with the lock's code (A2, C3.2)."""

    async def verified() -> bool:
        async with home.hub.client(home.token) as c:
            return bool((await c.get(f"/api/devices/{home.lock_id}")).json()["verified"])

    assert await eventually(verified, 15)


async def test_a7_normally_open_mode_and_volume(home: Home) -> None:
    base = f"/api/locks/{home.lock_id}"
    async with home.hub.client(home.token) as c:
        assert (await c.put(f"{base}/operating-mode", json={"mode": "Passage"})).status_code == 200
        assert (await c.put(f"{base}/volume", json={"level": "low"})).status_code == 200
        r = await c.put(f"{base}/volume", json={"level": "deafening"})
        assert r.status_code == 422 and "level" in r.json()["message"]

        async def applied() -> bool:
            row = (await c.get(base)).json()
            return bool(row["operating_mode"] == "Passage" and row["volume"] == "low")

        await eventually(applied)


async def test_g5_lock_paired_from_the_app_once_in_pairing_mode(hub: Hub, tmp_path: Path) -> None:
    _, token = await hub.user("alice")
    gateway_label, lock_label = label("gateway"), label("lock")
    gateway = await hub.add_device(token, gateway_label)
    lock = await hub.add_device(token, lock_label, gateway_id=gateway["id"])
    config = GatewayConfig(
        serial=gateway_label.serial,
        code=gateway_label.code,
        mqtt_port=hub.mosquitto.port,
        data_dir=tmp_path / "gateway",
        lock_serial=lock_label.serial,
        lock_code=lock_label.code,
        pair_on_start=False,
        tick_interval=0.05,
    )
    async with Gateway(config), hub.client(token) as c:

        async def gateway_online() -> bool:
            return bool((await c.get(f"/api/devices/{gateway['id']}")).json()["online"])

        await eventually(gateway_online, 15)
        r = await c.post(f"/api/devices/{lock['id']}/pair")
        assert r.status_code == 200 and r.json()["paired"] is False and "pairing mode" in r.json()["detail"]
        # L12.2: hold the lock's RESET for 3 s (an input on the unpaired lock, through the gateway)
        ack = await hub.app.state.mqtt.send_command(
            gateway_label.serial, "panel.input", {"input": "reset", "value": 3, "device": lock_label.serial}
        )
        assert ack.ok, ack.error
        r = await c.post(f"/api/devices/{lock['id']}/pair")
        assert r.status_code == 200 and r.json()["paired"] is True

        async def lock_online() -> bool:
            row = (await c.get(f"/api/locks/{lock['id']}")).json()
            return bool(row["online"] and row["lock_state"])

        await eventually(lock_online, 15)

    async def offline() -> bool:  # the gateway left: it and the lock it speaks for are offline (A3)
        async with hub.client(token) as c:
            rows = (await c.get("/api/devices")).json()
        return all(not row["online"] for row in rows)

    await eventually(offline, 10)


async def test_a3_lock_added_after_its_gateway_spoke_still_shows_its_state(hub: Hub, tmp_path: Path) -> None:
    """The lock's first state was published before the lock was in any account (refused, or dropped by
    the broker's ACL); adding it makes the hub fetch it (re-subscription and ``lock.state``)."""
    _, token = await hub.user("alice")
    gateway_label, lock_label = label("gateway"), label("lock")
    gateway = await hub.add_device(token, gateway_label)
    config = GatewayConfig(
        serial=gateway_label.serial,
        code=gateway_label.code,
        mqtt_port=hub.mosquitto.port,
        data_dir=tmp_path / "gateway",
        lock_serial=lock_label.serial,
        lock_code=lock_label.code,
        tick_interval=0.05,
    )
    async with Gateway(config), hub.client(token) as c:

        async def gateway_online() -> bool:
            return bool((await c.get(f"/api/devices/{gateway['id']}")).json()["online"])

        await eventually(gateway_online, 15)
        await asyncio.sleep(1.0)  # the lock's state has been published (and lost) by now
        lock = await hub.add_device(token, lock_label, gateway_id=gateway["id"])

        async def lock_state_known() -> bool:
            row = (await c.get(f"/api/locks/{lock['id']}")).json()
            return bool(row["online"] and row["lock_state"] == "locked" and row["battery"] is not None)

        await eventually(lock_state_known, 10)


async def test_a7_temporary_code_outside_its_window_does_not_open(home: Home) -> None:
    """A code valid only from tomorrow: the lock keeps the window and refuses it today (A7, chosen)."""
    from datetime import UTC, datetime, timedelta

    start = datetime.now(UTC) + timedelta(days=1)
    body = {
        "kind": "code",
        "user_name": "Guest",
        "code": "7070707",
        "valid_from": start.isoformat(),
        "valid_until": (start + timedelta(hours=4)).isoformat(),
    }
    async with home.hub.client(home.token) as c:
        await home.keypad("3571#12#135790#135790#*")  # an administrator first (L2.3)
        r = await c.post(f"/api/locks/{home.lock_id}/credentials", json=body)
        assert r.status_code == 201 and r.json()["user_type"] == "ExpiringUser", r.text
        lock_view = home.gateway.locks[home.lock.serial].state()["credentials"]
        guest = next(x for x in lock_view if x.get("name") == "Guest")
        assert abs(guest["valid_from"] - start.timestamp()) < 1
        await home.keypad("7070707#")

        async def refused() -> list[dict[str, Any]]:
            log = (
                await c.get(f"/api/locks/{home.lock_id}/log", params={"type": "LockOperationError"})
            ).json()
            return [e for e in log if e["source"] == "Keypad"]

        assert (await eventually(refused))[0]["operation"] == "Unlock"
        log = (await c.get(f"/api/locks/{home.lock_id}/log", params={"type": "LockOperation"})).json()
        assert not [e for e in log if e["source"] == "Keypad"]


async def test_lock_panel_front_panel_goes_back_and_reset_prompt_comes_while_held(home: Home) -> None:
    """Issue 15 items 12 and 13 through the hub's panel route and the gateway's ticking (L10.1, L12.2)."""
    url = f"/api/panels/{home.lock_id}"
    async with home.hub.client(home.token) as c:

        async def panel_state() -> dict[str, Any]:
            return dict((await c.get(url)).json()["state"])

        async def press(name: str, value: Any = None) -> dict[str, Any]:
            r = await c.post(f"{url}/input", json={"input": name, "value": value})
            assert r.status_code == 200, r.text
            return dict(r.json()["result"])

        await press("tamper", "on")
        assert not (await press("touch"))["display"]["lit"]  # the keypad is dead without its panel
        await press("replace_front_panel")
        assert (await press("touch"))["display"]["lit"]
        await eventually(lambda: _state_is(panel_state, front_panel_removed=False))
        await press("reset_down")

        async def pairing_while_held() -> bool:
            s = await panel_state()
            return bool(
                s["pairing_mode"] and s["last_prompts"][-1] == "pairing" and s["display"]["text"] == "5"
            )

        await eventually(pairing_while_held, 10)  # no reset_up sent yet: the firmware's timer did it
        assert not (await press("reset_up"))["prompts"]  # releasing does not announce it twice
        assert "pairing_ended" in (await press("key", "*"))["prompts"]


async def _state_is(read: Callable[[], Awaitable[dict[str, Any]]], **expected: Any) -> bool:
    state = await read()
    return all(state.get(k) == v for k, v in expected.items())
