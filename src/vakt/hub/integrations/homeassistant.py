"""Home Assistant MQTT discovery (V3): the discovery configs and states the hub publishes for an account.

Pure functions from devices to ``topic -> payload``; ``homeassistant_bridge`` publishes them. Topics:

- ``homeassistant/<component>/vakt_a<account>/<serial>_<entity>/config``: discovery, retained; an empty
  retained payload removes the entity. The node id names the account, so its broker ACL can cover it.
- ``vakt/ha/<account>/<serial>/<entity>/state`` (retained), ``.../event`` (an ``event`` entity, not
  retained), ``.../set`` (a command from Home Assistant), ``vakt/ha/<account>/<serial>/availability``.
- ``vakt/ha/<account>/home/...``: the account's home (arming mode, X4) and the hub's availability.

Vocabulary: lock events and alarms are the lock's own enums (``vakt.lock``), arming modes ``ArmingMode``.
Field names follow https://www.home-assistant.io/integrations/mqtt/ (discovery) and each platform's page
(lock.mqtt, camera.mqtt, siren.mqtt, event.mqtt, binary_sensor.mqtt, sensor.mqtt, select.mqtt).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from vakt import __version__
from vakt.hub.devices import summarize_state
from vakt.hub.models.alerts import ArmingMode
from vakt.hub.models.devices import Device
from vakt.lock import AlarmCode, EventType, LockOperationType, OperatingMode

DISCOVERY_PREFIX: Final = "homeassistant"
STATE_ROOT: Final = "vakt/ha"
HOME: Final = "home"  # the serial-like name of the account's home (arming mode, hub availability)
BIRTH_TOPIC: Final = f"{DISCOVERY_PREFIX}/status"  # Home Assistant says "online" here when it (re)starts
PIN_FORMAT: Final = r"^(\d{4,8})?$"  # the remote-unlock PIN (A7); empty allowed: locking needs none
ONLINE, OFFLINE = "online", "offline"
ON, OFF = "ON", "OFF"


class LockStatePayload:
    """What the ``lock`` entity's state topic carries (HA's state_locked/unlocked/jammed/open)."""

    LOCKED = "LOCKED"
    UNLOCKED = "UNLOCKED"
    JAMMED = "JAMMED"
    OPEN = "OPEN"  # held open: normally-open (Passage) mode, L11.1


LOCK_PAYLOAD_LOCK, LOCK_PAYLOAD_UNLOCK = "LOCK", "UNLOCK"
# One operation event per Matter LockOperationType, and the failed attempts (LockOperationError).
OPERATION_EVENT_TYPES: Final = [*(t.value for t in LockOperationType), EventType.LockOperationError.value]
TAMPER_ALARMS: Final = frozenset({AlarmCode.FrontEsceutcheonRemoved.value})


def node_id(account_id: int) -> str:
    return f"vakt_a{account_id}"


def account_root(account_id: int) -> str:
    return f"{STATE_ROOT}/{account_id}"


def device_root(account_id: int, serial: str) -> str:
    return f"{account_root(account_id)}/{serial}"


def config_topic(account_id: int, component: str, serial: str, entity: str) -> str:
    return f"{DISCOVERY_PREFIX}/{component}/{node_id(account_id)}/{serial}_{entity}/config"


def broker_filters(account_id: int) -> tuple[list[str], list[str]]:
    """(read, write) topic filters of the account's Home Assistant broker user ``ha-<account id>``."""
    root = account_root(account_id)
    read = [f"{DISCOVERY_PREFIX}/+/{node_id(account_id)}/#", f"{root}/#", BIRTH_TOPIC]
    write = [f"{root}/+/+/set", BIRTH_TOPIC]
    return read, write


def broker_username(account_id: int) -> str:
    return f"ha-{account_id}"


@dataclass(frozen=True, slots=True)
class CommandTopic:
    """A parsed ``vakt/ha/<account>/<serial>/<entity>/set``."""

    account_id: int
    serial: str
    entity: str


def parse_command_topic(topic: str) -> CommandTopic | None:
    parts = topic.split("/")
    if len(parts) != 6 or "/".join(parts[:2]) != STATE_ROOT or parts[5] != "set" or not parts[2].isdigit():
        return None
    return CommandTopic(int(parts[2]), parts[3], parts[4])


def _device_info(device: Device, via: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "identifiers": [f"vakt_{device.serial}"],
        "manufacturer": "vakt",
        "model": device.model or device.kind,
        "name": device.name or device.serial,
        "serial_number": device.serial,
    }
    if via is not None:
        info["via_device"] = f"vakt_{via}"  # a lock talks through its gateway (G5)
    return info


def _home_info(account_id: int, username: str) -> dict[str, Any]:
    return {
        "identifiers": [f"vakt_home_{account_id}"],
        "manufacturer": "vakt",
        "model": "vakt hub",
        "name": f"vakt home ({username})",
        "sw_version": __version__,
    }


class _Entities:
    """Builds one device's entity configs with the common fields (availability, device, origin)."""

    def __init__(self, account_id: int, serial: str, device: dict[str, Any], own_availability: bool) -> None:
        self.account_id, self.serial, self.device = account_id, serial, device
        self.root = device_root(account_id, serial)
        hub = f"{device_root(account_id, HOME)}/availability"
        self.availability = [{"topic": hub}] + (
            [{"topic": f"{self.root}/availability"}] if own_availability else []
        )
        self.configs: dict[str, dict[str, Any]] = {}

    def add(self, component: str, entity: str, name: str | None, **fields: Any) -> None:
        self.configs[config_topic(self.account_id, component, self.serial, entity)] = {
            "name": name,
            "unique_id": f"vakt_{self.serial}_{entity}",
            "availability": self.availability,
            "availability_mode": "all",
            "device": self.device,
            "origin": {"name": "vakt", "sw_version": __version__},
            **fields,
        }

    def state(self, entity: str) -> str:
        return f"{self.root}/{entity}/state"

    def command(self, entity: str) -> str:
        return f"{self.root}/{entity}/set"


def device_configs(account_id: int, device: Device, via: str | None = None) -> dict[str, dict[str, Any]]:
    """Discovery configs (topic -> payload) of one device the account owns."""
    e = _Entities(
        account_id, device.serial, _device_info(device, via), own_availability=device.kind != "gateway"
    )
    if device.kind == "lock":
        e.add(
            "lock",
            "lock",
            None,  # the device's name: "Front door"
            state_topic=e.state("lock"),
            command_topic=e.command("lock"),
            command_template='{"action": "{{ value }}", "code": "{{ code }}"}',
            code_format=PIN_FORMAT,
            payload_lock=LOCK_PAYLOAD_LOCK,
            payload_unlock=LOCK_PAYLOAD_UNLOCK,
            state_locked=LockStatePayload.LOCKED,
            state_unlocked=LockStatePayload.UNLOCKED,
            state_jammed=LockStatePayload.JAMMED,
            state_open=LockStatePayload.OPEN,
        )
        e.add(
            "event",
            "operation",
            "Lock operation",
            state_topic=f"{e.root}/operation/event",
            event_types=OPERATION_EVENT_TYPES,
            icon="mdi:lock-clock",
        )
        e.add(
            "event",
            "doorbell",
            "Doorbell",
            state_topic=f"{e.root}/doorbell/event",
            event_types=[EventType.Doorbell.value],
            device_class="doorbell",
        )
        e.add("binary_sensor", "tamper", "Tamper", state_topic=e.state("tamper"), device_class="tamper")
        e.add(
            "sensor",
            "battery",
            "Battery",
            state_topic=e.state("battery"),
            device_class="battery",
            unit_of_measurement="%",
            state_class="measurement",
        )
        e.add(
            "sensor",
            "rssi",
            "Signal strength",
            state_topic=e.state("rssi"),
            device_class="signal_strength",
            unit_of_measurement="dBm",
            state_class="measurement",
            entity_category="diagnostic",
        )
    elif device.kind == "camera":
        e.add(
            "camera",
            "camera",
            None,
            topic=f"{e.root}/camera/image",  # a JPEG: the snapshot of the latest person or motion event
            json_attributes_topic=f"{e.root}/camera/attributes",  # stream_url
        )
        e.add(
            "siren",
            "siren",
            "Active defense",  # siren + fast-flashing spotlight for up to a minute (C9.2)
            state_topic=e.state("siren"),
            command_topic=e.command("siren"),
            payload_on=ON,
            payload_off=OFF,
        )
        e.add("binary_sensor", "person", "Person", state_topic=e.state("person"), device_class="occupancy")
        e.add("binary_sensor", "motion", "Motion", state_topic=e.state("motion"), device_class="motion")
    elif device.kind == "gateway":
        e.add(
            "binary_sensor",
            "connectivity",
            "Connection",
            state_topic=e.state("connectivity"),
            device_class="connectivity",
            entity_category="diagnostic",
        )
    return e.configs


def home_configs(account_id: int, username: str) -> dict[str, dict[str, Any]]:
    """The account's home: the arming mode (X4) as a ``select``."""
    e = _Entities(account_id, HOME, _home_info(account_id, username), own_availability=False)
    e.add(
        "select",
        "arming",
        "Arming mode",
        state_topic=e.state("arming"),
        command_topic=e.command("arming"),
        options=[m.value for m in ArmingMode],
        icon="mdi:shield-home",
    )
    return e.configs


def _on(value: bool) -> str:
    return ON if value else OFF


def lock_state_payload(state: Mapping[str, Any]) -> str | None:
    """JAMMED while the LockJammed alarm is on, OPEN in Passage mode, else the motor's position."""
    _, locked, alarms, _ = summarize_state(dict(state))
    if AlarmCode.LockJammed.value in alarms:
        return LockStatePayload.JAMMED
    if state.get("operating_mode") == OperatingMode.Passage.value:
        return LockStatePayload.OPEN
    if locked is None:
        return None
    return LockStatePayload.LOCKED if locked else LockStatePayload.UNLOCKED


def stream_url_without_secret(url: Any) -> str | None:
    """The camera's RTSP address without user or password: no secret leaves the hub over MQTT."""
    if not isinstance(url, str) or not url.startswith("rtsp://"):
        return None
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, ""))


def device_states(account_id: int, device: Device) -> dict[str, bytes]:
    """Retained states (topic -> payload) of one device, from its stored state and availability."""
    root = device_root(account_id, device.serial)
    state = device.state or {}
    out: dict[str, bytes] = {}
    if device.kind != "gateway":
        out[f"{root}/availability"] = (ONLINE if device.online else OFFLINE).encode()
    if device.kind == "lock":
        battery, _, alarms, rssi = summarize_state(state)
        lock = lock_state_payload(state)
        if lock is not None:
            out[f"{root}/lock/state"] = lock.encode()
        out[f"{root}/tamper/state"] = _on(bool(TAMPER_ALARMS & set(alarms))).encode()
        if battery is not None:
            out[f"{root}/battery/state"] = f"{battery:g}".encode()
        if rssi is not None:
            out[f"{root}/rssi/state"] = f"{rssi:g}".encode()
    elif device.kind == "camera":
        defense = state.get("active_defense") if isinstance(state.get("active_defense"), dict) else {}
        siren = state.get("siren") if isinstance(state.get("siren"), dict) else {}
        out[f"{root}/siren/state"] = _on(bool((defense or {}).get("on") or (siren or {}).get("on"))).encode()
        rtsp = state.get("rtsp") if isinstance(state.get("rtsp"), dict) else {}
        attributes = {
            "stream_url": stream_url_without_secret((rtsp or {}).get("main_url")),
            "sub_stream_url": stream_url_without_secret((rtsp or {}).get("sub_url")),
        }
        out[f"{root}/camera/attributes"] = json.dumps(attributes).encode()
    elif device.kind == "gateway":
        out[f"{root}/connectivity/state"] = _on(device.online).encode()
    return out


def home_states(account_id: int, mode: ArmingMode, hub_online: bool = True) -> dict[str, bytes]:
    root = device_root(account_id, HOME)
    return {
        f"{root}/availability": (ONLINE if hub_online else OFFLINE).encode(),
        f"{root}/arming/state": mode.value.encode(),
    }


def encode_config(config: Mapping[str, Any]) -> bytes:
    return json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
