"""One lock behind the gateway: its firmware on a real clock, the radio link, commands and state (G5-G7).

The gateway runs the lock firmware (``vakt.lock.Lock``) with the wall clock and ticks it; events the
firmware raises cross the radio model in order (a lost frame is retried; a message lost after all
retries stays on the lock and goes again on the next tick) and become protocol ``Event``s with a
unique id. Hub commands cross the radio too before they reach the firmware's remote interface.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vakt.gateway.commands import (
    CredentialAddArgs,
    CredentialDeleteArgs,
    MemoryRestoreArgs,
    NoArgs,
    OperatingModeArgs,
    PanelInputArgs,
    VolumeArgs,
    parse_args,
)
from vakt.gateway.radio import RadioLink
from vakt.lock import (
    CredentialType,
    FileStore,
    Lock,
    LockEvent,
    OperatingMode,
    Output,
    RemoteError,
    UserType,
    Volume,
)
from vakt.lock.inputs import apply_input
from vakt.lock.types import DEAD_BATTERY_V, PAIRING_HOLD_S
from vakt.protocol.client import CommandError
from vakt.protocol.credentials import PROVE_COMMAND, device_password, device_proof
from vakt.protocol.messages import Command, Event
from vakt.protocol.sealed import SealedError, unseal

log = logging.getLogger(__name__)

FULL_BATTERY_V = 6.0  # 4xAA fresh
CREDENTIAL_TYPES = {
    "code": CredentialType.PIN,
    "card": CredentialType.RFID,
    "fingerprint": CredentialType.Fingerprint,
}
# names other parts use for the same physical inputs (web panel, docs) -> the firmware's names
INPUT_ALIASES = {
    "doorbell": "bell",
    "emergency_power": "usb",
    "key_turn": "mechanical_key",
    "reset_hold": "reset",
}


class _Clock:
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def _epoch(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


class LockRelay:
    def __init__(
        self, serial: str, code: str, model: str, radio: RadioLink, data_dir: Path, clock: Callable[[], float]
    ) -> None:
        self.serial, self._code, self.model = serial, code, model
        self.radio = radio
        self.firmware = Lock(_Clock(clock), FileStore(data_dir / "memory.json"))
        self._on_lock: deque[LockEvent] = deque()  # raised but not yet across the radio
        self._received: deque[Event] = deque()  # across the radio, not yet in the outbox
        self.last_output: Output | None = None

    # ---- time and events -----------------------------------------------------------------------

    def tick(self, now: float) -> None:
        self._keep(self.firmware.tick())

    def _keep(self, output: Output) -> Output:
        self.last_output = output
        return output

    def receive_events(self) -> deque[Event]:
        """Events that crossed the radio, oldest first, as protocol Events; the caller pops each one
        only once it is stored, so an event that cannot be stored yet is offered again next time."""
        self._on_lock.extend(self.firmware.drain_events())
        while self._on_lock:
            if not self.radio.transmit():
                log.info(
                    "lock %s: event lost on the radio after retries; the lock sends it again", self.serial
                )
                break
            event = self._on_lock.popleft()
            self._received.append(
                Event(
                    source=self.serial,
                    type=event.type,
                    data=event.to_protocol_data(),
                    ts=datetime.fromtimestamp(event.ts, UTC),
                )
            )
        return self._received

    def discard_events(self) -> None:
        """An unpaired lock talks to nobody: its events go nowhere."""
        self.firmware.drain_events()
        self._on_lock.clear()
        self._received.clear()

    # ---- pairing (G5, L12.2) -------------------------------------------------------------------

    def in_pairing_mode(self) -> bool:
        return bool(self.firmware.pairing)

    def complete_pairing(self) -> None:
        if not self.firmware.complete_pairing():
            raise CommandError(f"lock {self.serial} left pairing mode before it could be paired")

    def pair_at_install(self) -> None:
        """What the installer does once: hold RESET 3 s, then the gateway adds the lock (G5)."""
        self.firmware.hold_reset(PAIRING_HOLD_S)
        self.complete_pairing()
        self.discard_events()

    def unpair(self) -> None:
        self.firmware.unpair()

    def is_paired(self) -> bool:
        return self.firmware.state().paired

    # ---- physical inputs (emulator) ------------------------------------------------------------

    def panel_input(self, name: str, value: Any = None) -> dict[str, Any]:
        name = INPUT_ALIASES.get(name, name)
        if value is None and name in ("batteries", "usb"):  # a button on a panel: toggle
            value = not (self.firmware.batteries_in if name == "batteries" else self.firmware.usb_power)
        if isinstance(value, bool):
            value = "on" if value else "off"
        try:
            out = self._keep(apply_input(self.firmware, name, value))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        return self._output(out)

    @staticmethod
    def _output(out: Output) -> dict[str, Any]:
        return out.model_dump(mode="json", exclude={"events"})

    # ---- hub commands (through the radio) ------------------------------------------------------

    def execute(self, command: Command) -> dict[str, Any]:
        name, args = command.name, command.args
        if name == "panel.input":
            panel = parse_args(PanelInputArgs, args)
            return self.panel_input(panel.input, panel.value)
        if name == PROVE_COMMAND:  # A2: the gateway holds its paired lock's code and answers for it
            nonce = str(args.get("nonce", ""))[:128]
            return {"proof": device_proof(device_password(self._code), self.serial, nonce)}
        if name in ("lock.state", "lock.credentials"):
            parse_args(NoArgs, args)
            return self.state() if name == "lock.state" else {"credentials": self._credentials()}
        handler = self._remote.get(name)
        if handler is None:
            raise CommandError(f"unknown command {name} for a lock")
        if not self.radio.transmit():
            raise CommandError(
                f"lock {self.serial} did not answer over the radio "
                f"({self.radio.retries + 1} attempts; RSSI {self.radio.stats.rssi_dbm} dBm)"
            )
        try:
            return handler(self, args)
        except RemoteError as exc:
            raise CommandError(str(exc)) from None

    def _unlock(self, args: dict[str, Any]) -> dict[str, Any]:
        parse_args(NoArgs, args)
        return {"motor": self._keep(self.firmware.remote_unlock()).motor.value}

    def _lock(self, args: dict[str, Any]) -> dict[str, Any]:
        parse_args(NoArgs, args)
        return {"motor": self._keep(self.firmware.remote_lock()).motor.value}

    def _operating_mode(self, args: dict[str, Any]) -> dict[str, Any]:
        mode = parse_args(OperatingModeArgs, args).mode
        out = self._keep(self.firmware.set_operating_mode(OperatingMode(mode)))
        return {"operating_mode": mode, "motor": out.motor.value}

    def _volume(self, args: dict[str, Any]) -> dict[str, Any]:
        level = parse_args(VolumeArgs, args).level
        self._keep(self.firmware.set_volume(Volume(level)))
        return {"volume": level}

    def _add_credential(self, args: dict[str, Any]) -> dict[str, Any]:
        a = parse_args(CredentialAddArgs, args)
        if a.type == "code":
            try:
                secret = unseal(self._code, self.serial, a.sealed or "", "credential")
            except SealedError as exc:
                raise CommandError(f"door code not accepted: {exc}") from None
        else:
            secret = a.card_uid or ""
        kind = CREDENTIAL_TYPES[a.type]
        index = self.firmware.add_credential(
            kind,
            secret,
            user_type=UserType(a.user_type),
            name=a.name,
            valid_from=_epoch(a.valid_from),
            valid_until=_epoch(a.valid_until),
            max_uses=a.max_uses,
        )
        stored = next(c for c in self.firmware.credentials() if (c.credential_type, c.index) == (kind, index))
        # the lock may have made it an administrator (the first one, L2.3): the hub shows what it holds
        return {"index": index, "type": a.type, "user_type": stored.user_type.value}

    def _restore_memory(self, args: dict[str, Any]) -> dict[str, Any]:
        sealed = parse_args(MemoryRestoreArgs, args).sealed
        try:
            code = unseal(self._code, self.serial, sealed, "credential")
        except SealedError as exc:
            raise CommandError(f"door code not accepted: {exc}") from None
        return {"index": self.firmware.restore_memory(code), "type": "code"}

    def _delete_credential(self, args: dict[str, Any]) -> dict[str, Any]:
        a = parse_args(CredentialDeleteArgs, args)
        self.firmware.delete_credential(CREDENTIAL_TYPES[a.type], a.index)
        return {"index": a.index, "type": a.type}

    _remote: dict[str, Callable[[LockRelay, dict[str, Any]], dict[str, Any]]] = {
        "lock.unlock": _unlock,
        "lock.lock": _lock,
        "lock.operating_mode": _operating_mode,
        "lock.volume": _volume,
        "lock.credential.add": _add_credential,
        "lock.credential.delete": _delete_credential,
        "lock.memory.restore": _restore_memory,
    }

    # ---- state ---------------------------------------------------------------------------------

    def _credentials(self) -> list[dict[str, Any]]:
        return [c.model_dump(mode="json") for c in self.firmware.credentials()]

    def state(self) -> dict[str, Any]:
        """The retained state of the lock (A3, A7, G6): firmware state + battery, credentials, link."""
        fw = self.firmware.state()
        volts = fw.battery_voltage
        percent = round(100 * (volts - DEAD_BATTERY_V) / (FULL_BATTERY_V - DEAD_BATTERY_V))
        stats = self.radio.stats
        state = fw.model_dump(mode="json")
        state.update(
            serial=self.serial,
            model=self.model,
            battery={
                "volts": round(volts, 2),
                "percent": max(0, min(100, percent)),
                "low": fw.battery_low,
                "dead": fw.battery_dead,
                "usb_power": fw.usb_power,
            },
            credentials=self._credentials(),
            link={
                "rssi_dbm": round(stats.rssi_dbm),
                "frame_loss": round(stats.frame_loss, 4),
                "messages": stats.messages,
                "lost_messages": stats.lost_messages,
                "lost_frames": stats.lost_frames,
                "retries": stats.retries,
                **self.radio.placement.model_dump(),
            },
            panel={
                "display": fw.display.model_dump(mode="json"),
                "prompt": fw.last_prompts[-1].value if fw.last_prompts else None,
                "prompts": [p.value for p in fw.last_prompts],
                "leds": {"keypad": fw.display.lit, "pairing_digit": fw.pairing_mode},
                "alarms": [a.value for a in fw.alarms],
                "motor": fw.motor.value,
            },
        )
        return state
