"""The device protocol's payload models reject bad input with a readable reason."""

from __future__ import annotations

import pytest

from vakt.protocol import (
    MAX_PAYLOAD_BYTES,
    Channel,
    Command,
    Event,
    ProtocolError,
    decode,
    encode,
    parse_topic,
    topic,
)


def test_event_round_trip_keeps_id_and_time() -> None:
    event = Event(source="LK0001", type="LockOperation", data={"operation": "Unlock"})
    assert decode(Event, encode(event)) == event


@pytest.mark.parametrize(
    "payload",
    [b"", b"not json", b"[]", b'{"source": "x"}', b'{"source":"x","type":"y","extra":1}', b"\xff\xfe"],
)
def test_malformed_event_is_a_protocol_error(payload: bytes) -> None:
    with pytest.raises(ProtocolError, match="invalid Event"):
        decode(Event, payload)


def test_oversized_payload_is_refused_before_parsing() -> None:
    with pytest.raises(ProtocolError, match="exceeds"):
        decode(Command, b" " * (MAX_PAYLOAD_BYTES + 1))


def test_topics_round_trip_and_reject_foreign_names() -> None:
    assert parse_topic(topic("CAM-01", Channel.CMD)) is not None
    assert parse_topic("vakt/v1/CAM-01/bogus") is None
    assert parse_topic("other/v1/CAM-01/cmd") is None
    assert parse_topic("vakt/v1/+/cmd") is None
    with pytest.raises(ValueError):
        topic("bad/serial", Channel.STATE)
