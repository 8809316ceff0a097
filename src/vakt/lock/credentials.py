"""The lock's credential store (L1, L5, L6, L14): numbers per type, keyed hashes, fingerprint templates."""

from __future__ import annotations

from pydantic import BaseModel, Field, PrivateAttr

from vakt.lock import fingerprint
from vakt.lock.secure_element import InMemorySecureElement, SecureElement
from vakt.lock.types import (
    MAX_CODE_DIGITS,
    MAX_PER_TYPE,
    MAX_TYPED_DIGITS,
    MIN_CODE_DIGITS,
    CredentialType,
    OperationSource,
    UserType,
)


class CredentialError(ValueError):
    """A credential that cannot be stored; the message says why."""


class StoreFull(CredentialError):
    pass


class DuplicateCredential(CredentialError):
    pass


class Credential(BaseModel):
    """One stored credential. Codes and card UIDs only as HMAC-SHA256 (L14.1); fingers as features (L14.2)."""

    credential_type: CredentialType
    index: int = Field(ge=1, le=MAX_PER_TYPE)
    user_type: UserType = UserType.ProgrammingUser
    source: OperationSource = OperationSource.Keypad
    secret_hash: str | None = None
    template: list[list[float]] | None = None
    name: str | None = None
    valid_from: float | None = None
    valid_until: float | None = None
    max_uses: int | None = Field(None, ge=1)
    uses: int = 0
    created_at: float = 0.0

    @property
    def is_admin(self) -> bool:
        return self.user_type == UserType.ProgrammingUser

    def usable_at(self, now: float) -> bool:
        """Within its validity window and uses (A7 temporary codes; Matter year-day schedule idea)."""
        if self.user_type == UserType.NonAccessUser:
            return False
        if self.valid_from is not None and now < self.valid_from:
            return False
        if self.valid_until is not None and now >= self.valid_until:
            return False
        return self.max_uses is None or self.uses < self.max_uses


class CredentialStore(BaseModel):
    """Up to 50 credentials per type, numbered 1-50, lowest free number first (L1.1, L1.2)."""

    items: list[Credential] = Field(default_factory=list)
    # Stores written before the secure element kept the HMAC key here; read once, moved out, never written.
    legacy_secret: str | None = Field(None, validation_alias="secret", exclude=True, repr=False)
    _element: SecureElement = PrivateAttr(default_factory=InMemorySecureElement)

    def bind(self, element: SecureElement) -> None:
        """Hash codes and card UIDs with ``element``'s key (the lock's secure element, L14.1)."""
        self._element = element

    def keyed_hash(self, value: str) -> str:
        return self._element.keyed_hash(value)

    def has_admin(self) -> bool:
        """An administrator (Matter ProgrammingUser) exists: someone can open the menu (L2.2, L2.3)."""
        return any(c.is_admin for c in self.items)

    def of_type(self, kind: CredentialType) -> list[Credential]:
        return sorted((c for c in self.items if c.credential_type == kind), key=lambda c: c.index)

    def get(self, kind: CredentialType, index: int) -> Credential | None:
        return next((c for c in self.items if c.credential_type == kind and c.index == index), None)

    def is_empty(self) -> bool:
        return not self.items

    def is_full(self, kind: CredentialType) -> bool:
        return len(self.of_type(kind)) >= MAX_PER_TYPE

    def free_index(self, kind: CredentialType) -> int:
        used = {c.index for c in self.of_type(kind)}
        for i in range(1, MAX_PER_TYPE + 1):
            if i not in used:
                return i
        raise StoreFull(f"all {MAX_PER_TYPE} {kind} numbers are in use")

    def add(self, credential: Credential) -> Credential:
        """Store ``credential`` under the lowest free number of its type; refuse full or duplicate."""
        kind = credential.credential_type
        if self.is_full(kind):
            raise StoreFull(f"all {MAX_PER_TYPE} {kind} numbers are in use")
        if credential.secret_hash is not None and any(
            c.secret_hash == credential.secret_hash for c in self.of_type(kind)
        ):
            raise DuplicateCredential(f"this {kind} is already stored")
        stored = credential.model_copy(update={"index": self.free_index(kind)})
        self.items.append(stored)
        return stored

    def delete(self, kind: CredentialType, index: int) -> bool:
        before = len(self.items)
        self.items = [c for c in self.items if not (c.credential_type == kind and c.index == index)]
        return len(self.items) < before

    def clear(self, kind: CredentialType | None = None) -> int:
        before = len(self.items)
        self.items = [] if kind is None else [c for c in self.items if c.credential_type != kind]
        return before - len(self.items)

    def code_credential(self, code: str, **fields: object) -> Credential:
        """A PIN credential for ``code`` (6-10 digits, L5.2), hashed with the lock's key."""
        if not code.isdigit() or not MIN_CODE_DIGITS <= len(code) <= MAX_CODE_DIGITS:
            raise CredentialError(f"a door code has {MIN_CODE_DIGITS} to {MAX_CODE_DIGITS} digits")
        return Credential.model_validate(
            {
                "credential_type": CredentialType.PIN,
                "index": 1,
                "secret_hash": self.keyed_hash(code),
                **fields,
            }
        )

    def card_credential(self, uid: str, **fields: object) -> Credential:
        uid = normalise_uid(uid)
        return Credential.model_validate(
            {
                "credential_type": CredentialType.RFID,
                "index": 1,
                "secret_hash": self.keyed_hash("card:" + uid),
                **fields,
            }
        )

    def find_code(self, typed: str) -> Credential | None:
        """The stored code appearing as a contiguous run in ``typed`` (L8.2 scrambled code), if any."""
        if not typed.isdigit() or len(typed) > MAX_TYPED_DIGITS:
            return None
        by_hash = {c.secret_hash: c for c in self.of_type(CredentialType.PIN)}
        if not by_hash:
            return None
        for length in range(MIN_CODE_DIGITS, min(MAX_CODE_DIGITS, len(typed)) + 1):
            for start in range(len(typed) - length + 1):
                found = by_hash.get(self.keyed_hash(typed[start : start + length]))
                if found is not None:
                    return found
        return None

    def find_card(self, uid: str) -> Credential | None:
        try:
            h = self.keyed_hash("card:" + normalise_uid(uid))
        except CredentialError:
            return None
        return next((c for c in self.of_type(CredentialType.RFID) if c.secret_hash == h), None)

    def gallery(self) -> tuple[fingerprint.Gallery, list[Credential]]:
        fingers = [c for c in self.of_type(CredentialType.Fingerprint) if c.template]
        return fingerprint.Gallery(
            [fingerprint.template_from_list(c.template or []) for c in fingers]
        ), fingers

    def find_finger(self, sample: fingerprint.Points) -> Credential | None:
        """1:N identification over all enrolled templates (L15.2)."""
        gallery, fingers = self.gallery()
        best = fingerprint.identify(sample, gallery)
        return None if best is None else fingers[best]


def normalise_uid(uid: str) -> str:
    """Card UIDs are 4, 7 or 10 bytes of hex (ISO 14443); spaces and colons are ignored."""
    clean = uid.replace(":", "").replace(" ", "").upper()
    if len(clean) not in (8, 14, 20) or any(ch not in "0123456789ABCDEF" for ch in clean):
        raise CredentialError(f"card UID {uid!r} is not 4, 7 or 10 bytes of hex")
    return clean
