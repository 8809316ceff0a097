"""Topic layout: ``vakt/v1/<serial>/<channel>``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "vakt/v1"
SERIAL_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Channel(StrEnum):
    STATE = "state"  # retained, device -> hub: the device's current state
    EVENT = "event"  # QoS 1, device -> hub: something happened (unique id, de-duplicated by the hub)
    CMD = "cmd"  # QoS 1, hub -> device: do something (with an id)
    ACK = "ack"  # QoS 1, device -> hub: the outcome of a command
    AVAILABILITY = "availability"  # retained, "online" / last will "offline"
    RECEIPT = "receipt"  # QoS 1, hub -> device: these events are committed, forget them (G7)


@dataclass(frozen=True, slots=True)
class DeviceTopic:
    serial: str
    channel: Channel


def topic(serial: str, channel: Channel) -> str:
    if not SERIAL_PATTERN.match(serial):
        raise ValueError(f"invalid device serial {serial!r}")
    return f"{PREFIX}/{serial}/{channel.value}"


def parse_topic(name: str) -> DeviceTopic | None:
    """The device and channel a topic names, or None when it is not a vakt device topic."""
    parts = name.split("/")
    if len(parts) != 4 or f"{parts[0]}/{parts[1]}" != PREFIX or not SERIAL_PATTERN.match(parts[2]):
        return None
    try:
        return DeviceTopic(parts[2], Channel(parts[3]))
    except ValueError:
        return None
