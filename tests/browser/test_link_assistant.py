"""Issue 13 item 1 (C11): linking a voice assistant in real Chromium: the OAuth request survives sign-in,
the consent screen lists the exposed devices, Allow sends the browser back to the assistant with a code
that the assistant exchanges (PKCE), and Account > Linked assistants lists it and unlinks it."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.browser.conftest import PASSWORD, System, new_page, require

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # run last: Playwright keeps a loop running
REDIRECT = "https://layla.amazon.com/api/skill/link/M2BROWSER"


def _hub_owner(system: System) -> tuple[httpx.Client, str]:
    """The hub's owner is its first account: alice when test_app.py ran first, else dora registered here
    (never alice: test_app.py registers her itself)."""
    client = httpx.Client(base_url=system.url, timeout=15)
    name = "alice"
    r = client.post("/api/auth/login", json={"login": name, "password": PASSWORD})
    if r.status_code != 200:
        name = "dora"
        r = client.post(
            "/api/auth/register",
            json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
        )
        assert r.status_code == 201, r.text
        r = client.post("/api/auth/login", json={"login": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return client, name


def test_c11_consent_screen_links_and_the_account_unlinks(browser: Any, system: System) -> None:
    require("/api/oauth/authorize", "/api/oauth/links")
    api, name = _hub_owner(system)
    r = api.post(
        "/api/oauth/clients",
        json={"name": "Alexa at home", "assistant": "alexa", "redirect_uris": [REDIRECT]},
    )
    assert r.status_code == 201, r.text
    client_id, client_secret = r.json()["client_id"], r.json()["client_secret"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "state": "s-42",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    exposed = api.get("/api/oauth/authorize", params=query).json()["devices"]

    page = new_page(browser)
    page.route(
        "https://layla.amazon.com/**", lambda route: route.fulfill(body="linked", content_type="text/plain")
    )
    try:
        page.goto(f"{system.url}/oauth/authorize?{urlencode(query)}")  # signed out: sign in first
        page.wait_for_url("**/signin?next=*")
        page.fill("input[name=username]", name)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#link-assistant h1")
        assert page.inner_text("#link-assistant h1") == "Link Alexa at home"
        assert page.locator("#exposed-devices .list-item").count() == len(exposed)
        page.click("#allow")
        page.wait_for_url(REDIRECT + "?*")
        back = parse_qs(urlsplit(page.url).query)
        assert back["state"] == ["s-42"]
        r = httpx.post(
            f"{system.url}/api/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": back["code"][0],
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
            },
            auth=(client_id, client_secret),
        )
        assert r.status_code == 200, r.text

        page.goto(f"{system.url}/account")
        item = page.locator("#linked-assistants .list-item", has_text="Alexa at home")
        item.wait_for()
        item.get_by_role("button", name="Unlink").click()
        item.wait_for(state="detached")
        assert all(link["client_id"] != client_id for link in api.get("/api/oauth/links").json())
    finally:
        page.context.close()
        api.delete(f"/api/oauth/clients/{client_id}")
        api.close()
