"""The one MQTT protocol every vakt device speaks (see docs/protocol.md)."""

from vakt.protocol.credentials import DeviceCredentials, device_password
from vakt.protocol.messages import (
    MAX_PAYLOAD_BYTES,
    Ack,
    Availability,
    Command,
    DeviceKind,
    Event,
    ProtocolError,
    Receipt,
    RefusedEvent,
    decode,
    encode,
)
from vakt.protocol.qr import DeviceLabel, QrError, parse_qr
from vakt.protocol.sealed import SealedError, seal, unseal
from vakt.protocol.topics import Channel, DeviceTopic, parse_topic, topic

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "Ack",
    "Availability",
    "Channel",
    "Command",
    "DeviceCredentials",
    "DeviceKind",
    "DeviceLabel",
    "DeviceTopic",
    "Event",
    "ProtocolError",
    "QrError",
    "Receipt",
    "RefusedEvent",
    "SealedError",
    "decode",
    "device_password",
    "encode",
    "parse_qr",
    "parse_topic",
    "seal",
    "topic",
    "unseal",
]
