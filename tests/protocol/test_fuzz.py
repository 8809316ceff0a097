"""Bad input of any shape gets a clear error, never a crash (protocol payloads, QR text, sealed tokens)."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vakt.protocol import Command, ProtocolError, QrError, SealedError, decode, parse_qr, unseal
from vakt.protocol.client import DeviceClient

_loop = asyncio.new_event_loop()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
command_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=70),
        "ts": st.text(max_size=30),
        "target": st.text(max_size=70),
        "name": st.text(max_size=70),
        "args": json_values,
        "extra": json_values,
    },
)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | command_like.map(lambda d: json.dumps(d).encode()))
def test_any_payload_decodes_or_raises_protocol_error(payload: bytes) -> None:
    try:
        decode(Command, payload)
    except ProtocolError as exc:
        assert str(exc).startswith("invalid Command") or "exceeds" in str(exc)


@settings(max_examples=60, deadline=None)
@given(command_like.map(lambda d: json.dumps(d).encode()) | st.binary(max_size=200))
def test_device_client_answers_or_ignores_any_command_without_raising(payload: bytes) -> None:
    client = DeviceClient(serial="CAM0001", password="x", handler=None)
    ack = _loop.run_until_complete(client._execute("CAM0001", payload))
    assert ack is None or (ack.id and (ack.ok is False))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300) | st.builds(lambda body: "VAKT:1;" + body, st.text(max_size=120)))
def test_any_qr_text_parses_or_raises_qr_error(text: str) -> None:
    try:
        label = parse_qr(text)
    except QrError:
        return
    assert parse_qr(label.to_qr()) == label


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200) | st.builds(lambda body: "v1." + body, st.text(max_size=200)))
def test_any_sealed_token_opens_or_raises_sealed_error(token: str) -> None:
    with pytest.raises(SealedError):  # a forged token never opens (AES-GCM tag)
        unseal("LOCKCODE1", "LK0001", token)
