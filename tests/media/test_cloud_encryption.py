"""Image Encryption (C6): sealed footage opens only with the password, seeks by chunk, refuses tampering."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from vakt.media.encryption import (
    HEADER,
    TAG,
    DamagedFootage,
    Opener,
    WrongPassword,
    change_password,
    create_camera_key,
    is_encrypted,
    parse_header,
    seal_bytes,
    seal_file,
    sealed_range,
    sealed_size,
    unlock,
)
from vakt.media.encryption_vault import KeyVault

QUICK_N = 2**12  # the stored parameters are used to unlock, so tests may use a cheaper scrypt


def sealed(tmp_path: Path, size: int, chunk: int = 1000) -> tuple[bytes, Path, Opener]:
    key = create_camera_key("correct horse", n=QUICK_N)
    plain = os.urandom(size)
    (tmp_path / "seg.mp4").write_bytes(plain)
    seal_file(tmp_path / "seg.mp4", tmp_path / "seg.sealed", key.public(), chunk_size=chunk)
    return plain, tmp_path / "seg.sealed", Opener(unlock(key, "correct horse"))


def test_round_trip_and_every_range_by_chunk(tmp_path: Path) -> None:
    plain, path, opener = sealed(tmp_path, 5500)
    data = path.read_bytes()
    header = parse_header(data)
    assert len(data) == header.sealed_size == HEADER.size + 5500 + 6 * TAG
    assert plain not in data and plain[:64] not in data
    for start, end in [(0, 10), (999, 1001), (2500, 5500), (5499, 5500), (0, 5500)]:
        first, lo, hi = sealed_range(header, start, end)
        got = opener.open_chunks(header, first, data[lo:hi])
        offset = start - first * header.chunk_size
        assert got[offset : offset + end - start] == plain[start:end]
    opener.open_file(path, tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == plain


@pytest.mark.parametrize("size", [0, 1000, 3000])
def test_sizes_on_chunk_boundaries_and_in_memory_sealing_agree(tmp_path: Path, size: int) -> None:
    """A file of exactly n chunks has n chunks (no empty extra one), sealed on disk or in memory."""
    plain, path, opener = sealed(tmp_path, size)
    header = parse_header(path.read_bytes())
    assert header.chunks == max(1, size // 1000) and path.stat().st_size == sealed_size(size, 1000)
    opener.open_file(path, tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == plain
    in_memory = seal_bytes(plain, opener.private.public_key(), chunk_size=1000)
    (tmp_path / "mem.sealed").write_bytes(in_memory)
    opener.open_file(tmp_path / "mem.sealed", tmp_path / "out2")
    assert (tmp_path / "out2").read_bytes() == plain


def test_wrong_password_refused_and_change_password_rewraps(tmp_path: Path) -> None:
    """C6 Change Encryption Password: the old password is needed; footage sealed before still opens."""
    key = create_camera_key("first password", n=QUICK_N)
    with pytest.raises(WrongPassword, match="wrong") as caught:
        unlock(key, "first passwore")
    assert "first" not in str(caught.value)  # nothing about the password is revealed
    (tmp_path / "a").write_bytes(b"footage" * 100)
    seal_file(tmp_path / "a", tmp_path / "a.sealed", key.public())
    with pytest.raises(WrongPassword):
        change_password(key, "not it at all", "second password")
    changed = change_password(key, "first password", "second password")
    assert changed.public_key == key.public_key and changed.salt != key.salt
    with pytest.raises(WrongPassword):
        unlock(changed, "first password")
    Opener(unlock(changed, "second password")).open_file(tmp_path / "a.sealed", tmp_path / "a.out")
    assert (tmp_path / "a.out").read_bytes() == b"footage" * 100
    with pytest.raises(ValueError, match="at least 8"):
        create_camera_key("short", n=QUICK_N)


@pytest.mark.parametrize("damage", ["flip", "truncate", "swap", "extend", "other key", "header", "zero key"])
def test_tampered_footage_fails_authentication(tmp_path: Path, damage: str) -> None:
    """A changed, cut, reordered or foreign chunk is DamagedFootage, and no plaintext file is left."""
    _, path, opener = sealed(tmp_path, 3000)
    data = bytearray(path.read_bytes())
    step = 1000 + TAG
    if damage == "flip":
        data[HEADER.size + 1500] ^= 0x01
    elif damage == "truncate":
        del data[-TAG - 10 :]
    elif damage == "swap":
        a, b = HEADER.size, HEADER.size + step
        data[a : a + step], data[b : b + step] = data[b : b + step], data[a : a + step]
    elif damage == "extend":
        data += data[HEADER.size : HEADER.size + step]
    elif damage == "header":
        data[HEADER.size - 40] ^= 0x01  # the plaintext size
    elif damage == "zero key":
        data[HEADER.size - 32 : HEADER.size] = bytes(32)  # a low-order ephemeral key
    else:
        opener = Opener(unlock(create_camera_key("another password", n=QUICK_N), "another password"))
    path.write_bytes(bytes(data))
    with pytest.raises(DamagedFootage):
        opener.open_file(path, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_voice_assistant_rule() -> None:
    """C11.1/C11.2: one rule says which cameras the assistants must not see."""

    class Cam:
        def __init__(self, on: bool) -> None:
            self.image_encryption = on

    assert is_encrypted(Cam(True)) and not is_encrypted(Cam(False))


def test_unlocked_key_is_held_per_session_and_camera_for_a_bounded_time() -> None:
    """C6: the unwrapped key lives only in memory, for one viewer's session and camera, and expires."""
    opener = Opener(unlock(create_camera_key("correct horse", n=QUICK_N), "correct horse"))
    vault = KeyVault(ttl=0.2)
    vault.hold(1, 7, opener)
    vault.hold(2, 7, opener)
    assert vault.opener(1, 7) is opener and vault.opener(1, 8) is None and vault.opener(3, 7) is None
    vault.lock(2, 7)
    assert vault.opener(2, 7) is None and vault.opener(1, 7) is opener
    time.sleep(0.25)
    assert vault.opener(1, 7) is None and vault.seconds_left(1, 7) is None
    vault.hold(1, 7, opener)
    vault.forget_camera(7)  # the password changed
    assert vault.opener(1, 7) is None
