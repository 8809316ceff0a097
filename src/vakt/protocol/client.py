"""A reusable async MQTT device client (gateway and camera emulators): availability, state, events, commands.

Connects with the device's credentials, sets the last will ``offline`` and publishes a retained
``online`` on each serial it speaks for, republishes the last retained state after a reconnect,
publishes events at QoS 1 (returns only once the broker has acknowledged them), hands the hub's
receipts (events committed, G7) to a callback when one is set, and answers every command with exactly
one Ack. Malformed commands are logged and answered with an error Ack when an
id can be read; a replayed command id is not executed again, its first Ack is re-sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import ssl
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt

from vakt.protocol.credentials import PROVE_COMMAND, device_proof
from vakt.protocol.messages import Ack, Availability, Command, Event, ProtocolError, Receipt, decode, encode
from vakt.protocol.replay import CommandMemory
from vakt.protocol.topics import Channel, parse_topic, topic

log = logging.getLogger(__name__)

CommandHandler = Callable[[str, Command], Awaitable[dict[str, Any] | None]]
"""Called with (serial the command was sent to, command); returns the Ack's result or raises."""
ReceiptHandler = Callable[[str, Receipt], None]
"""Called with (serial the receipt is for, receipt): the hub has committed these events."""


class CommandError(Exception):
    """Raised by a command handler: the command is refused with this message as the Ack's error."""


class DeviceOffline(ConnectionError):
    """The device is not connected to the broker right now."""


async def cancel_and_wait(task: asyncio.Future[Any], timeout: float = 20.0, every: float = 3.0) -> bool:
    """Cancel ``task`` and wait for it to end; True when it ended within ``timeout``.

    The cancellation is repeated: on Python 3.11 ``asyncio.wait_for`` (used inside aiomqtt) can
    swallow a cancellation that arrives just as the awaited operation completes.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not task.done() and loop.time() < deadline:
        task.cancel()
        await asyncio.wait({task}, timeout=min(every, max(0.0, deadline - loop.time())))
    return task.done()


def _id_of(payload: bytes) -> str | None:
    """The id of a command that failed validation, when one can still be read from it."""
    try:
        raw = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    ident = raw.get("id") if isinstance(raw, dict) else None
    return ident if isinstance(ident, str) and 8 <= len(ident) <= 64 else None


class DeviceClient:
    """One MQTT connection speaking for ``serial`` and for the serials it relays (a gateway's locks)."""

    def __init__(
        self,
        *,
        serial: str,
        password: str,
        host: str = "127.0.0.1",
        port: int = 1883,
        handler: CommandHandler | None = None,
        relayed_serials: Iterable[str] = (),
        keepalive: int = 15,
        reconnect_min: float = 0.2,
        reconnect_max: float = 10.0,
        max_command_age: float = 120.0,
        replay_cache: int = 512,
        tls_context: ssl.SSLContext | None = None,
        replay_file: Path | None = None,
    ) -> None:
        topic(serial, Channel.CMD)  # validates the serial
        self.serial = serial
        self._password = password
        self.host, self.port = host, port
        self._handler = handler
        self._tls = tls_context
        self._serials: list[str] = [serial]
        for extra in relayed_serials:
            self._add_serial_local(extra)
        self._keepalive = keepalive
        self._reconnect = (reconnect_min, reconnect_max)
        self._max_age = max_command_age
        self._acks = CommandMemory(replay_cache, replay_file)
        self._states: dict[str, bytes] = {}
        self._client: aiomqtt.Client | None = None
        self._session_started = False
        self._lost = asyncio.Event()
        self._on_connect: list[Callable[[], None]] = []
        self._on_receipt: ReceiptHandler | None = None
        self._denied: set[str] = set()  # serials whose command topic the broker refused so far
        self._retry_task: asyncio.Future[None] | None = None
        self.connected = asyncio.Event()

    @property
    def serials(self) -> tuple[str, ...]:
        return tuple(self._serials)

    def on_connect(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (synchronously) after every successful (re)connection."""
        self._on_connect.append(callback)

    def on_receipt(self, callback: ReceiptHandler) -> None:
        """Subscribe to the hub's receipts (``vakt/v1/<serial>/receipt``) and call ``callback`` for each."""
        self._on_receipt = callback

    def _add_serial_local(self, serial: str) -> bool:
        topic(serial, Channel.CMD)
        if serial in self._serials:
            return False
        self._serials.append(serial)
        return True

    async def add_serial(self, serial: str) -> None:
        """Start speaking for another device (a newly paired lock): its commands and availability."""
        if self._add_serial_local(serial) and self._client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await self._announce(self._client, serial)

    async def run(self) -> None:
        """Stay connected until cancelled, reconnecting with jittered exponential backoff."""
        delay = self._reconnect[0]
        while True:
            self._session_started = False
            try:
                await self._session()
            except aiomqtt.MqttError as exc:
                if self._session_started:  # a working connection was lost: retry soon
                    delay = self._reconnect[0]
                log.warning(
                    "%s: broker %s:%s unreachable or lost (%s); retrying in %.1f s",
                    self.serial,
                    self.host,
                    self.port,
                    exc,
                    delay,
                )
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self._reconnect[1])

    async def _session(self) -> None:
        will = aiomqtt.Will(
            topic(self.serial, Channel.AVAILABILITY),
            encode(Availability(status="offline")),
            qos=1,
            retain=True,
        )
        async with aiomqtt.Client(
            self.host,
            self.port,
            username=self.serial,
            password=self._password,
            identifier=f"vakt-{self.serial}",
            will=will,
            keepalive=self._keepalive,
            timeout=10,
            tls_context=self._tls,
        ) as client:
            # subscribe everything before saying "online", so no command sent after it is missed
            client.pending_calls_threshold = 1000  # a gateway sends a window of events at once, by design
            denied = await self._subscribe(client, list(self._serials))
            for serial in list(self._serials):
                if serial not in denied:
                    await self._announce(client, serial, subscribe=False)
            self._denied = set(denied)
            self._lost = asyncio.Event()
            self._client = client
            self._session_started = True
            self.connected.set()
            log.info("%s: connected to %s:%s", self.serial, self.host, self.port)
            for callback in self._on_connect:
                callback()
            if self._denied:
                self._start_retry(client)
            dispatch: asyncio.Future[None] | None = None
            try:
                async for message in client.messages:
                    dispatch = asyncio.ensure_future(
                        self._dispatch(message.topic.value, bytes(message.payload or b""))
                    )
                    await asyncio.shield(dispatch)
            except asyncio.CancelledError:
                if dispatch is not None and not dispatch.done():
                    # a command that stops us (G3) still gets its Ack out first
                    await asyncio.wait({dispatch}, timeout=5)
                await self._say_goodbye(client)  # a clean stop: the will only covers a lost connection
                raise
            finally:
                self._client = None
                self.connected.clear()
                self._lost.set()
                if self._retry_task is not None:
                    self._retry_task.cancel()
                    self._retry_task = None

    async def _subscribe(self, client: aiomqtt.Client, serials: list[str]) -> list[str]:
        """Subscribe to the serials' command topics; returns those the broker refused (SUBACK 0x80)."""
        topics = [(topic(serial, Channel.CMD), 1) for serial in serials]
        if self._on_receipt is not None:
            topics += [(topic(serial, Channel.RECEIPT), 1) for serial in serials]
        granted = await client.subscribe(topics)
        codes = [code if isinstance(code, int) else int(code.value) for code in granted or ()]
        codes = codes[: len(serials)]  # the command subscriptions decide; receipts share their ACL
        denied = [serial for serial, code in zip(serials, codes, strict=False) if code >= 0x80]
        for serial in denied:
            log.warning(
                "%s: the broker refused commands for %s (not registered yet?); will retry",
                self.serial,
                serial,
            )
        return denied

    def _start_retry(self, client: aiomqtt.Client) -> None:
        if self._retry_task is None or self._retry_task.done():
            self._retry_task = asyncio.ensure_future(self._retry_denied(client))

    async def _retry_denied(self, client: aiomqtt.Client) -> None:
        """A device the hub registers later (a lock paired before it was added) is taken up once allowed."""
        delay = 1.0
        while self._denied:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
            tried = sorted(self._denied)  # a serial refused meanwhile waits for the next round
            try:
                granted = set(tried) - set(await self._subscribe(client, tried))
                self._denied -= granted
                for serial in sorted(granted):
                    log.info("%s: now allowed to speak for %s", self.serial, serial)
                    await self._announce(client, serial, subscribe=False)
            except aiomqtt.MqttError as exc:
                log.info("%s: retrying refused subscriptions failed (%s)", self.serial, exc)
                return

    async def _announce(self, client: aiomqtt.Client, serial: str, subscribe: bool = True) -> None:
        if subscribe and await self._subscribe(client, [serial]):
            self._denied.add(serial)
            self._start_retry(client)
            return
        await client.publish(
            topic(serial, Channel.AVAILABILITY), encode(Availability(status="online")), qos=1, retain=True
        )
        if serial in self._states:
            await client.publish(topic(serial, Channel.STATE), self._states[serial], qos=1, retain=True)

    async def _say_goodbye(self, client: aiomqtt.Client) -> None:
        self._client = None
        self.connected.clear()
        with contextlib.suppress(aiomqtt.MqttError):
            for serial in self._serials:
                await client.publish(
                    topic(serial, Channel.AVAILABILITY),
                    encode(Availability(status="offline")),
                    qos=1,
                    retain=True,
                    timeout=2,
                )

    async def wait_connected(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self.connected.wait(), timeout)

    def _require_client(self) -> aiomqtt.Client:
        if self._client is None:
            raise DeviceOffline(f"{self.serial} is not connected to the broker")
        return self._client

    async def publish_state(self, serial: str, state: dict[str, Any]) -> None:
        """Remember and (when connected) publish the retained state of ``serial``."""
        payload = json.dumps(state, separators=(",", ":"), default=str).encode()
        self._states[serial] = payload
        if self._client is None:
            return
        try:
            await self._client.publish(topic(serial, Channel.STATE), payload, qos=1, retain=True, timeout=5)
        except aiomqtt.MqttError as exc:
            log.info("%s: state not published now (%s); republished on reconnect", serial, exc)

    async def publish_event(self, event: Event, timeout: float = 10.0) -> None:
        """Publish at QoS 1; returns once the broker acknowledged it, else raises DeviceOffline."""
        client, lost = self._require_client(), self._lost
        publish = asyncio.ensure_future(
            client.publish(topic(event.source, Channel.EVENT), encode(event), qos=1, timeout=timeout)
        )
        gone = asyncio.ensure_future(lost.wait())  # a dropped connection never PUBACKs: stop waiting
        try:
            await asyncio.wait({publish, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            acknowledged = publish.done() and not publish.cancelled()
            if not publish.done():
                publish.cancel()  # a cancelled task is done only once it has run: never read its result
        if not acknowledged:
            raise DeviceOffline(f"event {event.id}: connection lost before the broker acknowledged it")
        try:
            publish.result()
        except aiomqtt.MqttError as exc:
            raise DeviceOffline(f"event {event.id} not acknowledged by the broker: {exc}") from exc

    async def send_ack(self, serial: str, ack: Ack) -> None:
        client = self._require_client()
        try:
            await client.publish(topic(serial, Channel.ACK), encode(ack), qos=1, timeout=5)
        except aiomqtt.MqttError as exc:
            log.warning("%s: ack %s lost (%s)", serial, ack.id, exc)

    async def _dispatch(self, name: str, payload: bytes) -> None:
        parsed = parse_topic(name)
        if parsed is not None and parsed.channel is Channel.RECEIPT and parsed.serial in self._serials:
            self._take_receipt(parsed.serial, payload)
            return
        if parsed is None or parsed.channel is not Channel.CMD or parsed.serial not in self._serials:
            log.warning("%s: ignoring message on unexpected topic %s", self.serial, name)
            return
        ack = await self._execute(parsed.serial, payload)
        if ack is not None:
            await self.send_ack(parsed.serial, ack)

    def _take_receipt(self, serial: str, payload: bytes) -> None:
        try:
            receipt = decode(Receipt, payload)
        except ProtocolError as exc:
            log.warning("%s: ignoring a malformed receipt (%s)", serial, exc)
            return
        if self._on_receipt is not None:
            self._on_receipt(serial, receipt)

    async def _execute(self, serial: str, payload: bytes) -> Ack | None:
        try:
            command = decode(Command, payload)
        except ProtocolError as exc:
            ident = _id_of(payload)
            log.warning("%s: malformed command (%s)%s", serial, exc, "" if ident else "; no id, not answered")
            return Ack(id=ident, ok=False, error=str(exc)) if ident else None
        answered = self._acks.get(command.id)
        if answered is not None:
            log.info("%s: command %s replayed; re-sending its ack without executing", serial, command.id)
            return answered
        ack = await self._run_handler(serial, command)
        self._acks.remember(ack)
        return ack

    async def _run_handler(self, serial: str, command: Command) -> Ack:
        if command.target != serial:
            return Ack(id=command.id, ok=False, error=f"command target {command.target} sent to {serial}")
        now = datetime.now(UTC)
        age = (now - command.ts).total_seconds()
        if age > self._max_age:
            return Ack(id=command.id, ok=False, error=f"command expired ({age:.0f} s old)")
        if command.expires_at is not None and now > command.expires_at:
            # the hub has already told the user it expired: carrying it out now would surprise them
            return Ack(id=command.id, ok=False, error="command expired before it arrived; not carried out")
        if command.name == PROVE_COMMAND and serial == self.serial:  # A2: the hub checks our code
            nonce = str(command.args.get("nonce", ""))[:128]
            return Ack(id=command.id, ok=True, result={"proof": device_proof(self._password, serial, nonce)})
        if self._handler is None:
            return Ack(id=command.id, ok=False, error=f"unknown command {command.name}")
        try:
            result = await self._handler(serial, command)
        except CommandError as exc:
            log.info("%s: %s refused: %s", serial, command.name, exc)
            return Ack(id=command.id, ok=False, error=str(exc))
        except Exception:
            log.exception("%s: %s failed", serial, command.name)
            return Ack(id=command.id, ok=False, error=f"{command.name} failed inside the device")
        return Ack(id=command.id, ok=True, result=result or {})
