"""The hub's MQTT side: ingest of device state/event/ack/availability, and commands with correlated acks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiomqtt
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vakt.hub.bus import EventBus
from vakt.hub.db import utcnow
from vakt.hub.hooks import HookRunner
from vakt.hub.ingest import (
    Batch,
    DeviceDirectory,
    DeviceRef,
    Incoming,
    IngestStats,
    Receipts,
    dead_letter,
    store_batch,
)
from vakt.hub.models.devices import Device
from vakt.hub.permissions import Permission
from vakt.hub.settings import HubSettings
from vakt.protocol import (
    Ack,
    Channel,
    Command,
    Event,
    ProtocolError,
    decode,
    encode,
    parse_topic,
    topic,
)
from vakt.protocol.client import cancel_and_wait
from vakt.protocol.messages import MAX_RECEIPT_IDS, read_id
from vakt.protocol.topics import PREFIX

log = logging.getLogger(__name__)

EventHook = Callable[[Device, Event], Awaitable[None]]
StateHook = Callable[[Device, dict[str, Any]], Awaitable[None]]
AvailabilityHook = Callable[[Device, bool], Awaitable[None]]
_BATCH_MAX = 500
_LINGER_S = 0.01
_QUEUE_MAX = (
    10_000  # received, not yet committed; beyond it the hub stops reading and the broker keeps the rest
)
_RETRY_MAX_S = 5.0  # longest wait between two tries to reach the database
BUS_TOPIC = "vakt/hub/bus"  # live messages between hub processes (only the hub account may use it)


PROBE_PREFIX = "vakt/hub/probe"  # the hub's message to itself: proves the broker lets it in (issue 11)
PROBE_TIMEOUT_S = 5.0
CLIENT_ID_FILE = "mqtt-client-id"
_STORED = (Channel.EVENT, Channel.STATE, Channel.AVAILABILITY)


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


class ManualAckClient(aiomqtt.Client):
    """An aiomqtt client that acknowledges a QoS 1 message only when told to (G7: after the commit).

    aiomqtt 2.5 has no manual acknowledgement; the paho-mqtt client under it has (``manual_ack_set``,
    ``ack(mid, qos)``), set here before the connection so no message of a resumed session is acked early.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client.manual_ack_set(True)

    def ack(self, message: aiomqtt.Message) -> None:
        if message.qos > 0:
            self._client.ack(message.mid, message.qos)

    def publish_nowait(self, topic: str, payload: bytes) -> None:
        """QoS 0, not awaited: a receipt lost with its connection costs only a re-send, confirmed again."""
        self._client.publish(topic, payload, qos=0)


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
        self._queue: asyncio.Queue[Incoming] = asyncio.Queue(maxsize=_QUEUE_MAX)
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
        self._closing = False  # stop(): take no more messages, commit those taken
        self._backpressure: str | None = None  # why storing is paused (the database is away), else None
        self._backpressure_since: float | None = None

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
        self._closing = False  # a stopped HubMqtt may be started again (the bench does)
        if self.settings.mqtt_shared_group:
            self._bus.relay_through(self._relay)
        self._tasks = [
            asyncio.create_task(self._connection_loop(), name="hub-mqtt-connection"),
            asyncio.create_task(self._writer_loop(), name="hub-mqtt-writer"),
        ]

    async def stop(self, drain_timeout: float = 10.0) -> None:
        """Commit what was taken, then leave: what is not committed was never acknowledged, so the
        broker (persistent session) or the device's outbox still has it; nothing is lost by stopping."""
        self._closing = True
        try:
            await self._drained(drain_timeout)
        except TimeoutError:
            log.warning(
                "stopping with %d device messages not yet stored (%s); they were not acknowledged, "
                "the broker and the devices keep them for the next start",
                self._backlog,
                self._backpressure or "storage is slow",
            )
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
                async with ManualAckClient(
                    self.settings.mqtt_host,
                    self.settings.mqtt_port,
                    username=self.settings.mqtt_username,
                    password=password,
                    identifier=identifier,
                    clean_session=not self.settings.mqtt_persistent_session,
                    keepalive=30,
                ) as client:
                    self._client = client
                    # Read before subscribing: a resumed session's backlog flows (and is acknowledged)
                    # meanwhile; a broker that waits for those acks before its SUBACK (amqtt) is not stuck.
                    reader = asyncio.ensure_future(self._read(client))
                    probe: asyncio.Task[None] | None = None
                    try:
                        await self._subscribe(client)
                        self._connected.set()
                        probe = asyncio.create_task(self._probe(client), name="hub-mqtt-probe")
                        backoff = 0.5
                        log.info(
                            "hub connected to MQTT %s:%s", self.settings.mqtt_host, self.settings.mqtt_port
                        )
                        await reader
                    finally:
                        if probe is not None:
                            probe.cancel()
                        await cancel_and_wait(reader)
                        await self._drain_received(client)
            except aiomqtt.MqttError as exc:
                log.warning("MQTT connection lost (%s); retrying in %.1f s", exc, backoff)
            finally:
                self._client = None
                self._connected.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

    async def _subscribe(self, client: aiomqtt.Client) -> None:
        for channel in (Channel.STATE, Channel.ACK, Channel.AVAILABILITY):
            await client.subscribe(f"{PREFIX}/+/{channel.value}", qos=1)
        events = f"{PREFIX}/+/{Channel.EVENT.value}"
        group = self.settings.mqtt_shared_group
        # Several hub processes: each event is stored by one of them, live messages reach all.
        await client.subscribe(f"$share/{group}/{events}" if group else events, qos=1)
        if group:
            await client.subscribe(BUS_TOPIC, qos=1)

    async def _read(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            await self._take(message)

    async def _take(self, message: aiomqtt.Message) -> None:
        payload = message.payload
        raw = payload if isinstance(payload, bytes) else str(payload).encode()
        client = self._client
        await self._receive(message.topic.value, raw, lambda: self._ack(client, message))

    def _ack(self, client: aiomqtt.Client | None, message: aiomqtt.Message) -> None:
        """PUBACK on the connection that delivered it; after a reconnect the broker sends it again instead."""
        if client is not None and client is self._client and isinstance(client, ManualAckClient):
            client.ack(message)

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

    async def _receive(self, name: str, payload: bytes, ack: Callable[[], None] | None = None) -> None:
        if self._closing:
            return  # not acknowledged: the broker delivers it again to the next hub session
        if name == self._probe_topic:
            if ack is not None:
                ack()
            self._probe_echo.set()
            return
        parsed = parse_topic(name)
        if parsed is None or parsed.channel not in _STORED:
            if ack is not None:
                ack()  # nothing to store: live messages, command answers, foreign topics
            if name == BUS_TOPIC:
                await self._deliver_relayed(payload)
                return
            self.stats.received += 1
            if parsed is None:
                self.stats.rejected["unknown_topic"] += 1
                log.warning("rejected MQTT message on %s: not a vakt device topic", name)
            elif parsed.channel is Channel.ACK:
                self._resolve_ack(parsed.serial, payload)
            return
        self.stats.received += 1
        self._backlog += 1
        await self._queue.put(Incoming(parsed.serial, parsed.channel, payload, utcnow(), ack))

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
            batches = await self._store(items)
            receipts = Receipts()
            for batch in batches:
                receipts.merge(batch.receipts)
            self._send_receipts(receipts)
            for item in items:  # in the order received: the broker may now forget them
                if item.ack is not None:
                    item.ack()
            for batch in batches:
                try:
                    await self._after_commit(batch)
                except Exception:  # the rows are committed: a failing reaction must not stop storage
                    log.exception("reacting to stored device messages failed")
            self._backlog -= len(items)

    async def _store(self, items: list[Incoming]) -> list[Batch]:
        """Store a batch, waiting as long as the database is away (never dropping what was taken); when
        the database works but the batch fails, store one by one: one bad message sinks no other."""
        delay = 0.5
        while True:
            try:
                async with self._sessionmaker() as session:
                    batch = await store_batch(session, self.directory, items, self.stats)
                self._storage_back()
                return [batch]
            except Exception as exc:
                problem = await self._database_problem()
                if problem is None:
                    log.warning(
                        "storing %d device messages failed (%s); storing them one by one", len(items), exc
                    )
                    return await self._store_one_by_one(items)
                self._storage_paused(problem, len(items))
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX_S)

    async def _store_one_by_one(self, items: list[Incoming]) -> list[Batch]:
        batches: list[Batch] = []
        for index, item in enumerate(items):
            for attempt in range(2):
                try:
                    async with self._sessionmaker() as session:
                        batches.append(await store_batch(session, self.directory, [item], self.stats))
                    break
                except Exception as exc:
                    if await self._database_problem() is not None:
                        return batches + await self._store(items[index:])  # an outage after all: wait
                    if attempt == 0:
                        await asyncio.sleep(0.2)
                        continue
                    batches.append(await self._refuse_unstorable(item, exc))
        return batches

    async def _refuse_unstorable(self, item: Incoming, exc: Exception) -> Batch:
        """A message the working database refuses twice can never be stored: a dead letter, not a retry."""
        detail = str(exc).splitlines()[0][:300] if str(exc) else ""
        reason = f"the database refused it: {type(exc).__name__}: {detail}"
        self.stats.rejected["storage_error"] += 1
        log.error(
            "device %s: a %s message on %s can never be stored (%s); kept as a dead letter",
            item.serial,
            item.channel.value,
            topic(item.serial, item.channel),
            reason,
        )
        batch = Batch()
        if item.channel is not Channel.EVENT:
            return batch
        try:
            async with self._sessionmaker() as session:
                refs = await self.directory.resolve(session, {item.serial})
                if item.serial in refs:
                    session.add(dead_letter(refs[item.serial], item, reason))
                    await session.commit()
                    self.stats.dead_letters += 1
        except Exception:
            log.exception("device %s: the dead letter itself could not be stored", item.serial)
        event_id = read_id(item.payload)
        if event_id is not None:
            batch.receipts.refuse(self.directory.receipt_serial(item.serial), event_id, reason)
        return batch

    async def _database_problem(self) -> str | None:
        """None when the database answers; else why not, in words for the log and /api/health."""
        try:
            async with asyncio.timeout(5), self._sessionmaker() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:
            detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            return f"the database is unreachable ({detail})"
        return None

    def _storage_paused(self, reason: str, waiting: int) -> None:
        if self._backpressure is None:
            self._backpressure_since = asyncio.get_running_loop().time()
            log.warning(
                "device messages are not being stored: %s. Holding %d; the hub takes no more for now "
                "(the broker and the gateways keep them) and retries every few seconds",
                reason,
                waiting,
            )
        self._backpressure = reason

    def _storage_back(self) -> None:
        if self._backpressure is not None:
            since = self._backpressure_since or asyncio.get_running_loop().time()
            log.warning(
                "the database is back after %.0f s: storing device messages again",
                asyncio.get_running_loop().time() - since,
            )
            self._backpressure = self._backpressure_since = None

    @property
    def ingest_health(self) -> dict[str, Any]:
        """For /api/health: whether device messages are being stored, and if not, why."""
        if self._backpressure is None:
            return {"state": "ok", "reason": None, "waiting": self._backlog}
        return {"state": "backpressure", "reason": self._backpressure, "waiting": self._backlog}

    def _send_receipts(self, receipts: Receipts) -> None:
        """Tell each device which of its events are committed (G7), so its outbox can let them go."""
        client = self._client
        serials = receipts.serials()
        if not isinstance(client, ManualAckClient) or not serials:
            return  # the device sends them again; they are confirmed then
        ts = utcnow().isoformat()
        for serial in serials:
            stored = receipts.stored.get(serial, [])
            refused = [r.model_dump() for r in receipts.refused.get(serial, [])]
            for start in range(0, max(len(stored), len(refused)), MAX_RECEIPT_IDS):
                end = start + MAX_RECEIPT_IDS
                # a plain dict of the Receipt model's fields: one receipt per device and batch is on
                # the ingest path, where a model per receipt cost a fifth of the throughput
                body = {"ts": ts, "stored": stored[start:end], "refused": refused[start:end]}
                client.publish_nowait(topic(serial, Channel.RECEIPT), json.dumps(body).encode())

    async def _drained(self, timeout: float) -> None:
        """Wait until every message taken has been committed (or refused) and acknowledged."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._backlog > 0:
            if loop.time() > deadline:
                raise TimeoutError("ingest queue did not drain")
            await asyncio.sleep(0.02)

    async def idle(self, timeout: float = 10.0) -> None:
        """Wait until every received message has been stored and its hooks have run (tests, shutdown)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self._drained(timeout)
        for runner in self._runners:
            await asyncio.wait_for(runner.join(), max(0.1, deadline - loop.time()))

    async def _after_commit(self, batch: Batch) -> None:
        ids = {ref.id for ref, _ in batch.events} | set(batch.states) | set(batch.availability)
        if not ids:
            return
        devices = await self._devices_for_hooks(ids) if self._runners else {}
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

    async def _devices_for_hooks(self, ids: set[int]) -> dict[int, Device]:
        """The devices the hooks are called with; the rows are committed, so a database gone away
        just now costs these hooks (after a few tries), never the storage of what comes next."""
        for attempt in range(3):
            try:
                async with self._sessionmaker() as session:
                    return {d.id: d for d in await _load_devices(session, ids)}
            except Exception as exc:
                if attempt == 2:
                    log.warning("reactions to %d stored device messages skipped: %s", len(ids), exc)
                await asyncio.sleep(0.5)
        return {}

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
        """Publish a command to a device and wait for its Ack (same id); raises CommandError.

        The command expires when the wait ends: a device that gets it later refuses it, so a command
        reported as failed is never carried out afterwards; a repeat of it is answered, not run again.
        """
        client = self._client
        if client is None:
            raise CommandError("the hub is not connected to the MQTT broker; the command was not sent")
        wait = timeout or self.settings.command_timeout_s
        expires = utcnow() + timedelta(seconds=wait)
        command = Command(target=serial, name=name, args=args or {}, expires_at=expires)
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._pending[command.id] = (serial, future)
        try:
            await client.publish(topic(serial, Channel.CMD), encode(command), qos=1)
            return await asyncio.wait_for(future, wait)
        except TimeoutError:
            raise CommandError(
                f"{name} got no reply within {wait:g} s; it may be offline or out of range. "
                "The command expired and will not be carried out"
            ) from None
        except aiomqtt.MqttError as exc:
            raise CommandError(f"{name} could not be sent ({exc}); it was not carried out") from None
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
