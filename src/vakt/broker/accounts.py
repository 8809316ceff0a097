"""Who may connect to the broker and which topics each account may touch.

One model renders both the Mosquitto password/ACL files and the embedded broker's checks. Passwords
are kept only as Mosquitto's PBKDF2-SHA512 hashes (``$7$<iterations>$<salt>$<hash>``), never in clear.
A device account may touch only ``vakt/v1/<serial>/#`` for its own serial and, for a gateway, the
serials of its paired locks; the hub account is privileged. A device may connect only with its own client
id (``vakt-<serial>`` or ``<serial>``) and a last will on its own topics, so it can neither take over the
hub's session nor declare another device offline (issue 11 H1, H2). An integration account (Home
Assistant's, ``ha-<account id>``) may read and write only the topic filters it is given (V3).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, Field, PrivateAttr

from vakt.protocol.topics import PREFIX, SERIAL_PATTERN

PBKDF2_ITERATIONS = 101  # mosquitto_passwd's default for $7$ hashes
HUB_USERNAME = "hub"
DEVICE_CLIENT_ID_PREFIX = "vakt-"


def device_client_ids(serial: str) -> tuple[str, str]:
    """The client ids a device account may connect with: ``vakt-<serial>`` (DeviceClient) or its serial."""
    return f"{DEVICE_CLIENT_ID_PREFIX}{serial}", serial


def hash_password(password: str, *, iterations: int = PBKDF2_ITERATIONS, salt: bytes | None = None) -> str:
    """A Mosquitto 2 ``$7$`` password hash (PBKDF2-HMAC-SHA512, 12-byte salt, 64-byte key)."""
    salt = salt if salt is not None else os.urandom(12)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """Check a password against a ``$7$`` hash in constant time; False for any malformed hash."""
    try:
        _, kind, iterations, salt, key = encoded.split("$")
        if kind != "7":
            return False
        expected = base64.b64decode(key, validate=True)
        got = hashlib.pbkdf2_hmac(
            "sha512", password.encode(), base64.b64decode(salt, validate=True), int(iterations), len(expected)
        )
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(got, expected)


class DeviceAccount(BaseModel):
    username: str = Field(pattern=SERIAL_PATTERN.pattern, description="the device serial")
    password_hash: str
    serials: list[str] = Field(description="serials whose topics it may touch: its own first, then relayed")


INTEGRATION_USERNAME = re.compile(r"^[a-z]+-[0-9]{1,12}$")  # e.g. ha-7: never a device serial pattern clash


class IntegrationAccount(BaseModel):
    """A third-party client (Home Assistant) limited to explicit topic filters; ``read`` may be received
    and subscribed to, ``write`` published to (Mosquitto enforces the split; the embedded broker, which
    does not tell them apart for any account, allows the union)."""

    username: str = Field(pattern=INTEGRATION_USERNAME.pattern)
    password_hash: str
    read: list[str] = Field(default_factory=list)
    write: list[str] = Field(default_factory=list)


def topic_matches(pattern: str, topic: str) -> bool:
    """Whether MQTT filter ``pattern`` covers ``topic`` (which may itself be a filter: every topic it
    names must be covered, so ``a/#`` is not covered by ``a/+/b/#``)."""
    want, have = pattern.split("/"), topic.split("/")
    for i, level in enumerate(want):
        if level == "#":
            return True
        if i >= len(have) or have[i] == "#":
            return False
        if level != "+" and (level != have[i] or have[i] == "+"):
            return False
    return len(want) == len(have)


def topic_overlaps(pattern: str, topic_filter: str) -> bool:
    """Whether some topic is named by both filters (a subscription that may receive allowed messages)."""
    a, b = pattern.split("/"), topic_filter.split("/")
    for x, y in zip(a, b, strict=False):
        if "#" in (x, y):
            return True
        if x != y and "+" not in (x, y):
            return False
    return len(a) == len(b)


class BrokerAccounts(BaseModel):
    """The broker's accounts: one privileged hub user, one account per device, integration accounts."""

    hub_username: str = HUB_USERNAME
    hub_password_hash: str
    devices: list[DeviceAccount] = Field(default_factory=list)
    integrations: list[IntegrationAccount] = Field(default_factory=list)
    _listeners: list[Callable[[], None]] = PrivateAttr(default_factory=list)
    _refused_logins: dict[str, float] = PrivateAttr(default_factory=dict)

    @classmethod
    def create(cls, hub_password: str, hub_username: str = HUB_USERNAME) -> BrokerAccounts:
        return cls(hub_username=hub_username, hub_password_hash=hash_password(hub_password))

    def device(self, username: str) -> DeviceAccount | None:
        return next((d for d in self.devices if d.username == username), None)

    def integration(self, username: str) -> IntegrationAccount | None:
        return next((i for i in self.integrations if i.username == username), None)

    def set_device(self, serial: str, password: str, relayed: Sequence[str] = ()) -> DeviceAccount:
        """Add or replace a device account (its password derived from its verification code)."""
        if serial == self.hub_username:
            raise ValueError(f"device serial {serial!r} clashes with the hub user")
        serials = [serial, *[s for s in relayed if s != serial]]
        for s in serials:
            if not SERIAL_PATTERN.match(s):
                raise ValueError(f"invalid device serial {s!r}")
        account = DeviceAccount(username=serial, password_hash=hash_password(password), serials=serials)
        self.devices = [d for d in self.devices if d.username != serial] + [account]
        return account

    def allow_relay(self, gateway: str, serial: str) -> None:
        """Let a gateway's account also touch a paired lock's topics (G5)."""
        account = self.device(gateway)
        if account is None:
            raise KeyError(f"no broker account for gateway {gateway}")
        if not SERIAL_PATTERN.match(serial):
            raise ValueError(f"invalid device serial {serial!r}")
        if serial not in account.serials:
            account.serials.append(serial)

    def remove_device(self, serial: str) -> None:
        self.devices = [d for d in self.devices if d.username != serial]
        for account in self.devices:
            if serial in account.serials[1:]:
                account.serials.remove(serial)

    def authenticate(self, username: str | None, password: str | None) -> bool:
        if not username or password is None:
            return False
        if username == self.hub_username:
            return verify_password(password, self.hub_password_hash)
        account = self.device(username) or self.integration(username)
        return account is not None and verify_password(password, account.password_hash)

    def may_access(self, username: str | None, topic: str) -> bool:
        """Whether ``username`` may publish to, subscribe to or receive ``topic`` (a name or filter)."""
        if not username:
            return False
        if username == self.hub_username:
            return not topic.startswith("$")
        integration = self.integration(username)
        if integration is not None:
            filters = [*integration.read, *integration.write]
            wildcard = "+" in topic or "#" in topic  # a subscription: each message is checked on delivery
            return any((topic_overlaps if wildcard else topic_matches)(f, topic) for f in filters)
        account = self.device(username)
        if account is None:
            return False
        levels = topic.split("/")
        return len(levels) >= 4 and "/".join(levels[:2]) == PREFIX and levels[2] in account.serials

    def connect_refusal(
        self, username: str | None, password: str | None, client_id: str | None, will_topic: str | None
    ) -> str | None:
        """Why a CONNECT must be refused (login, client id, last will), or None when it may connect."""
        if not self.authenticate(username, password):
            return f"wrong username or password for {username!r}"
        if self.integration(username or "") is not None:
            if client_id is None or client_id.startswith(DEVICE_CLIENT_ID_PREFIX) or self.device(client_id):
                return f"{username} may not use client id {client_id!r} (a device's or the hub's)"
        elif username != self.hub_username and client_id not in device_client_ids(username or ""):
            return f"device {username} may connect only as client id {device_client_ids(username or '')[0]!r}"
        if will_topic is not None and not self.may_access(username, will_topic):
            return f"{username} may not set a last will on {will_topic!r} (not its own topic)"
        return None

    def note_refused_login(self, username: str | None) -> None:
        """A broker that sees logins (the embedded one) records a refused one: a device with another code."""
        if username and SERIAL_PATTERN.match(username) and len(self._refused_logins) < 10_000:
            self._refused_logins[username] = time.monotonic()

    def refused_login_since(self, username: str, since: float) -> bool:
        """Whether ``username`` tried a wrong password at or after ``since`` (``time.monotonic()``)."""
        return self._refused_logins.get(username, -1.0) >= since

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every :meth:`changed` (the embedded broker re-checks its sessions)."""
        self._listeners.append(listener)

    def changed(self) -> None:
        """Tell listeners that accounts were replaced or removed."""
        for listener in list(self._listeners):
            listener()

    def save(self, path: Path) -> None:
        """Write atomically: the file holds either the old or the new accounts, never half of them."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(self.model_dump_json(indent=2))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> BrokerAccounts:
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
