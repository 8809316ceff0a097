"""Issue 11, sign-in and PIN throttling (A1, A7): growing delays instead of a lock, kept in the database
across restarts, one account whether named by username or e-mail, a place the owner signed in from is
never kept out, unknown names answer as slowly as known ones, the owner hears of repeated wrong PINs."""

from __future__ import annotations

import statistics
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.hub.conftest import Hub, Mosquitto, hub_settings, label, running_hub
from vakt.hub.db import utcnow
from vakt.hub.models.alerts import Notification
from vakt.hub.models.users import AttemptCounter
from vakt.hub.ratelimit import AttemptThrottle
from vakt.hub.settings import HubSettings

PASSWORD = "correct horse battery"


class FrozenClock:
    """The throttle's clock, moved by the test: minutes of waiting take no time."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _settings(tmp_path: Path, mosquitto: Mosquitto, **extra: object) -> HubSettings:
    return hub_settings(tmp_path, mosquitto, **({"mqtt_enabled": False, "login_max_failures": 3} | extra))


@pytest.fixture
async def quiet_hub(tmp_path: Path, mosquitto: Mosquitto) -> AsyncIterator[Hub]:
    async with running_hub(_settings(tmp_path, mosquitto), mosquitto, services=[]) as hub:
        yield hub


def _from(address: str) -> dict[str, str]:
    """Requests as if from ``address`` (the hub trusts X-Forwarded-For from its local proxy, 127.0.0.1)."""
    return {"X-Forwarded-For": address}


async def _login(c: httpx.AsyncClient, login: str, password: str, address: str) -> httpx.Response:
    return await c.post(
        "/api/auth/login", json={"login": login, "password": password}, headers=_from(address)
    )


async def test_a1_delays_grow_to_a_cap_and_never_lock_the_owner_out(quiet_hub: Hub) -> None:
    hub, clock = quiet_hub, FrozenClock()
    hub.app.state.attempt_throttle.clock = clock
    async with hub.client() as c:
        await hub.user("alice")  # signed in from 127.0.0.1: the owner's usual place
        for _ in range(3):
            assert (await _login(c, "alice", "guess", "203.0.113.9")).status_code == 401
        waits = []
        for _ in range(6):
            r = await _login(c, "alice", "guess", "203.0.113.9")
            assert r.status_code == 429 and "too many failed sign-ins" in r.json()["detail"]
            waits.append(int(r.headers["retry-after"]))
            clock.advance(waits[-1])
            assert (await _login(c, "alice", "guess", "203.0.113.9")).status_code == 401
        assert waits == [5, 10, 20, 40, 60, 60]  # growing, capped at login_max_delay_s: no hard lock
        # a stranger elsewhere is slowed down too (the account key) ...
        r = await _login(c, "alice", PASSWORD, "198.51.100.20")
        assert r.status_code == 429
        # ... but the owner, from a place the account signed in from, is not kept out
        assert (await _login(c, "alice", PASSWORD, "127.0.0.1")).status_code == 200
        # and after the wait anyone with the password gets in: a delay, never a lock
        clock.advance(60)
        assert (await _login(c, "alice", PASSWORD, "198.51.100.20")).status_code == 200


async def test_a1_username_and_email_are_one_account(quiet_hub: Hub) -> None:
    hub = quiet_hub
    async with hub.client() as c:
        r = await c.post(
            "/api/auth/register", json={"email": "bob@example.org", "username": "bob", "password": PASSWORD}
        )
        assert r.status_code == 201
        for login in ("bob", "BOB@example.org", "Bob"):
            assert (await _login(c, login, "guess", "203.0.113.9")).status_code == 401
        for login in ("bob", "bob@example.org"):
            r = await _login(c, login, PASSWORD, "198.51.100.7")
            assert r.status_code == 429, login


async def test_a1_failures_survive_a_restart(tmp_path: Path, mosquitto: Mosquitto) -> None:
    settings = _settings(tmp_path, mosquitto)
    async with running_hub(settings, mosquitto, services=[]) as hub, hub.client() as c:
        for _ in range(3):
            assert (await _login(c, "carol", "guess", "203.0.113.9")).status_code == 401
        assert (await _login(c, "carol", "guess", "203.0.113.9")).status_code == 429
    async with running_hub(settings, mosquitto, services=[]) as hub, hub.client() as c:
        r = await _login(c, "carol", "guess", "203.0.113.9")
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    async with hub.app.state.sessionmaker() as s:
        rows = {r.key: r.failures for r in await s.scalars(select(AttemptCounter))}
    assert rows["name:carol"] == 3 and rows["address:203.0.113.9"] == 3


async def test_a1_unknown_names_answer_as_slowly_as_known_ones(tmp_path: Path, mosquitto: Mosquitto) -> None:
    """Timing must not tell which usernames exist (before: 41 ms unknown vs 362 ms known)."""
    settings = _settings(tmp_path, mosquitto, login_max_failures=50, argon2_memory_kib=16384)
    async with running_hub(settings, mosquitto, services=[]) as hub, hub.client() as c:
        await hub.user("alice")

        async def took(login: str) -> float:
            started = time.perf_counter()
            assert (await _login(c, login, "guess", "203.0.113.9")).status_code == 401
            return time.perf_counter() - started

        known = statistics.median([await took("alice") for _ in range(5)])
        unknown = statistics.median([await took(f"nobody{i}") for i in range(5)])
    assert unknown > 0.6 * known, (unknown, known)


async def test_a1_register_does_not_tell_which_names_exist(tmp_path: Path, mosquitto: Mosquitto) -> None:
    settings = _settings(tmp_path, mosquitto, open_registration=False)
    async with running_hub(settings, mosquitto, services=[]) as hub, hub.client() as c:
        await hub.user("alice")  # the first account
        taken = await c.post(
            "/api/auth/register", json={"email": "x@example.org", "username": "alice", "password": PASSWORD}
        )
        free = await c.post(
            "/api/auth/register", json={"email": "y@example.org", "username": "zed", "password": PASSWORD}
        )
    assert taken.status_code == free.status_code == 403 and taken.json() == free.json()


async def test_a1_unlock_pin_password_check_is_throttled(quiet_hub: Hub) -> None:
    _, token = await quiet_hub.user("alice")
    async with quiet_hub.client(token) as c:
        for _ in range(3):
            r = await c.put("/api/auth/unlock-pin", json={"password": "guess", "pin": "1234"})
            assert r.status_code == 403
        r = await c.put("/api/auth/unlock-pin", json={"password": PASSWORD, "pin": "1234"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


async def test_a7_wrong_pins_counted_in_the_database_and_owner_notified(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """Remote-unlock PIN failures survive a restart and, every pin_max_failures in a row, the owner is
    notified; the PIN is checked before anything is sent to the lock."""
    settings = hub_settings(tmp_path, mosquitto, mqtt_enabled=False, pin_max_failures=3)
    async with running_hub(settings, mosquitto) as hub:
        owner_id, token = await hub.user("alice")
        gateway = await hub.add_device(token, label("gateway"))
        lock = await hub.add_device(token, label("lock"), gateway_id=gateway["id"])
        async with hub.client(token) as c:
            r = await c.put("/api/auth/unlock-pin", json={"password": PASSWORD, "pin": "4321"})
            assert r.status_code == 204
            for left in (2, 1, 0):
                r = await c.post(f"/api/locks/{lock['id']}/unlock", json={"pin": "0000"})
                assert r.status_code == 403
                assert (f"{left} attempts left" if left else "wait 5 s") in r.json()["detail"]
    async with running_hub(settings, mosquitto) as hub:
        async with hub.client(token) as c:
            r = await c.post(f"/api/locks/{lock['id']}/unlock", json={"pin": "4321"})
            assert r.status_code == 429 and "too many wrong PINs" in r.json()["detail"]
        async with hub.app.state.sessionmaker() as s:
            counter = await s.get(AttemptCounter, f"pin:{owner_id}")
            notes = (await s.scalars(select(Notification).where(Notification.user_id == owner_id))).all()
    assert counter is not None and counter.failures == 3
    assert [n.title for n in notes] == [f"Wrong remote-unlock PINs: {lock['name']}"]
    assert notes[0].data["failures"] == 3


def test_backoff_schedule_is_pure() -> None:
    from vakt.hub.ratelimit import Backoff

    backoff = Backoff(free=2, max_delay_s=30, window_s=600)
    assert [backoff.delay_s(n) for n in range(7)] == [0, 0, 5, 10, 20, 30, 30]
    assert isinstance(AttemptThrottle().clock(), datetime)
