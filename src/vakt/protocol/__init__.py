"""The one MQTT protocol every vakt device speaks (see docs/protocol.md)."""

from vakt.protocol.messages import (
    MAX_PAYLOAD_BYTES,
    Ack,
    Availability,
    Command,
    DeviceKind,
    Event,
    ProtocolError,
    decode,
    encode,
)
from vakt.protocol.topics import Channel, DeviceTopic, parse_topic, topic

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "Ack",
    "Availability",
    "Channel",
    "Command",
    "DeviceKind",
    "DeviceTopic",
    "Event",
    "ProtocolError",
    "decode",
    "encode",
    "parse_topic",
    "topic",
]
