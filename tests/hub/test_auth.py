"""A1 accounts: registration, sign-in, sign-out, session expiry and revocation, rate limits, clear 422s."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.hub.conftest import Hub, Mosquitto, hub_settings, running_hub
from vakt.hub.auth import token_digest
from vakt.hub.db import utcnow
from vakt.hub.models.users import AuthSession, User


async def test_a1_password_is_stored_as_argon2_and_token_only_hashed(hub: Hub) -> None:
    _, token = await hub.user("alice", "a long password 1")
    async with hub.app.state.sessionmaker() as s:
        user = await s.scalar(select(User).where(User.username == "alice"))
        rows = (await s.scalars(select(AuthSession))).all()
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert "a long password 1" not in user.password_hash
    assert [r.token_hash for r in rows] == [token_digest(token)]


async def test_a1_register_rejects_bad_input_with_clear_422(hub: Hub) -> None:
    async with hub.client() as c:
        r = await c.post("/api/auth/register", json={"email": "nope", "username": "x", "password": "s3cr3t"})
        assert r.status_code == 422
        message = r.json()["message"]
        assert "body.email" in message and "body.username" in message and "body.password" in message
        assert "s3cr3t" not in r.text  # passwords are never echoed back
        r = await c.post(
            "/api/auth/register", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert r.status_code == 422 and "JSON" in r.json()["message"]
        r = await c.post("/api/auth/login", json={"login": "alice"})
        assert r.status_code == 422 and "body.password: Field required" in r.json()["message"]


async def test_a1_duplicate_registration_is_refused(hub: Hub) -> None:
    await hub.user("alice")
    async with hub.client() as c:
        r = await c.post(
            "/api/auth/register",
            json={"email": "ALICE@example.org", "username": "other", "password": "x" * 12},
        )
        assert r.status_code == 409
        r = await c.post(
            "/api/auth/register", json={"email": "new@example.org", "username": "Alice", "password": "x" * 12}
        )
        assert r.status_code == 409


async def test_a1_sign_in_by_email_cookie_and_sign_out(hub: Hub) -> None:
    await hub.user("alice", "a long password 1")
    async with hub.client() as c:
        r = await c.post(
            "/api/auth/login", json={"login": "Alice@Example.org", "password": "a long password 1"}
        )
        assert r.status_code == 200
        cookie = r.headers["set-cookie"]
        assert (
            "vakt_session=" in cookie
            and "HttpOnly" in cookie
            and "SameSite=lax" in cookie.replace("Lax", "lax")
        )
        assert (await c.get("/api/auth/me")).status_code == 200  # the cookie alone signs in
        assert (await c.post("/api/auth/logout")).status_code == 204
        c.cookies.clear()
        token = r.json()["token"]
    async with hub.client(token) as c:
        assert (await c.get("/api/auth/me")).status_code == 401  # signed out means revoked


async def test_a1_wrong_password_is_401_without_saying_which_part(hub: Hub) -> None:
    await hub.user("alice")
    async with hub.client() as c:
        r1 = await c.post("/api/auth/login", json={"login": "alice", "password": "wrong"})
        r2 = await c.post("/api/auth/login", json={"login": "nobody", "password": "wrong"})
    assert r1.status_code == r2.status_code == 401
    assert r1.json() == r2.json()


async def test_a1_sessions_listed_and_revoked(hub: Hub) -> None:
    _, first = await hub.user("alice", "a long password 1")
    async with hub.client() as c:
        second = (
            await c.post("/api/auth/login", json={"login": "alice", "password": "a long password 1"})
        ).json()
    async with hub.client(first) as c:
        sessions = (await c.get("/api/auth/sessions")).json()
        assert len(sessions) == 2 and [s["current"] for s in sessions] == [True, False]
        other = sessions[1]["id"]
        assert (await c.delete(f"/api/auth/sessions/{other}")).status_code == 204
        assert len((await c.get("/api/auth/sessions")).json()) == 1
    async with hub.client(second["token"]) as c:
        assert (await c.get("/api/auth/me")).status_code == 401


async def test_a1_cannot_revoke_someone_elses_session(hub: Hub) -> None:
    _, alice = await hub.user("alice")
    _, bob = await hub.user("bob")
    async with hub.client(bob) as c:
        bob_session = (await c.get("/api/auth/sessions")).json()[0]["id"]
    async with hub.client(alice) as c:
        assert (await c.delete(f"/api/auth/sessions/{bob_session}")).status_code == 404
    async with hub.client(bob) as c:
        assert (await c.get("/api/auth/me")).status_code == 200


async def test_a1_expired_session_is_refused(hub: Hub) -> None:
    _, token = await hub.user("alice")
    async with hub.app.state.sessionmaker() as s:
        await s.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        await s.commit()
    async with hub.client(token) as c:
        r = await c.get("/api/devices")
    assert r.status_code == 401 and "expired" in r.json()["detail"]


@pytest.mark.parametrize("by", ["account", "address"])
async def test_a1_login_rate_limited_per_account_and_address(
    tmp_path: Path, mosquitto: Mosquitto, by: str
) -> None:
    """Failures slow down the account (and the account from this address) or, many names tried, the address;
    an account that has signed in from this address before is not slowed by other names failing here."""
    settings = hub_settings(tmp_path, mosquitto, login_max_failures=3, mqtt_enabled=False)
    async with running_hub(settings, mosquitto, services=[]) as hub:
        await hub.user("alice", "a long password 1")
        async with hub.client() as c:
            body = {"email": "bob@example.org", "username": "bob", "password": "a long password 2"}
            assert (await c.post("/api/auth/register", json=body)).status_code == 201  # never signed in
            for i in range(3 if by == "account" else 12):
                login = "alice" if by == "account" else f"user{i}"
                r = await c.post("/api/auth/login", json={"login": login, "password": "wrong"})
                assert r.status_code == 401
            # even the right password is refused while waiting, with a clear 429 and Retry-After
            blocked = "alice" if by == "account" else "bob"
            password = "a long password 1" if by == "account" else "a long password 2"
            r = await c.post("/api/auth/login", json={"login": blocked, "password": password})
            assert r.status_code == 429
            assert int(r.headers["retry-after"]) > 0 and "too many failed sign-ins" in r.json()["detail"]
            if by == "address":
                r = await c.post("/api/auth/login", json={"login": "alice", "password": "a long password 1"})
                assert r.status_code == 200


async def test_a1_revoking_a_session_closes_its_websocket(hub: Hub) -> None:
    import websockets

    _, token = await hub.user("alice")
    async with websockets.connect(hub.url.replace("http", "ws") + f"/api/ws?token={token}") as ws:
        assert "hello" in await ws.recv()
        async with hub.client(token) as c:
            assert (await c.post("/api/auth/logout")).status_code == 204
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401  # vakt.hub.authz.watch
