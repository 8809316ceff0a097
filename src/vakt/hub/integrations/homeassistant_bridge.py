"""Publishes Home Assistant discovery and states for accounts that turned it on, and takes HA's commands (V3).

It has its own MQTT connection as the hub account (client id ``<hub's id>-ha``: as unguessable), so the
hub's device ingest is untouched; it listens to the hub through the public hooks (state, availability,
event, person events). A reconcile pass (on start, after a setting change, every ``reconcile_every``
seconds) makes the broker hold exactly the wanted retained configs and states: a removed device or a
disabled account gets empty retained configs, which removes its entities from Home Assistant.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
from fastapi import FastAPI
from sqlalchemy import select

from vakt.broker.accounts import IntegrationAccount
from vakt.hub.alerts.service import AlertsService
from vakt.hub.integrations import homeassistant as ha
from vakt.hub.integrations.homeassistant_commands import HomeAssistantCommands, Refused
from vakt.hub.locks import OPERATION_TYPES, operation_log
from vakt.hub.models.alerts import Arming, ArmingMode, PersonEventRecord
from vakt.hub.models.devices import Device
from vakt.hub.models.homeassistant import HomeAssistantLink
from vakt.hub.models.users import User
from vakt.hub.mqtt import default_client_id
from vakt.hub.settings import HubSettings
from vakt.lock import EventType
from vakt.protocol import Event

log = logging.getLogger(__name__)
SHARE_GROUP = "vakt-ha"  # several hub processes: each command is carried out once
RECONCILE_S = 10.0  # how late, at most, a removed device loses its entities (no removal hook)


class HomeAssistantBridge:
    def __init__(self, app: FastAPI, reconcile_every: float = RECONCILE_S) -> None:
        self.app = app
        self.settings: HubSettings = app.state.settings
        self.reconcile_every = reconcile_every
        self.commands = HomeAssistantCommands(app)
        self._client: aiomqtt.Client | None = None
        self._retained: dict[str, bytes] = {}  # what the broker holds for our topics (configs and states)
        self._linked: dict[int, str] = {}  # account id -> username, of accounts with HA on
        self._wake = asyncio.Event()
        self._reconciled = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._passes = 0
        self._running = False
        self._live: dict[str, bytes] = {}  # states only events tell (person, motion, snapshot)

    # -- life cycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        mqtt = self.app.state.mqtt
        mqtt.on_state(self._device_changed)
        mqtt.on_availability(self._availability)
        mqtt.on_event(self._event)
        alerts: AlertsService | None = getattr(self.app.state, "alerts", None)
        if alerts is not None:
            alerts.on_person_event(self._person_event)
        self._spawn(self._connection_loop(), "ha-mqtt")

    async def stop(self) -> None:
        client = self._client
        # A clean stop of the only hub process: HA shows the entities unavailable (several: others go on)
        if client is not None and not self.settings.mqtt_shared_group:
            with contextlib.suppress(aiomqtt.MqttError):
                for account_id in list(self._linked):
                    await self._publish(
                        client, f"{ha.device_root(account_id, ha.HOME)}/availability", b"offline"
                    )
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def poke(self) -> None:
        """Reconcile now (an account turned HA on or off, a device was added or removed)."""
        self._wake.set()

    async def reconciled(self, timeout: float = 10.0) -> None:
        """Wait for a reconcile pass that started after this call (tests, the settings route)."""
        target = self._passes + (2 if self._running else 1)  # a pass under way may have read old rows
        self.poke()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._passes < target:
            if loop.time() > deadline:
                raise TimeoutError("Home Assistant discovery was not published in time")
            await asyncio.sleep(0.05)

    def _spawn(self, coroutine: Any, name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- MQTT ----------------------------------------------------------------------------------------
    async def _connection_loop(self) -> None:
        backoff = 0.5
        settings = self.settings
        password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
        identifier = f"{settings.mqtt_client_id or default_client_id(settings)}-ha"
        while True:
            try:
                async with aiomqtt.Client(
                    settings.mqtt_host,
                    settings.mqtt_port,
                    username=settings.mqtt_username,
                    password=password,
                    identifier=identifier,
                    keepalive=30,
                ) as client:
                    commands = f"{ha.STATE_ROOT}/+/+/+/set"
                    shared = settings.mqtt_shared_group
                    await client.subscribe(f"$share/{SHARE_GROUP}/{commands}" if shared else commands, qos=1)
                    await client.subscribe(ha.BIRTH_TOPIC, qos=1)
                    # The broker's retained configs: stale ones (a device removed while the hub was down)
                    # are cleared by the next reconcile.
                    await client.subscribe(f"{ha.DISCOVERY_PREFIX}/+/+/+/config", qos=1)
                    self._client, self._retained = client, {}
                    backoff = 0.5
                    reconciler = asyncio.create_task(self._reconcile_loop(client), name="ha-reconcile")
                    try:
                        async for message in client.messages:
                            await self._take(message)
                    finally:
                        reconciler.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await reconciler
            except aiomqtt.MqttError as exc:
                log.warning(
                    "Home Assistant bridge: MQTT connection lost (%s); retrying in %.1f s", exc, backoff
                )
            finally:
                self._client = None
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

    async def _take(self, message: aiomqtt.Message) -> None:
        name = message.topic.value
        payload = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
        if name == ha.BIRTH_TOPIC:
            if payload == b"online":  # HA restarted: send everything again (HA's documented birth message)
                self._retained = {k: v for k, v in self._retained.items() if not k.endswith("/config")}
                self.poke()
            return
        if name.endswith("/config"):
            parts = name.split("/")
            if len(parts) == 5 and parts[2].startswith("vakt_a"):
                if payload:
                    self._retained.setdefault(name, payload)
                else:
                    self._retained.pop(name, None)
            return
        command = ha.parse_command_topic(name)
        if command is not None:
            self._spawn(self._command(command, payload), f"ha-command-{command.serial}")

    async def _command(self, command: ha.CommandTopic, payload: bytes) -> None:
        try:
            outcome = await self.commands.handle(command, payload)
        except Refused as exc:
            log.warning("Home Assistant command for %s/%s refused: %s", command.serial, command.entity, exc)
        except Exception:
            log.exception("Home Assistant command for %s/%s failed", command.serial, command.entity)
        else:
            log.info("Home Assistant: %s", outcome.done)
            if command.serial == ha.HOME:
                self.poke()  # the arming mode's new state

    async def _publish(self, client: aiomqtt.Client, name: str, payload: bytes, retain: bool = True) -> None:
        await client.publish(name, payload, qos=1, retain=retain)
        if retain:
            if payload:
                self._retained[name] = payload
            else:
                self._retained.pop(name, None)

    async def _publish_changed(self, wanted: dict[str, bytes]) -> None:
        client = self._client
        if client is None:
            return
        for name, payload in wanted.items():
            if self._retained.get(name) != payload:
                await self._publish(client, name, payload)

    # -- reconcile -----------------------------------------------------------------------------------
    async def _reconcile_loop(self, client: aiomqtt.Client) -> None:
        await asyncio.sleep(0.3)  # let the broker's retained configs arrive first: stale ones are cleared
        while True:
            self._wake.clear()
            self._running = True
            try:
                await self._reconcile(client)
            except aiomqtt.MqttError:
                raise
            except Exception:
                log.exception("publishing Home Assistant discovery failed")
            finally:
                self._running = False
            self._passes += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.reconcile_every)

    async def _reconcile(self, client: aiomqtt.Client) -> None:
        async with self.app.state.sessionmaker() as session:
            links = (await session.scalars(select(HomeAssistantLink))).all()
            linked = [link.user_id for link in links]
            rows = await session.scalars(select(User).where(User.id.in_(linked)))
            users = {user.id: user.username for user in rows.all()}
            query = select(Device).where(Device.owner_id.in_(users)).order_by(Device.id)
            devices = (await session.scalars(query)).all()
            arming = await session.scalars(select(Arming).where(Arming.user_id.in_(users)))
            modes = {row.user_id: ArmingMode(row.mode) for row in arming.all()}
        self._linked = users
        serials = {d.id: d.serial for d in devices}
        wanted: dict[str, bytes] = {}
        for account_id, username in users.items():
            for topic, config in ha.home_configs(account_id, username).items():
                wanted[topic] = ha.encode_config(config)
            wanted.update(ha.home_states(account_id, modes.get(account_id, ArmingMode.AWAY)))
        for device in devices:
            via = serials.get(device.parent_id) if device.parent_id is not None else None
            for topic, config in ha.device_configs(device.owner_id, device, via).items():
                wanted[topic] = ha.encode_config(config)
            wanted.update(ha.device_states(device.owner_id, device))
            root = ha.device_root(device.owner_id, device.serial) + "/"
            wanted.update({k: v for k, v in self._live.items() if k.startswith(root)})
        self._live = {k: v for k, v in self._live.items() if k in wanted}
        for name, payload in wanted.items():
            if self._retained.get(name) != payload:
                await self._publish(client, name, payload)
        for name in [n for n in self._retained if n not in wanted and self._ours(n)]:
            await self._publish(client, name, b"")  # empty retained config: HA removes the entity
        self._sync_broker_accounts(links)  # after the removals: a removed HA user still receives them

    @staticmethod
    def _ours(name: str) -> bool:
        return name.endswith("/config") or name.startswith(ha.STATE_ROOT + "/")

    def _sync_broker_accounts(self, links: Any) -> None:
        """Home Assistant's broker user per enabled account (``ha-<id>``), limited to its own topics."""
        sync = self.app.state.broker_sync
        accounts = sync.accounts
        if accounts is None:  # the broker's accounts are not managed by this hub
            return
        wanted = []
        for link in links:
            read, write = ha.broker_filters(link.user_id)
            wanted.append(
                IntegrationAccount(
                    username=ha.broker_username(link.user_id),
                    password_hash=link.broker_password_hash,
                    read=read,
                    write=write,
                )
            )
        if wanted != accounts.integrations:
            accounts.integrations = wanted
            accounts.changed()
            sync._publish(accounts)  # BrokerSync's writer: accounts file, Mosquitto passwd/ACL, SIGHUP
            log.info("broker accounts: %d Home Assistant users", len(wanted))

    # -- hooks from the hub ----------------------------------------------------------------------------
    async def _device_changed(self, device: Device, state: dict[str, Any]) -> None:
        if device.owner_id in self._linked:
            await self._publish_changed(ha.device_states(device.owner_id, device))

    async def _availability(self, device: Device, online: bool) -> None:
        await self._device_changed(device, device.state or {})

    async def _event(self, device: Device, event: Event) -> None:
        client = self._client
        if client is None or device.owner_id not in self._linked or device.kind != "lock":
            return
        root = ha.device_root(device.owner_id, device.serial)
        if event.type == EventType.Doorbell:
            body: dict[str, Any] = {"event_type": EventType.Doorbell.value}
            await self._publish(client, f"{root}/doorbell/event", _json(body), retain=False)
        elif event.type in OPERATION_TYPES:
            body = await self._operation(device, event)
            await self._publish(client, f"{root}/operation/event", _json(body), retain=False)

    async def _operation(self, device: Device, event: Event) -> dict[str, Any]:
        """The operation as the log shows it (A7): who (the credential's name, or the app/HA user) and how."""
        async with self.app.state.sessionmaker() as session:
            rows = await operation_log(session, device.id, None, 10, types=OPERATION_TYPES)
        row = next((r for r in rows if r.event_id == event.id), None)
        data = event.data
        kind = data.get("lock_operation_type") if event.type == EventType.LockOperation else event.type
        return {
            "event_type": str(kind),
            "operation_source": data.get("operation_source"),
            "user": row.user_name if row else None,
            "credential_type": row.credential_kind if row else None,
            "credential_index": row.credential_number if row else None,
            "operation_error": data.get("operation_error"),
        }

    async def _person_event(self, device_id: int, record: PersonEventRecord) -> None:
        client = self._client
        async with self.app.state.sessionmaker() as session:
            device = await session.get(Device, device_id)
        if client is None or device is None or device.owner_id not in self._linked:
            return
        root = ha.device_root(device.owner_id, device.serial)
        entity = "person" if record.label == "person" else "motion"
        live = {f"{root}/{entity}/state": (ha.ON if record.ended_at is None else ha.OFF).encode()}
        if record.snapshot_path:
            path: Path = self.settings.media_dir / record.snapshot_path
            with contextlib.suppress(OSError):
                live[f"{root}/camera/image"] = await asyncio.to_thread(path.read_bytes)
        self._live.update(live)
        await self._publish_changed(live)


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


@contextlib.asynccontextmanager
async def service(app: FastAPI) -> AsyncIterator[None]:
    """Lifespan service: ``app.state.homeassistant`` runs while the hub runs (after the alerts service)."""
    bridge = HomeAssistantBridge(app)
    app.state.homeassistant = bridge
    if app.state.settings.mqtt_enabled:
        await bridge.start()
    try:
        yield
    finally:
        await bridge.stop()
