"""Issue 13 item 1 (C11, V1-V2): account linking through the hub's OAuth 2.0 server, driven over HTTP
like an assistant does: authorize -> consent -> code -> token with PKCE (S256) -> refresh -> revoke."""

from __future__ import annotations

from tests.hub.assistants import (
    REDIRECT,
    authorize_params,
    consent_code,
    exchange,
    link,
    pkce,
    register_client,
)
from tests.hub.conftest import Hub, label
from vakt.hub.models.devices import Device


async def test_c11_link_refresh_rotate_revoke(hub: Hub) -> None:
    _, owner = await hub.user("owner")
    client = await register_client(hub, owner)
    gateway = await hub.add_device(owner, label("gateway"))
    lock = await hub.add_device(owner, label("lock"), gateway_id=gateway["id"])
    camera = await hub.add_device(owner, label("camera"))
    secret_camera = await hub.add_device(owner, label("camera"))
    async with hub.app.state.sessionmaker() as s:  # as the camera reports it (C6): Image Encryption on
        row = await s.get(Device, secret_camera["id"])
        row.state = {"settings": {"image_encryption": True}}
        await s.commit()

    verifier, challenge = pkce()
    async with hub.client(owner) as c:
        # PKCE is required, and only S256
        for bad in ({"code_challenge": ""}, {"code_challenge_method": "plain"}):
            params = {k: v for k, v in {**authorize_params(client, challenge), **bad}.items() if v}
            r = await c.get("/api/oauth/authorize", params=params)
            assert r.status_code == 400 and "cannot link" in r.json()["message"], r.text
        r = await c.get(
            "/api/oauth/authorize",
            params=authorize_params(client, challenge, redirect_uri="https://evil.example/cb"),
        )
        assert r.status_code == 400, r.text
        # a control character is refused as a bad query (422), not a server error (found by the fuzzer)
        r = await c.get(
            "/api/oauth/authorize", params=authorize_params(client, challenge, redirect_uri="a\x80b")
        )
        assert r.status_code == 422 and "control characters" in r.json()["message"], r.text
        # the consent screen lists exactly what is exposed; the encrypted camera is not (C11.1)
        r = await c.get("/api/oauth/authorize", params=authorize_params(client, challenge))
        assert r.status_code == 200, r.text
        consent = r.json()
        assert consent["client_name"] == "vakt for alexa"
        assert {d["id"] for d in consent["devices"]} == {lock["id"], camera["id"]}
        assert [(d["id"], d["reason"]) for d in consent["hidden"]] == [
            (secret_camera["id"], "Image Encryption is on")
        ]
        # declining sends the assistant access_denied and no code
        r = await c.post("/api/oauth/authorize", json={**authorize_params(client, challenge), "allow": False})
        assert r.status_code == 200 and "error=access_denied" in r.json()["redirect_to"], r.text
        assert "code=" not in r.json()["redirect_to"]

    code = await consent_code(hub, owner, client, challenge)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    r = await exchange(hub, client, {**form, "code_verifier": pkce()[0]})  # someone else's verifier
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    r = await exchange(hub, client, {**form, "code_verifier": verifier})
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["token_type"].lower() == "bearer" and first["refresh_token"]
    r = await exchange(hub, client, {**form, "code_verifier": verifier})  # a code works once
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = await exchange(
        hub, client.__class__(client.client_id, "wrong-secret"), {**form, "code_verifier": verifier}
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"

    async with hub.client(owner) as c:
        links = (await c.get("/api/oauth/links")).json()
        assert [(x["client_id"], x["assistant"]) for x in links] == [(client.client_id, "alexa")]

    # refresh rotates: the new pair works, the old refresh token does not ...
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    r = await exchange(hub, client, refresh)
    assert r.status_code == 200, r.text
    second = r.json()
    async with hub.client(owner) as c:  # still the same link, refreshed now
        [refreshed] = (await c.get("/api/oauth/links")).json()
        assert refreshed["linked_at"] == links[0]["linked_at"]
        assert refreshed["last_refreshed_at"] > links[0]["last_refreshed_at"]
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    # ... and using it again (a copied token) ends the whole link, the new pair included
    r = await exchange(hub, client, refresh)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = await exchange(hub, client, {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]})
    assert r.status_code == 400, r.text
    async with hub.client(owner) as c:
        assert (await c.get("/api/oauth/links")).json() == []

    # link again; the client revokes (RFC 7009): its tokens stop working
    third = await link(hub, owner, client)
    async with hub.client() as c:
        r = await c.post("/api/oauth/revoke", data={"token": third["refresh_token"]}, headers=client.basic)
        assert r.status_code == 200, r.text
    r = await exchange(hub, client, {"grant_type": "refresh_token", "refresh_token": third["refresh_token"]})
    assert r.status_code == 400

    # linked from the account screen, then unlinked there
    fourth = await link(hub, owner, client)
    async with hub.client(owner) as c:
        assert len((await c.get("/api/oauth/links")).json()) == 1
        assert (await c.delete(f"/api/oauth/links/{client.client_id}")).status_code == 204
        assert (await c.get("/api/oauth/links")).json() == []
        assert (await c.delete(f"/api/oauth/links/{client.client_id}")).status_code == 404
    r = await exchange(hub, client, {"grant_type": "refresh_token", "refresh_token": fourth["refresh_token"]})
    assert r.status_code == 400


async def test_c11_only_the_hub_owner_registers_clients(hub: Hub) -> None:
    _, owner = await hub.user("owner")
    _, guest = await hub.user("guest")
    async with hub.client(guest) as c:
        r = await c.post(
            "/api/oauth/clients", json={"name": "x", "assistant": "google", "redirect_uris": [REDIRECT]}
        )
        assert r.status_code == 403 and "owner" in r.json()["message"]
        assert (await c.get("/api/oauth/clients")).status_code == 403
    client = await register_client(hub, owner, "google")
    async with hub.client(owner) as c:
        listed = (await c.get("/api/oauth/clients")).json()
        assert [x["client_id"] for x in listed] == [client.client_id] and "client_secret" not in listed[0]
