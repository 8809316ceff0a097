"""The gateway emulator as one async service: panel, network, MQTT client, lock relay, outbox (G1-G7).

``async with Gateway(config) as gw:`` runs it in the background (or ``await Gateway(config).run()``);
``await gw.stop()`` or leaving the block stops it cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
import ssl
import time
from collections.abc import Callable
from typing import Any

from vakt.gateway.commands import NoArgs, PairArgs, PanelInputArgs, PlacementArgs, parse_args
from vakt.gateway.config import GatewayConfig, GatewayMemory
from vakt.gateway.led import GatewayPanel
from vakt.gateway.outbox import Outbox
from vakt.gateway.radio import Placement, RadioLink
from vakt.gateway.relay import LockRelay
from vakt.protocol.client import CommandError, DeviceClient, cancel_and_wait
from vakt.protocol.credentials import device_password
from vakt.protocol.messages import Command, Event, Receipt

log = logging.getLogger(__name__)

SEND_WINDOW = 100  # (chosen) events sent and not yet confirmed by the hub, at most
RESEND_MAX_S = 60.0  # the wait doubles while the hub stays silent (down), up to this


class Gateway:
    def __init__(self, config: GatewayConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self._memory_path = config.data_dir / "gateway.json"
        self.memory = GatewayMemory.load(self._memory_path)
        self.locks: dict[str, LockRelay] = {}
        if config.lock_serial and config.lock_code:
            placement = self.memory.placements.get(config.lock_serial, config.placement)
            radio = RadioLink(placement, seed=config.radio_seed)
            self.locks[config.lock_serial] = LockRelay(
                config.lock_serial,
                config.lock_code,
                config.lock_model,
                radio,
                config.data_dir / f"lock-{config.lock_serial}",
                clock,
            )
        self._first_boot(config)
        self.panel = GatewayPanel(self.memory.network, config.boot_seconds)
        self.outbox = Outbox(config.data_dir / "outbox.sqlite")
        tls = ssl.create_default_context(cafile=str(config.mqtt_ca)) if config.mqtt_ca else None
        self.client = DeviceClient(
            serial=config.serial,
            password=device_password(config.code),
            host=config.mqtt_host,
            port=config.mqtt_port,
            handler=self._handle,
            relayed_serials=[s for s in self.memory.paired if s in self.locks],
            tls_context=tls,
            replay_file=config.data_dir / "commands.json",
        )
        self.client.on_connect(self._wake_sender)
        self.client.on_receipt(self._on_receipt)
        self._outbox_ready = asyncio.Event()
        self._in_flight: dict[str, float] = {}  # event id -> when it was (last) sent, oldest first
        self._resend_after = config.resend_after
        self._reconnected = False
        self._client_task: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_state: dict[str, Any] = {}
        self._prompts_seen = 0
        self._stopping = asyncio.Event()

    def _first_boot(self, config: GatewayConfig) -> None:
        if self.memory.initialised:
            return
        if config.network == "wired":
            self.memory.network = self.memory.network.model_copy(update={"wired": True})
        elif config.network == "wifi" and config.wifi_ssid:
            self.memory.network = self.memory.network.model_copy(update={"wifi_ssid": config.wifi_ssid})
        if config.pair_on_start and config.lock_serial in self.locks:
            self.locks[config.lock_serial].pair_at_install()
            self.memory.paired.append(config.lock_serial)
        self.memory.initialised = True
        self._remember()

    def _remember(self) -> None:
        self.memory.save(self._memory_path)

    # ---- running -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Run until cancelled: power on, tick the firmware, keep the broker link, drain the outbox."""
        self.panel.power_on(self.clock())
        log.info("gateway %s powered on (data in %s)", self.config.serial, self.config.data_dir)
        sender = asyncio.create_task(self._send_outbox(), name=f"{self.config.serial}-outbox")
        self._stopping.clear()
        try:
            while not self._stopping.is_set():
                try:
                    await self._step()
                except Exception:  # a device keeps running; the traceback says what went wrong
                    log.exception("gateway %s: tick failed", self.config.serial)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.config.tick_interval)
        finally:
            await cancel_and_wait(sender)
            await self._stop_client()
            self.outbox.close()
            log.info("gateway %s stopped", self.config.serial)

    def request_stop(self) -> None:
        """Ask a running gateway to stop after the current tick (safe from a signal handler)."""
        self._stopping.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"gateway-{self.config.serial}")

    async def stop(self, timeout: float = 20.0) -> None:
        """Stop and wait (bounded) for a clean goodbye: ``offline`` published, outbox closed."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()  # a flag, not a cancellation: the clean-up runs undisturbed
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done and not await cancel_and_wait(task, 5):
            log.error("gateway %s did not stop within %.0f s", self.config.serial, timeout)

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _step(self) -> None:
        now = self.clock()
        self.panel.tick(now)
        for prompt in self.panel.prompts[self._prompts_seen :]:
            self.raise_event("NetworkReset", {"prompt": prompt.value})  # G3, delivered once back online
        self._prompts_seen = len(self.panel.prompts)
        if self.panel.network != self.memory.network:
            self.memory.network = self.panel.network
            self._remember()
        await self._supervise_client()
        self.panel.broker_connected(self.client.connected.is_set())
        for serial, relay in self.locks.items():
            relay.tick(now)
            self._pump(relay)
            if serial in self.memory.paired and not relay.is_paired():  # factory reset (L12.1)
                await self.unpair(serial, reason="the lock forgot its pairing (factory reset)")
            if serial in self.memory.paired:
                await self._publish_state(serial, relay.state())
        await self._publish_state(self.config.serial, self.state())

    async def _supervise_client(self) -> None:
        running = self._client_task is not None and not self._client_task.done()
        if self.panel.network_up and not running:
            self._client_task = asyncio.create_task(self.client.run(), name=f"{self.config.serial}-mqtt")
        elif not self.panel.network_up and running:
            log.info("gateway %s: network gone, leaving the broker", self.config.serial)
            await self._stop_client()

    async def _stop_client(self) -> None:
        task, self._client_task = self._client_task, None
        if task is not None:
            await cancel_and_wait(task)

    async def _publish_state(self, serial: str, state: dict[str, Any]) -> None:
        if self._last_state.get(serial) != state:
            self._last_state[serial] = state
            await self.client.publish_state(serial, state)

    # ---- G7: events -> outbox -> broker --------------------------------------------------------

    def _pump(self, relay: LockRelay) -> None:
        """Move the lock's events that crossed the radio into the durable outbox (paired locks only)."""
        if relay.serial not in self.memory.paired:
            relay.discard_events()
            return
        received = relay.receive_events()
        while received:
            try:
                self.outbox.append(received[0])
            except sqlite3.Error as exc:  # e.g. disk full: keep the events, try again next tick
                log.error(
                    "gateway %s: outbox cannot store events (%s); %d waiting",
                    self.config.serial,
                    exc,
                    len(received),
                )
                return
            event = received.popleft()
            _queued(event)
            self._outbox_ready.set()

    def raise_event(self, type_: str, data: dict[str, Any]) -> None:
        event = Event(source=self.config.serial, type=type_, data=data)
        try:
            self.outbox.append(event)
        except sqlite3.Error as exc:
            log.error("gateway %s: event %s not stored (%s)", self.config.serial, type_, exc)
            return
        _queued(event)
        self._outbox_ready.set()

    def _wake_sender(self) -> None:
        self._reconnected = True  # everything unconfirmed goes again, oldest first
        self._outbox_ready.set()

    def _on_receipt(self, serial: str, receipt: Receipt) -> None:
        """The hub committed these events (or refused them for good): the outbox may forget them."""
        for refused in receipt.refused:
            log.error(
                "gateway %s: the hub refused event %s of %s for good (%s); it keeps it as a dead letter",
                self.config.serial,
                refused.id,
                serial,
                refused.reason,
            )
        ids = [*receipt.stored, *(r.id for r in receipt.refused)]
        try:
            confirmed = self.outbox.confirm(ids)
        except sqlite3.Error as exc:  # kept: sent again later and confirmed again
            log.error(
                "gateway %s: confirmed events not removed from the outbox (%s)", self.config.serial, exc
            )
            return
        for ident in ids:
            self._in_flight.pop(ident, None)
        if confirmed:
            self._resend_after = self.config.resend_after
        self._outbox_ready.set()

    async def _send_outbox(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            wait = None
            if self._in_flight:
                oldest = next(iter(self._in_flight.values()))
                wait = max(0.0, oldest + self._resend_after - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox_ready.wait(), wait)
            self._outbox_ready.clear()
            await self.client.connected.wait()
            try:
                await self._send_window()
            except sqlite3.Error as exc:
                log.error("gateway %s: outbox unreadable now (%s); retrying", self.config.serial, exc)
                await asyncio.sleep(1.0)
                self._outbox_ready.set()

    async def _send_window(self) -> None:
        """Publish the oldest unconfirmed events in order, at most SEND_WINDOW unconfirmed at once. An
        event leaves the outbox only with the hub's receipt; without one in time (or after a reconnect)
        the unconfirmed ones go again, oldest first, and the hub de-duplicates them (G7)."""
        now = asyncio.get_running_loop().time()
        if self._reconnected:
            self._reconnected = False
            self._in_flight.clear()
        elif self._in_flight and now - next(iter(self._in_flight.values())) >= self._resend_after:
            log.info(
                "gateway %s: no receipt from the hub for %.0f s; sending %d unconfirmed events again",
                self.config.serial,
                self._resend_after,
                len(self._in_flight),
            )
            self._in_flight.clear()
            self._resend_after = min(self._resend_after * 2, RESEND_MAX_S)
        batch = [(seq, e) for seq, e in self.outbox.peek(SEND_WINDOW) if e.id not in self._in_flight]
        if not batch:
            return
        # started in order: paho writes them to the one connection in this order (MQTT keeps QoS 1 order)
        sends = [asyncio.ensure_future(self.client.publish_event(event)) for _, event in batch]
        results = await asyncio.gather(*sends, return_exceptions=True)
        for (_, event), result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                log.info(
                    "gateway %s: outbox paused (%s); %d waiting", self.config.serial, result, len(self.outbox)
                )
                await asyncio.sleep(0.2)
                self._outbox_ready.set()
                return
            self._in_flight[event.id] = now

    # ---- state ---------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "kind": "gateway",
            "emulated": True,
            "serial": self.config.serial,
            "model": self.config.model,
            "phase": self.panel.phase.value,
            "panel": {
                "led": self.panel.led.value,
                "prompt": self.panel.prompts[-1].value if self.panel.prompts else None,
            },
            "network": self.panel.network.model_dump(),
            "paired_locks": list(self.memory.paired),
            "locks_in_range": [{"serial": s, "pairing": r.in_pairing_mode()} for s, r in self.locks.items()],
            "outbox_pending": self._pending_count(),
        }

    def _pending_count(self) -> int | None:
        try:
            return len(self.outbox)
        except sqlite3.Error:
            return None

    # ---- physical inputs (emulator) ------------------------------------------------------------

    def hold_function_button(self, seconds: float) -> None:
        """G3: press and hold the function button for ``seconds``."""
        now = self.clock()
        self.panel.button_down(now - seconds)
        self.panel.button_up(now)

    def lock_input(self, serial: str, input_: str, value: Any = None) -> dict[str, Any]:
        """A physical input on a lock in range; its events are queued at once (durable before return)."""
        relay = self._lock(serial)
        result = relay.panel_input(input_, value)
        self._pump(relay)
        return result

    def _lock(self, serial: str) -> LockRelay:
        relay = self.locks.get(serial)
        if relay is None:
            raise CommandError(f"no lock {serial} in radio range of gateway {self.config.serial}")
        return relay

    async def pair(self, serial: str) -> dict[str, Any]:
        """G5: pair a lock that is in pairing mode (L12.2); it then speaks through this gateway."""
        relay = self._lock(serial)
        if serial in self.memory.paired:
            return {"serial": serial, "paired": True}
        if not relay.in_pairing_mode():
            raise CommandError(f"lock {serial} is not in pairing mode (hold its RESET for 3 s first)")
        relay.complete_pairing()
        self.memory.paired.append(serial)
        self._remember()
        await self.client.add_serial(serial)
        self.raise_event("GatewayPaired", {"serial": serial})
        log.info("gateway %s paired lock %s", self.config.serial, serial)
        return {"serial": serial, "paired": True}

    async def unpair(self, serial: str, reason: str = "unpaired from the app") -> dict[str, Any]:
        if serial not in self.memory.paired:
            raise CommandError(f"lock {serial} is not paired with this gateway")
        relay = self._lock(serial)
        relay.unpair()
        await self._publish_state(serial, relay.state())  # the retained state says paired: false
        self.memory.paired.remove(serial)
        self._remember()
        self.raise_event("GatewayUnpaired", {"serial": serial, "reason": reason})
        log.info("gateway %s: lock %s unpaired (%s)", self.config.serial, serial, reason)
        return {"serial": serial, "paired": False}

    def place(self, serial: str, placement: Placement) -> dict[str, Any]:
        relay = self._lock(serial)
        relay.radio.place(placement)
        self.memory.placements[serial] = placement
        self._remember()
        return {"rssi_dbm": relay.radio.stats.rssi_dbm, "frame_loss": relay.radio.stats.frame_loss}

    # ---- commands ------------------------------------------------------------------------------

    async def _handle(self, serial: str, command: Command) -> dict[str, Any] | None:
        if serial != self.config.serial:
            if serial not in self.memory.paired:
                raise CommandError(f"lock {serial} is not paired with this gateway")
            relay = self._lock(serial)
            result = relay.execute(command)
            self._pump(relay)
            return result
        return await self._gateway_command(command)

    async def _gateway_command(self, command: Command) -> dict[str, Any] | None:
        name, args = command.name, command.args
        if name == "gateway.pair":
            return await self.pair(parse_args(PairArgs, args).serial)
        if name == "gateway.unpair":
            return await self.unpair(parse_args(PairArgs, args).serial)
        if name == "gateway.placement":
            placed = parse_args(PlacementArgs, args)
            return self.place(placed.serial, Placement(**placed.model_dump(exclude={"serial"})))
        if name == "gateway.state":
            parse_args(NoArgs, args)
            return self.state()
        if name == "panel.input":
            return self._gateway_input(parse_args(PanelInputArgs, args))
        raise CommandError(f"unknown command {name} for a gateway")

    def _gateway_input(self, args: PanelInputArgs) -> dict[str, Any]:
        if args.device and args.device != self.config.serial:
            return self.lock_input(args.device, args.input, args.value)
        if args.input == "function_button":
            held = args.value
            if isinstance(held, bool) or not isinstance(held, int | float) or not 0 <= held <= 30:
                raise CommandError("function_button value is seconds held, 0-30")
            self.hold_function_button(float(held))
            return {"led": self.panel.led.value, "phase": self.panel.phase.value}
        if args.input == "power":  # unplug and plug back in: boots again (G1), off is not offered remotely
            self.panel.power_on(self.clock())
            return {"led": self.panel.led.value, "phase": self.panel.phase.value}
        raise CommandError(f"a gateway has no input {args.input!r}; it has: function_button, power")


def _queued(event: Event) -> None:
    """One line per event safely on disk: the gateway's own record of what it owes the hub (G7)."""
    log.info("queued event %s (%s from %s)", event.id, event.type, event.source)


async def run_forever(config: GatewayConfig) -> None:
    """Run until SIGINT or SIGTERM, then stop cleanly (``offline`` published, outbox closed)."""
    gateway = Gateway(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, gateway.request_stop)
    await gateway.run()
