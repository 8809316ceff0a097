"""Image Encryption (C6): footage leaving for the cloud is sealed with AES-256-GCM in seekable chunks.

Keys (envelope encryption). Each camera with Image Encryption on has an X25519 key pair. The public
half is kept by the hub, so it seals new footage at any time without the password; the private half
is kept only wrapped (AES-256-GCM) by a key derived from the user's encryption password with scrypt,
whose parameters are stored beside it. Changing the password re-wraps the private key; no footage is
sealed again. The hub never stores the password nor the unwrapped private key.

Sealed file: a header (magic, chunk size, plaintext size, the file's ephemeral public key) and then
chunks of `chunk_size` plaintext bytes, each sealed with its index as nonce and the header as
associated data. The file key is HKDF(X25519(ephemeral, camera)), fresh for every file. A reader
seeks to any chunk; a changed, swapped, truncated or extended chunk fails authentication
(`DamagedFootage`) and is never decrypted into garbage.
"""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from pydantic import BaseModel

MAGIC = b"VAKTE1"
HEADER = struct.Struct(">6sIQ32s")  # magic, chunk size, plaintext size, ephemeral public key
TAG = 16
CHUNK_SIZE = 64 * 1024  # a seek reads at most one chunk more than needed
SCRYPT_N = 2**15  # ~32 MiB and ~0.1 s per unlock on the hub: slow for a guesser, quick for a viewer
MIN_PASSWORD = 8
WRAP_AAD = b"vakt camera private key v1"


class EncryptionError(Exception):
    """Base of the errors below."""


class WrongPassword(EncryptionError):
    """The password does not unwrap the key (no hint of how close it was)."""


class DamagedFootage(EncryptionError):
    """A sealed file or chunk failed authentication: it was changed, cut or is not ours."""


class Encrypted(Protocol):
    """Anything that says whether its camera has Image Encryption on (a `Camera` row)."""

    image_encryption: bool


def is_encrypted(camera: Encrypted) -> bool:
    """THE rule for consumers (C6, C11.1, C11.2): an encrypted camera is hidden from voice assistants,
    and its footage (history, snapshots, export) is shown only after the encryption password."""
    return bool(camera.image_encryption)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())


class CameraKey(BaseModel):
    """What the hub keeps for an encrypted camera (JSON in the database): nothing that opens footage."""

    version: int = 1
    public_key: str  # base64 X25519 public key: seals new footage
    kdf: str = "scrypt"
    salt: str
    n: int
    r: int
    p: int
    nonce: str
    wrapped_private_key: str  # AES-256-GCM(scrypt(password), private key)

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> CameraKey:
        return cls.model_validate_json(text)

    def public(self) -> X25519PublicKey:
        return load_public(self.public_key)


def load_public(text: str) -> X25519PublicKey:
    """A camera's public key from its base64 form (as kept in `CameraKey.public_key`)."""
    return X25519PublicKey.from_public_bytes(_unb64(text))


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the encryption password needs at least {MIN_PASSWORD} characters")


def _kek(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(password.encode())


def _wrap(private: X25519PrivateKey, password: str, n: int) -> CameraKey:
    check_password(password)
    salt, nonce = os.urandom(16), os.urandom(12)
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    wrapped = AESGCM(_kek(password, salt, n, 8, 1)).encrypt(nonce, raw, WRAP_AAD + public)
    return CameraKey(
        public_key=_b64(public),
        salt=_b64(salt),
        n=n,
        r=8,
        p=1,
        nonce=_b64(nonce),
        wrapped_private_key=_b64(wrapped),
    )


def create_camera_key(password: str, *, n: int = SCRYPT_N) -> CameraKey:
    """A new key pair for a camera, its private half wrapped by the password."""
    return _wrap(X25519PrivateKey.generate(), password, n)


def unlock(key: CameraKey, password: str) -> X25519PrivateKey:
    """The camera's private key, or WrongPassword."""
    kek = _kek(password, _unb64(key.salt), key.n, key.r, key.p)
    try:
        raw = AESGCM(kek).decrypt(
            _unb64(key.nonce), _unb64(key.wrapped_private_key), WRAP_AAD + _unb64(key.public_key)
        )
    except InvalidTag:
        raise WrongPassword("the encryption password is wrong") from None
    return X25519PrivateKey.from_private_bytes(raw)


def change_password(key: CameraKey, old: str, new: str, *, n: int | None = None) -> CameraKey:
    """Re-wrap the same private key under `new` (needs `old`); sealed footage stays as it is."""
    return _wrap(unlock(key, old), new, n or key.n)


# -- sealed files -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Header:
    chunk_size: int
    plaintext_size: int
    ephemeral: bytes
    raw: bytes

    @property
    def chunks(self) -> int:
        return max(1, -(-self.plaintext_size // self.chunk_size))

    @property
    def sealed_size(self) -> int:
        return HEADER.size + self.plaintext_size + self.chunks * TAG

    def chunk_offset(self, index: int) -> int:
        return HEADER.size + index * (self.chunk_size + TAG)


def parse_header(data: bytes) -> Header:
    if len(data) < HEADER.size:
        raise DamagedFootage("the sealed file is cut before the end of its header")
    magic, chunk_size, size, ephemeral = HEADER.unpack(data[: HEADER.size])
    if magic != MAGIC or not 0 < chunk_size <= 16 * 1024 * 1024:
        raise DamagedFootage("the file is not sealed footage of this hub (bad header)")
    return Header(chunk_size, size, ephemeral, data[: HEADER.size])


def _file_key(shared: bytes, ephemeral: bytes, camera_public: bytes) -> AESGCM:
    key = HKDF(hashes.SHA256(), 32, salt=ephemeral + camera_public, info=b"vakt media v1").derive(shared)
    return AESGCM(key)


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


def _sealed_chunks(
    size: int, read: Callable[[int], bytes], camera_public: X25519PublicKey, chunk_size: int
) -> Iterator[bytes]:
    """The header, then every sealed chunk of `size` plaintext bytes taken from `read(n)`."""
    ephemeral = X25519PrivateKey.generate()
    eph_pub = ephemeral.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    cam_pub = camera_public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    aead = _file_key(ephemeral.exchange(camera_public), eph_pub, cam_pub)
    header = HEADER.pack(MAGIC, chunk_size, size, eph_pub)
    yield header
    chunks = max(1, -(-size // chunk_size))
    for index in range(chunks):
        yield aead.encrypt(_nonce(index), read(chunk_size), header)


def seal_file(
    source: Path, target: Path, camera_public: X25519PublicKey, chunk_size: int = CHUNK_SIZE
) -> int:
    """Seal `source` into `target`; returns the sealed size. The caller makes `target` durable."""
    written = 0
    with source.open("rb") as src, target.open("wb") as out:
        size = os.fstat(src.fileno()).st_size
        for piece in _sealed_chunks(size, src.read, camera_public, chunk_size):
            out.write(piece)
            written += len(piece)
    return written


def sealed_size(size: int, chunk_size: int = CHUNK_SIZE) -> int:
    """The size of `size` plaintext bytes once sealed."""
    return HEADER.size + size + max(1, -(-size // chunk_size)) * TAG


def seal_bytes(data: bytes, camera_public: X25519PublicKey, chunk_size: int = CHUNK_SIZE) -> bytes:
    """Seal a small file in memory (one PUT: nothing to resume, so no staging file)."""
    view = memoryview(data)
    pos = 0

    def read(n: int) -> bytes:
        nonlocal pos
        pos += n
        return bytes(view[pos - n : pos])

    return b"".join(_sealed_chunks(len(data), read, camera_public, chunk_size))


class Opener:
    """Opens one camera's sealed files with its unlocked private key."""

    def __init__(self, private: X25519PrivateKey) -> None:
        self.private = private
        self.public_raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def _aead(self, header: Header) -> AESGCM:
        try:
            shared = self.private.exchange(X25519PublicKey.from_public_bytes(header.ephemeral))
        except ValueError:  # a forged ephemeral key (e.g. a low-order point): no key agreement
            raise DamagedFootage("the sealed file's key is not valid (header changed)") from None
        return _file_key(shared, header.ephemeral, self.public_raw)

    def open_chunks(self, header: Header, first: int, data: bytes) -> bytes:
        """Plaintext of the consecutive sealed chunks `data`, the first of which has index `first`."""
        aead = self._aead(header)
        out = []
        step = header.chunk_size + TAG
        for i, pos in enumerate(range(0, len(data), step)):
            index = first + i
            piece = data[pos : pos + step]
            expected = min(header.chunk_size, header.plaintext_size - index * header.chunk_size) + TAG
            if index >= header.chunks or len(piece) != expected:
                raise DamagedFootage(f"sealed chunk {index} is cut or out of place")
            try:
                out.append(aead.decrypt(_nonce(index), piece, header.raw))
            except InvalidTag:
                raise DamagedFootage(f"sealed chunk {index} failed authentication (changed)") from None
        return b"".join(out)

    def open_file(self, source: Path, target: Path) -> None:
        """Open a whole sealed file; raises DamagedFootage (and leaves no plaintext) if any chunk fails."""
        try:
            with source.open("rb") as src, target.open("wb") as out:
                header = parse_header(src.read(HEADER.size))
                if source.stat().st_size != header.sealed_size:
                    raise DamagedFootage("the sealed file has the wrong size (cut or extended)")
                for index in range(header.chunks):
                    out.write(self.open_chunks(header, index, src.read(header.chunk_size + TAG)))
        except BaseException:
            target.unlink(missing_ok=True)
            raise


def sealed_range(header: Header, start: int, end: int) -> tuple[int, int, int]:
    """Plaintext bytes [start, end) -> (first chunk, sealed offset, sealed end) to fetch and open."""
    first = start // header.chunk_size
    last = (max(start, end - 1)) // header.chunk_size
    last = min(last, header.chunks - 1)
    return first, header.chunk_offset(first), min(header.chunk_offset(last + 1), header.sealed_size)
