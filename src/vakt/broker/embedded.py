"""The embedded broker for ``vakt demo``: amqtt on a local port, with our accounts and ACL enforced."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session

from vakt.broker.accounts import BrokerAccounts

log = logging.getLogger(__name__)


class AccountsAuthPlugin(BaseAuthPlugin):
    """Accepts a connection only with a username and password that match BrokerAccounts."""

    @dataclass
    class Config:
        accounts: Any = None

    async def authenticate(self, *, session: Session) -> bool | None:
        accounts: BrokerAccounts = self.config.accounts
        ok = accounts.authenticate(session.username, session.password)
        if not ok:
            log.warning("embedded broker: refused login for %r", session.username)
        return ok


class AccountsTopicPlugin(BaseTopicPlugin):
    """Lets each account publish, subscribe and receive only what BrokerAccounts allows."""

    @dataclass
    class Config:
        accounts: Any = None

    async def topic_filtering(
        self, *, session: Session | None = None, topic: str | None = None, action: Action | None = None
    ) -> bool | None:
        accounts: BrokerAccounts = self.config.accounts
        allowed = bool(session and topic and accounts.may_access(session.username, topic))
        if not allowed and action is not Action.RECEIVE:
            log.info(
                "embedded broker: %s denied %s on %s", session.username if session else None, action, topic
            )
        return allowed


class _Broker(Broker):
    """amqtt's broker, replaying retained messages only for the connecting client's own subscriptions.

    On every connect amqtt replays the retained messages of every subscription filter in the broker, not
    just the client's: with the hub on ``vakt/v1/+/state`` each device would read every device's state.
    """

    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Session
    ) -> None:
        subscribers = self._subscriptions.get(subscription[0], [])
        if any(subscriber is session for subscriber, _qos in subscribers):
            await super()._publish_retained_messages_for_subscription(subscription, session)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedBroker:
    """``async with EmbeddedBroker(accounts) as broker:`` serves MQTT on ``broker.port``.

    ``accounts`` is read live: devices added to it later can connect without a restart.
    """

    def __init__(self, accounts: BrokerAccounts, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.accounts = accounts
        self.host = host
        self.port = port or free_port()
        self._broker: Broker | None = None

    def _config(self) -> dict[str, Any]:
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                f"{__name__}.AccountsAuthPlugin": {"accounts": self.accounts},
                f"{__name__}.AccountsTopicPlugin": {"accounts": self.accounts},
            },
        }

    async def start(self) -> None:
        self._broker = _Broker(self._config())
        await self._broker.start()
        log.info("embedded MQTT broker listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        broker, self._broker = self._broker, None
        if broker is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(broker.shutdown(), 10)

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
