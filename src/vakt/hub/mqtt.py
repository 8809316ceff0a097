"""The hub's MQTT side: ingest of device state/event/ack/availability, and commands with correlated acks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import aiomqtt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vakt.hub.bus import EventBus
from vakt.hub.db import utcnow
from vakt.hub.hooks import HookRunner
from vakt.hub.ingest import Batch, DeviceDirectory, DeviceRef, Incoming, IngestStats, store_batch
from vakt.hub.models.devices import Device
from vakt.hub.permissions import Permission
from vakt.hub.settings import HubSettings
from vakt.protocol import Ack, Channel, Command, Event, ProtocolError, decode, encode, parse_topic, topic
from vakt.protocol.topics import PREFIX

log = logging.getLogger(__name__)

EventHook = Callable[[Device, Event], Awaitable[None]]
StateHook = Callable[[Device, dict[str, Any]], Awaitable[None]]
AvailabilityHook = Callable[[Device, bool], Awaitable[None]]
_BATCH_MAX = 500
_LINGER_S = 0.01
BUS_TOPIC = "vakt/hub/bus"  # live messages between hub processes (only the hub account may use it)


PROBE_PREFIX = "vakt/hub/probe"  # the hub's message to itself: proves the broker lets it in (issue 11)
PROBE_TIMEOUT_S = 5.0
CLIENT_ID_FILE = "mqtt-client-id"


def default_client_id(settings: HubSettings) -> str:
    """Unguessable and stable per installation (issue 11 H1): ``vakt-hub-`` and 128 random bits, made once
    and kept in ``<data>/mqtt-client-id`` (0600), so a persistent session finds the hub again after a restart
    and no device can name it."""
    path = settings.data_dir / CLIENT_ID_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another hub process made it first: use theirs
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(f"vakt-hub-{secrets.token_hex(16)}\n")
    identifier = path.read_text(encoding="utf-8").strip()
    if not identifier or len(identifier) > 64:
        raise ValueError(f"{path} does not hold an MQTT client id; delete it and a new one is made")
    return identifier


class CommandError(Exception):
    """A command that could not be delivered or was not answered in time."""


class HubMqtt:
    """Connects as the privileged hub account, keeps reconnecting, stores what devices report."""

    def __init__(
        self, settings: HubSettings, sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus
    ) -> None:
        self.settings = settings
        self.stats = IngestStats()
        self.directory = DeviceDirectory()
        self._sessionmaker = sessionmaker
        self._bus = bus
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self._queue: asyncio.Queue[Incoming] = asyncio.Queue(maxsize=50_000)
        self._pending: dict[str, tuple[str, asyncio.Future[Ack]]] = {}
        self._event_hooks: list[HookRunner] = []
        self._state_hooks: list[HookRunner] = []
        self._availability_hooks: list[HookRunner] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._backlog = 0  # messages received and not yet stored
        self._refreshes: set[asyncio.Task[None]] = set()
        self._probe_topic: str | None = None
        self._probe_echo = asyncio.Event()
        self.refusal: str | None = None  # why the broker, though connected, does not let the hub in

    # -- hooks for other areas -------------------------------------------------------------------
    def on_event(self, callback: EventHook) -> None:
        """Call ``callback(device, event)`` for every newly stored event (never for duplicates).

        Hooks run after the commit, each in its own task and in order: a slow one delays nothing else.
        """
        self._event_hooks.append(HookRunner(callback))

    def on_state(self, callback: StateHook) -> None:
        """Call ``callback(device, state)`` whenever a device's retained state arrives."""
        self._state_hooks.append(HookRunner(callback))

    def on_availability(self, callback: AvailabilityHook) -> None:
        """Call ``callback(device, online)`` when a device goes online or offline."""
        self._availability_hooks.append(HookRunner(callback))

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def authorized(self) -> bool:
        """False when the broker accepted the connection but refuses the hub's subscriptions or messages."""
        return self.refusal is None

    async def _probe(self, client: aiomqtt.Client) -> None:
        """Send the hub a message through the broker and expect it back; its absence means refused.

        amqtt answers a refused subscription with SUBACK 0x80; Mosquitto under MQTT 3.1.1 grants it and
        acknowledges a denied publish, then delivers nothing: only the round trip tells them apart.
        """
        name = f"{PROBE_PREFIX}/{secrets.token_hex(8)}"
        self._probe_topic, self._probe_echo = name, asyncio.Event()
        granted = await client.subscribe(name, qos=1)
        if any((code if isinstance(code, int) else code.value) >= 0x80 for code in granted or ()):
            self._refused(
                f"the broker refused the hub's subscriptions (is {self.settings.mqtt_username!r} "
                "the hub's own account?)"
            )
            return
        await client.publish(name, b"probe", qos=1)
        try:
            await asyncio.wait_for(self._probe_echo.wait(), PROBE_TIMEOUT_S)
        except TimeoutError:
            self._refused(
                f"the broker accepted the hub's login as {self.settings.mqtt_username!r} but does "
                "not deliver its messages (the broker's ACL does not give it the hub's rights)"
            )
        else:
            self.refusal = None
        with contextlib.suppress(aiomqtt.MqttError):
            await client.unsubscribe(name)

    def _refused(self, detail: str) -> None:
        if self.refusal != detail:
            log.error("MQTT: %s; devices cannot be reached", detail)
        self.refusal = detail

    async def wait_connected(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    # -- life cycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        if self.settings.mqtt_shared_group:
            self._bus.relay_through(self._relay)
        self._tasks = [
            asyncio.create_task(self._connection_loop(), name="hub-mqtt-connection"),
            asyncio.create_task(self._writer_loop(), name="hub-mqtt-writer"),
        ]

    async def stop(self) -> None:
        for task in [*self._tasks, *self._refreshes]:
            task.cancel()
        for task in [*self._tasks, *self._refreshes]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for runner in self._runners:
            await runner.stop()
        for _, future in self._pending.values():
            if not future.done():
                future.set_exception(CommandError("hub is shutting down"))

    async def _connection_loop(self) -> None:
        backoff = 0.5
        password = self.settings.mqtt_password.get_secret_value() if self.settings.mqtt_password else None
        identifier = self.settings.mqtt_client_id or default_client_id(self.settings)
        while True:
            try:
                async with aiomqtt.Client(
                    self.settings.mqtt_host,
                    self.settings.mqtt_port,
                    username=self.settings.mqtt_username,
                    password=password,
                    identifier=identifier,
                    clean_session=not self.settings.mqtt_persistent_session,
                    keepalive=30,
                ) as client:
                    for channel in (Channel.STATE, Channel.ACK, Channel.AVAILABILITY):
                        await client.subscribe(f"{PREFIX}/+/{channel.value}", qos=1)
                    events = f"{PREFIX}/+/{Channel.EVENT.value}"
                    group = self.settings.mqtt_shared_group
                    # Several hub processes: each event is stored by one of them, live messages reach all.
                    await client.subscribe(f"$share/{group}/{events}" if group else events, qos=1)
                    if group:
                        await client.subscribe(BUS_TOPIC, qos=1)
                    self._client = client
                    self._connected.set()
                    probe = asyncio.create_task(self._probe(client), name="hub-mqtt-probe")
                    backoff = 0.5
                    log.info("hub connected to MQTT %s:%s", self.settings.mqtt_host, self.settings.mqtt_port)
                    try:
                        async for message in client.messages:
                            await self._take(message)
                    finally:
                        probe.cancel()
                        await self._drain_received(client)
            except aiomqtt.MqttError as exc:
                log.warning("MQTT connection lost (%s); retrying in %.1f s", exc, backoff)
            finally:
                self._client = None
                self._connected.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

    async def _take(self, message: aiomqtt.Message) -> None:
        payload = message.payload
        raw = payload if isinstance(payload, bytes) else str(payload).encode()
        await self._receive(message.topic.value, raw)

    async def _drain_received(self, client: aiomqtt.Client) -> None:
        """Messages already received (and acknowledged to the broker) when the link drops must not be lost.

        aiomqtt stops iterating at a disconnect even with messages still in its queue; take them too.
        """
        queue = client._queue  # private: aiomqtt has no public non-blocking read
        while not queue.empty():
            await self._take(queue.get_nowait())

    async def _relay(
        self, message: dict[str, Any], device_id: int | None, user_ids: set[int] | None, permission: Any
    ) -> None:
        client = self._client
        if client is None:
            raise CommandError("not connected to the broker")
        body = {"message": message, "device_id": device_id, "permission": permission}
        body["user_ids"] = None if user_ids is None else sorted(user_ids)
        await client.publish(BUS_TOPIC, json.dumps(body).encode(), qos=1)

    async def _deliver_relayed(self, payload: bytes) -> None:
        try:
            body = json.loads(payload)
            user_ids = body["user_ids"]
            permission = Permission(body["permission"]) if body["permission"] else None
            await self._bus.deliver(
                body["message"], body["device_id"], None if user_ids is None else set(user_ids), permission
            )
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignored a malformed relayed live message (%s)", exc)

    async def _receive(self, name: str, payload: bytes) -> None:
        if name == self._probe_topic:
            self._probe_echo.set()
            return
        if name == BUS_TOPIC:
            await self._deliver_relayed(payload)
            return
        self.stats.received += 1
        parsed = parse_topic(name)
        if parsed is None:
            self.stats.rejected["unknown_topic"] += 1
            log.warning("rejected MQTT message on %s: not a vakt device topic", name)
            return
        if parsed.channel is Channel.ACK:
            self._resolve_ack(parsed.serial, payload)
        elif parsed.channel is not Channel.CMD:
            self._backlog += 1
            await self._queue.put(Incoming(parsed.serial, parsed.channel, payload, utcnow()))

    def _resolve_ack(self, serial: str, payload: bytes) -> None:
        try:
            ack = decode(Ack, payload)
        except ProtocolError as exc:
            self.stats.rejected["malformed"] += 1
            log.warning("rejected MQTT ack from %s: malformed (%s)", serial, exc)
            return
        self.stats.acks += 1
        pending = self._pending.get(ack.id)
        if pending is None or pending[0] != serial:
            log.info("ack %s from %s answers no pending command", ack.id, serial)
            return
        if not pending[1].done():
            pending[1].set_result(ack)

    # -- storage ---------------------------------------------------------------------------------
    async def _writer_loop(self) -> None:
        while True:
            items = [await self._queue.get()]
            if self._queue.qsize() < _BATCH_MAX:
                await asyncio.sleep(_LINGER_S)  # let a batch gather: one transaction for many messages
            while len(items) < _BATCH_MAX and not self._queue.empty():
                items.append(self._queue.get_nowait())
            for batch in await self._store(items):
                await self._after_commit(batch)
            self._backlog -= len(items)

    async def _store(self, items: list[Incoming]) -> list[Batch]:
        """Store a batch; if it keeps failing, store its messages one by one: one bad one sinks no other."""
        delay = 0.5
        for attempt in range(3):
            try:
                async with self._sessionmaker() as session:
                    return [await store_batch(session, self.directory, items, self.stats)]
            except Exception:
                log.exception("storing %d device messages failed (attempt %d)", len(items), attempt + 1)
                await asyncio.sleep(delay)
                delay *= 2
        batches = []
        for item in items:
            try:
                async with self._sessionmaker() as session:
                    batches.append(await store_batch(session, self.directory, [item], self.stats))
            except Exception:
                self.stats.rejected["storage_error"] += 1
                log.exception(
                    "dropped a %s message from %s that cannot be stored", item.channel.value, item.serial
                )
        return batches

    async def idle(self, timeout: float = 10.0) -> None:
        """Wait until every received message has been stored and its hooks have run (tests, shutdown)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._backlog > 0:
            if loop.time() > deadline:
                raise TimeoutError("ingest queue did not drain")
            await asyncio.sleep(0.02)
        for runner in self._runners:
            await asyncio.wait_for(runner.join(), max(0.1, deadline - loop.time()))

    async def _after_commit(self, batch: Batch) -> None:
        ids = {ref.id for ref, _ in batch.events} | set(batch.states) | set(batch.availability)
        if not ids:
            return
        if self._event_hooks or self._state_hooks or self._availability_hooks:
            async with self._sessionmaker() as session:
                devices = {d.id: d for d in await _load_devices(session, ids)}
        else:
            devices = {}
        live = self._bus.subscriber_count > 0 or self._bus.relayed  # build messages only for listeners
        for device_id, (_, online) in batch.availability.items():
            if live:
                message = {"type": "device.online", "device_id": device_id, "online": online}
                await self._bus.publish(message, device_id)
            await self._run_hooks(self._availability_hooks, devices.get(device_id), online)
        for device_id, (_, state) in batch.states.items():
            if live:
                await self._publish_state(device_id, state)
            await self._run_hooks(self._state_hooks, devices.get(device_id), state)
        for ref, event in batch.events:
            if live:
                message = {
                    "type": "device.event",
                    "device_id": ref.id,
                    "event": event.model_dump(mode="json"),
                }
                await self._bus.publish(message, ref.id, permission=Permission.HISTORY)
            await self._run_hooks(self._event_hooks, devices.get(ref.id), event)

    async def _publish_state(self, device_id: int, state: dict[str, Any]) -> None:
        """A lock's credential list goes only to users with the settings permission (A5)."""
        message = {"type": "device.state", "device_id": device_id, "state": state}
        if "credentials" not in state:
            await self._bus.publish(message, device_id)
            return
        await self._bus.publish(message, device_id, permission=Permission.SETTINGS)
        others = await self._bus.audience(device_id) - await self._bus.audience(
            device_id, Permission.SETTINGS
        )
        if others:
            stripped = {k: v for k, v in state.items() if k != "credentials"}
            await self._bus.publish({**message, "state": stripped}, device_id, user_ids=others)

    async def _run_hooks(self, hooks: list[HookRunner], device: Device | None, payload: Any) -> None:
        if device is None:
            return
        for runner in hooks:
            runner.submit(device, payload)

    @property
    def _runners(self) -> list[HookRunner]:
        return [*self._event_hooks, *self._state_hooks, *self._availability_hooks]

    # -- commands --------------------------------------------------------------------------------
    async def send_command(
        self, serial: str, name: str, args: dict[str, Any] | None = None, timeout: float | None = None
    ) -> Ack:
        """Publish a command to a device and wait for its Ack (same id); raises CommandError."""
        client = self._client
        if client is None:
            raise CommandError("the hub is not connected to the MQTT broker")
        command = Command(target=serial, name=name, args=args or {})
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._pending[command.id] = (serial, future)
        try:
            await client.publish(topic(serial, Channel.CMD), encode(command), qos=1)
            return await asyncio.wait_for(future, timeout or self.settings.command_timeout_s)
        except TimeoutError:
            raise CommandError(f"{serial} did not answer {name} in time") from None
        except aiomqtt.MqttError as exc:
            raise CommandError(f"could not send {name} to {serial}: {exc}") from None
        finally:
            self._pending.pop(command.id, None)

    def refresh_soon(self, serial: str, kind: str) -> None:
        """Fetch a newly added device's state in the background (see ``refresh``)."""
        task = asyncio.create_task(self.refresh(serial, kind), name=f"refresh-{serial}")
        self._refreshes.add(task)
        task.add_done_callback(self._refreshes.discard)

    async def refresh(self, serial: str, kind: str) -> None:
        """A device just added may have spoken before the hub knew it (its messages were refused, or the
        broker dropped them before its account existed): subscribe again for its retained state and
        availability, and ask a lock or gateway for its state (``lock.state`` / ``gateway.state``)."""
        self.directory.forget(serial)
        client = self._client
        if client is None:
            return
        topics = [topic(serial, Channel.STATE), topic(serial, Channel.AVAILABILITY)]
        try:
            for name in topics:
                await client.subscribe(name, qos=1)  # a new subscription gets the retained message again
            command = {"lock": "lock.state", "gateway": "gateway.state"}.get(kind)
            if command is not None:
                await asyncio.sleep(0.5)  # Mosquitto reloads its ACL on SIGHUP in the background
                try:
                    ack = await self.send_command(serial, command, {}, timeout=3.0)
                except CommandError as exc:
                    log.info("no state from %s yet (%s); it will come with its next change", serial, exc)
                else:
                    if ack.ok and isinstance(ack.result.get("kind"), str):
                        now = utcnow()
                        self._backlog += 2
                        await self._queue.put(
                            Incoming(serial, Channel.STATE, json.dumps(ack.result).encode(), now)
                        )
                        await self._queue.put(
                            Incoming(serial, Channel.AVAILABILITY, b'{"status": "online"}', now)
                        )
            await asyncio.sleep(2.0)
            for name in topics:
                await client.unsubscribe(name)
        except aiomqtt.MqttError as exc:
            log.info("refreshing %s failed (%s)", serial, exc)

    def device_ref(self, device_id: int) -> DeviceRef | None:
        return self.directory.by_id(device_id)


async def _load_devices(session: AsyncSession, ids: set[int]) -> list[Device]:
    from sqlalchemy import select

    return list((await session.scalars(select(Device).where(Device.id.in_(ids)))).all())
