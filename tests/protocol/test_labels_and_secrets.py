"""QR labels (G4, A2), derived MQTT credentials and sealed secrets (L14.1)."""

from __future__ import annotations

import pytest

from vakt.protocol import (
    DeviceCredentials,
    DeviceLabel,
    QrError,
    SealedError,
    device_password,
    parse_qr,
    seal,
    unseal,
)


def test_g4_qr_round_trip() -> None:
    label = DeviceLabel(serial="GW0001", code="K7Q2X9PA", model="VG-1")
    assert label.to_qr() == "VAKT:1;S=GW0001;C=K7Q2X9PA;M=VG-1"
    assert parse_qr(label.to_qr()) == label
    assert parse_qr("  VAKT:1;M=VG-1;C=K7Q2X9PA;S=GW0001\n") == label  # any field order, whitespace


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not a vakt device QR"),
        ("WIFI:S=home;P=x;;", "not a vakt device QR"),
        ("VAKT:2;S=GW1;C=ABCDEF;M=VG-1", "not a vakt device QR"),
        ("VAKT:1;S=GW1;C=ABCDEF", "lacks field"),
        ("VAKT:1;S=GW1;S=GW2;C=ABCDEF;M=x", "appears twice"),
        ("VAKT:1;S=GW1;C=ABCDEF;M=x;X=1", "unknown QR field"),
        ("VAKT:1;S=GW1;C ABCDEF;M=x", "malformed QR field"),
        ("VAKT:1;S=GW/1;C=ABCDEF;M=x", "invalid QR field serial"),
        ("VAKT:1;S=GW1;C=ABC;M=x", "invalid QR field code"),
        ("VAKT:1;S=GW1;C=ABCDEF;M=" + "x" * 300, "exceeds"),
    ],
)
def test_a2_bad_qr_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(QrError, match=reason):
        parse_qr(text)


def test_password_is_derived_deterministically_and_differs_per_code() -> None:
    first = device_password("K7Q2X9PA")
    assert first == device_password("K7Q2X9PA")
    assert first != device_password("K7Q2X9PB")
    assert len(first) == 32 and "=" not in first and "K7Q2X9PA" not in first
    creds = DeviceCredentials.from_label(parse_qr("VAKT:1;S=GW0001;C=K7Q2X9PA;M=VG-1"))
    assert creds == DeviceCredentials("GW0001", first)


def test_l14_1_sealed_door_code_round_trip_and_never_in_clear() -> None:
    token = seal("LOCKCODE1", "LK0001", "12345678")
    assert "12345678" not in token and token.startswith("v1.")
    assert seal("LOCKCODE1", "LK0001", "12345678") != token  # fresh nonce every time
    assert unseal("LOCKCODE1", "LK0001", token) == "12345678"


@pytest.mark.parametrize(
    ("code", "serial", "purpose"),
    [
        ("OTHERCODE", "LK0001", "credential"),
        ("LOCKCODE1", "LK0002", "credential"),
        ("LOCKCODE1", "LK0001", "pin"),
    ],
)
def test_l14_1_sealed_secret_opens_only_for_its_device(code: str, serial: str, purpose: str) -> None:
    token = seal("LOCKCODE1", "LK0001", "12345678")
    with pytest.raises(SealedError, match="does not open"):
        unseal(code, serial, token, purpose)


@pytest.mark.parametrize("token", ["", "12345678", "v1.", "v1.!!!!", "v1.AAAA", 1234])
def test_l14_1_malformed_sealed_secret_is_refused(token: object) -> None:
    with pytest.raises(SealedError):
        unseal("LOCKCODE1", "LK0001", token)  # type: ignore[arg-type]


def test_tampered_sealed_secret_is_refused() -> None:
    token = seal("LOCKCODE1", "LK0001", "12345678")
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(SealedError):
        unseal("LOCKCODE1", "LK0001", flipped)
