"""The embedded broker for ``vakt demo``: amqtt on a local port, with our accounts and ACL enforced.

Every CONNECT is checked before amqtt touches any existing session: login, client id (a device only as
itself) and last-will topic (only its own), so no one can take over, wipe or kick another client's
session (issue 11 H1, H2). When accounts change, connected clients whose login no longer holds are
disconnected, as Mosquitto does on reload.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.errors import MQTTError
from amqtt.mqtt.connack import BAD_USERNAME_PASSWORD, NOT_AUTHORIZED, ConnackPacket
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session
from amqtt.utils import gen_client_id

from vakt.broker.accounts import BrokerAccounts

log = logging.getLogger(__name__)


class AccountsAuthPlugin(BaseAuthPlugin):
    """Accepts a connection only with a username and password that match BrokerAccounts."""

    @dataclass
    class Config:
        accounts: Any = None

    async def authenticate(self, *, session: Session) -> bool | None:
        accounts: BrokerAccounts = self.config.accounts
        return _refusal(accounts, session) is None


class AccountsTopicPlugin(BaseTopicPlugin):
    """Lets each account publish, subscribe and receive only what BrokerAccounts allows."""

    @dataclass
    class Config:
        accounts: Any = None

    async def topic_filtering(
        self, *, session: Session | None = None, topic: str | None = None, action: Action | None = None
    ) -> bool | None:
        accounts: BrokerAccounts = self.config.accounts
        allowed = bool(
            session
            and topic
            and accounts.may_access(session.username, topic)
            and _still_valid(accounts, session)
        )
        if not allowed and action is not Action.RECEIVE:
            log.info(
                "embedded broker: %s denied %s on %s", session.username if session else None, action, topic
            )
        return allowed


def _refusal(accounts: BrokerAccounts, session: Session) -> str | None:
    will = session.will_topic if session.will_flag else None
    return accounts.connect_refusal(session.username, session.password, session.client_id, will)


_valid_cache: dict[tuple[str, str, str], bool] = {}


def _still_valid(accounts: BrokerAccounts, session: Session) -> bool:
    """Whether the session's login still holds (accounts change while clients stay connected); cached."""
    username, password = session.username or "", session.password or ""
    account = accounts.device(username)
    stored = (
        accounts.hub_password_hash if username == accounts.hub_username else account and account.password_hash
    )
    if not stored:
        return False
    key = (username, stored, password)
    if key not in _valid_cache:
        if len(_valid_cache) > 4096:
            _valid_cache.clear()
        _valid_cache[key] = accounts.authenticate(username, password)
    return _valid_cache[key]


class _Broker(Broker):
    """amqtt's broker with our CONNECT checks first, replaying retained messages only for a client's own
    subscriptions.

    amqtt deletes (clean session) or takes over (same client id) an existing session before it asks the
    auth plugins, so anyone knowing a client id could wipe or kick that client; and on every connect it
    replays the retained messages of every subscription filter in the broker, not just the client's:
    with the hub on ``vakt/v1/+/state`` each device would read every device's state.
    """

    accounts: BrokerAccounts

    async def _initialize_client_session(
        self, reader: Any, writer: Any, remote_address: str, remote_port: int
    ) -> tuple[BrokerProtocolHandler, Session]:
        handler, incoming = await BrokerProtocolHandler.init_from_connect(
            reader, writer, self.plugins_manager
        )
        refusal = _refusal(self.accounts, incoming)
        if refusal is not None:
            log.warning("embedded broker: refused connection from %s: %s", remote_address, refusal)
            login_ok = self.accounts.authenticate(incoming.username, incoming.password)
            if not login_ok:
                self.accounts.note_refused_login(incoming.username)
            await ConnackPacket.build(0, NOT_AUTHORIZED if login_ok else BAD_USERNAME_PASSWORD).to_stream(
                writer
            )
            await writer.close()
            raise MQTTError(refusal)
        return handler, await self._adopt(incoming)

    async def _adopt(self, incoming: Session) -> Session:
        """The session an authorized CONNECT continues: a fresh one, or its own persistent one."""
        existing = self._sessions.get(incoming.client_id or "")
        if incoming.clean_session:
            if incoming.client_id:
                await self._delete_session(incoming.client_id)
            else:
                incoming.client_id = gen_client_id()
            incoming.parent = 0
            return incoming
        if existing is None:
            incoming.parent = 0
            return incoming
        session = existing[0]
        for name in ("will_flag", "will_message", "will_topic", "will_qos", "will_retain", "keep_alive"):
            setattr(session, name, getattr(incoming, name))
        session.username, session.password = incoming.username, incoming.password
        session.parent = 1
        return session

    async def revoke_stale(self) -> None:
        """Disconnect (and forget) every session whose login no longer holds: removed or re-keyed account."""
        for client_id, (session, handler) in list(self._sessions.items()):
            if _refusal(self.accounts, session) is None:
                continue
            log.warning(
                "embedded broker: disconnecting %s (%s): its account was removed or changed",
                client_id,
                session.username,
            )
            with contextlib.suppress(Exception):
                await handler.handle_connection_closed()  # ends its message loop: the will goes out
            with contextlib.suppress(Exception):
                await handler.stop()  # closes the socket
            await self._delete_session(client_id)

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
        self._broker: _Broker | None = None
        self._revocations: set[asyncio.Task[None]] = set()
        accounts.on_change(self._accounts_changed)

    def _config(self) -> dict[str, Any]:
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                f"{__name__}.AccountsAuthPlugin": {"accounts": self.accounts},
                f"{__name__}.AccountsTopicPlugin": {"accounts": self.accounts},
            },
        }

    def _accounts_changed(self) -> None:
        broker = self._broker
        if broker is None:
            return
        task = asyncio.get_running_loop().create_task(broker.revoke_stale(), name="broker-revoke-stale")
        self._revocations.add(task)
        task.add_done_callback(self._revocations.discard)

    async def settled(self) -> None:
        """Wait until sessions made stale by the last account change are disconnected (tests)."""
        while self._revocations:
            await asyncio.gather(*self._revocations, return_exceptions=True)

    async def start(self) -> None:
        self._broker = _Broker(self._config())
        self._broker.accounts = self.accounts
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
