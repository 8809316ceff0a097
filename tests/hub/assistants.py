"""Helpers for the voice-assistant tests (issue 13): a registered client, a linked account, a receiver."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.hub.conftest import Hub

REDIRECT = "https://layla.amazon.com/api/skill/link/M2AAAAAAAAAAAA"


@dataclass
class Client:
    client_id: str
    secret: str

    @property
    def basic(self) -> dict[str, str]:
        raw = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
        return {"Authorization": f"Basic {raw}"}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def register_client(hub: Hub, owner_token: str, assistant: str = "alexa") -> Client:
    async with hub.client(owner_token) as c:
        r = await c.post(
            "/api/oauth/clients",
            json={"name": f"vakt for {assistant}", "assistant": assistant, "redirect_uris": [REDIRECT]},
        )
        assert r.status_code == 201, r.text
        return Client(r.json()["client_id"], r.json()["client_secret"])


def authorize_params(client: Client, challenge: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT,
        "state": "xyz-state",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


async def consent_code(hub: Hub, user_token: str, client: Client, challenge: str) -> str:
    """Allow on the consent screen (its API), follow the redirect: the authorization code."""
    async with hub.client(user_token) as c:
        r = await c.post("/api/oauth/authorize", json={**authorize_params(client, challenge), "allow": True})
        assert r.status_code == 200, r.text
    target = urlsplit(r.json()["redirect_to"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT
    query = parse_qs(target.query)
    assert query["state"] == ["xyz-state"]
    return query["code"][0]


async def exchange(hub: Hub, client: Client, form: dict[str, str]) -> httpx.Response:
    async with hub.client() as c:
        return await c.post("/api/oauth/token", data=form, headers=client.basic)


async def link(hub: Hub, user_token: str, client: Client) -> dict[str, Any]:
    """The whole linking: consent, code, token with PKCE; returns the token response."""
    verifier, challenge = pkce()
    code = await consent_code(hub, user_token, client, challenge)
    r = await exchange(
        hub,
        client,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


@dataclass
class Receiver:
    """A local HTTP server standing in for Alexa's event gateway / Google's Home Graph."""

    port: int = 0
    received: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)  # path -> (status, JSON body)
    _server: asyncio.Server | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
            lines = head.split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines[1:] if line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            parsed: Any = body.decode()
            if headers.get("content-type", "").startswith("application/json"):
                parsed = json.loads(body)
            self.received.append((path, headers, parsed))
            self._arrived.set()
            status, answer = self.answers.get(path, (202, {}))
            data = json.dumps(answer).encode()
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                f"Connection: close\r\n\r\n".encode()
                + data
            )
            await writer.drain()
        finally:
            writer.close()

    async def wait_for(self, predicate: Any, timeout: float = 20) -> Any:
        """The first message (path, headers, body) for which ``predicate`` holds."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for message in self.received:
                if predicate(message):
                    return message
            left = deadline - asyncio.get_running_loop().time()
            assert left > 0, f"no matching message; received: {[m[0] for m in self.received]}"
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)
