"""The lock's remote interface: what the gateway calls on behalf of hub commands (A7, G7, L11.1).

Commands that cannot be carried out raise ``RemoteError`` (a ValueError) with a readable reason; the
gateway answers the hub's command with ``Ack(ok=False, error=str(exc))``. Events raised by any input,
remote or physical, are collected until ``drain_events()``.
"""

from __future__ import annotations

from typing import Any

from vakt.lock.credentials import CredentialError
from vakt.lock.events import DoorLockAlarm, LockEvent, LockUserChange
from vakt.lock.firmware import StorageFault
from vakt.lock.outputs import CredentialInfo, LockState, Output
from vakt.lock.panel import PanelLock
from vakt.lock.persistence import LockMemory
from vakt.lock.types import (
    DATA_TYPE_OF,
    DEAD_BATTERY_V,
    MAX_CODE_DIGITS,
    MIN_CODE_DIGITS,
    AlarmCode,
    CredentialType,
    DataOperationType,
    MotorState,
    OperatingMode,
    OperationError,
    OperationSource,
    Prompt,
    UserType,
    Volume,
)


class RemoteError(ValueError):
    """A remote command the lock refuses; the message says why."""


class Lock(PanelLock):
    """The whole lock: physical inputs (``PanelLock``) plus the remote interface below."""

    def _remote_ready(self, what: str) -> None:
        if self.memory_lost:
            self._end()
            raise RemoteError(
                f"{what} refused: the lock's memory is damaged and it stays locked; restore it from the "
                "app or factory-reset it at the inside panel (L12.1)"
            )
        if not self.powered:
            self.refuse(OperationSource.Remote, OperationError.InsufficientBattery, f"{what}: batteries dead")
            self._end()
            raise RemoteError(f"{what} refused: the lock has no power (batteries dead, L10.4)")

    def _commit(self, what: str) -> None:
        """Store a remote change; if flash refuses, undo it and tell the gateway (nothing half-done)."""
        try:
            self.save()
        except StorageFault as exc:
            self.rollback(exc)
            raise RemoteError(f"{what} failed: the lock could not store it ({exc}); nothing changed") from exc

    def remote_unlock(self) -> Output:
        """Unlock from the app (Matter UnlockDoor, source Remote); refused in privacy mode (L11.2)."""
        self._begin()
        self._remote_ready("unlock")
        if self.memory.operating_mode == OperatingMode.Privacy:
            self.refuse(OperationSource.Remote, OperationError.Restricted, "privacy mode")
            self._end()
            raise RemoteError("unlock refused: the lock is in privacy mode (L11.2)")
        self.unlock(OperationSource.Remote)
        return self._end()

    def remote_lock(self) -> Output:
        """Lock from the app (Matter LockDoor); also ends normally-open mode."""
        self._begin()
        self._remote_ready("lock")
        if self.memory.operating_mode == OperatingMode.Passage:
            self.set_mode(OperatingMode.Normal, OperationSource.Remote)
        self.lock(OperationSource.Remote)
        return self._end()

    def set_operating_mode(self, mode: OperatingMode) -> Output:
        """Normal or Passage (normally-open, L11.1: entered from the app). Privacy is only the button's."""
        mode = OperatingMode(mode)
        if mode == OperatingMode.Privacy:
            raise RemoteError("privacy mode is set with the button inside the door (L11.2)")
        self._begin()
        self._remote_ready("operating mode")
        self.set_mode(mode, OperationSource.Remote)
        if mode == OperatingMode.Passage and self.motor == MotorState.LOCKED:
            self.unlock(OperationSource.Remote, mechanism="passage_mode")
        elif mode == OperatingMode.Normal and self.motor == MotorState.UNLOCKED:
            self.lock(OperationSource.Remote)
        return self._end()

    def set_volume(self, volume: Volume) -> Output:
        """High, low or mute (L9.1), as 41#/42#/43# would."""
        self._begin()
        self._remote_ready("volume")
        self.memory.settings.volume = Volume(volume)
        self._commit("volume")
        return self._end()

    def add_credential(
        self,
        credential_type: CredentialType,
        secret: str,
        user_type: UserType = UserType.UnrestrictedUser,
        name: str | None = None,
        valid_from: float | None = None,
        valid_until: float | None = None,
        max_uses: int | None = None,
    ) -> int:
        """Provision a door code (6-10 digits) or a card UID (hex) from the app; returns its number.

        Ordinary users unlock but cannot open the menu (L2.3); ``valid_from``/``valid_until`` (lock
        clock seconds) and ``max_uses`` make a temporary code (A7). Fingerprints are enrolled only at the
        lock. The code is hashed at once (L14.1); nothing in clear is kept.

        While the lock has no administrator, the credential added becomes one (as at the keypad, L2.3),
        so the menu can always be opened again; a temporary one is refused then (a cleaner's code must
        not become the lock's administrator).
        """
        kind = CredentialType(credential_type)
        if kind == CredentialType.Fingerprint:
            raise RemoteError("fingerprints are enrolled at the lock (11#), not from the app")
        if valid_from is not None and valid_until is not None and valid_until <= valid_from:
            raise RemoteError("valid_until must be after valid_from")
        self._begin()
        self._remote_ready("add credential")
        store = self.credential_store
        user_type = UserType(user_type)
        if not store.has_admin():
            if valid_from is not None or valid_until is not None or max_uses is not None:
                self._end()
                raise RemoteError(
                    "the lock has no administrator yet: add a permanent door code or card first "
                    "(the first one becomes the administrator, L2.3), then temporary codes"
                )
            user_type = UserType.ProgrammingUser
        fields: dict[str, Any] = {
            "user_type": user_type,
            "source": OperationSource.Remote,
            "name": name,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "max_uses": max_uses,
            "created_at": self.now,
        }
        try:
            cred = (
                store.code_credential(secret, **fields)
                if kind == CredentialType.PIN
                else store.card_credential(secret, **fields)
            )
            stored = store.add(cred)
        except (CredentialError, ValueError) as exc:
            self._end()
            raise RemoteError(str(exc).splitlines()[0]) from exc
        self._commit("add credential")
        self._user_change(kind, DataOperationType.Add, stored.index)
        self._end()
        return stored.index

    def delete_credential(self, credential_type: CredentialType, index: int) -> None:
        """Delete one credential by its number; a number that holds nothing is an error."""
        kind = CredentialType(credential_type)
        self._begin()
        self._remote_ready("delete credential")
        if not self.credential_store.delete(kind, index):
            self._end()
            raise RemoteError(f"{kind} number {index} holds nothing")
        if (
            self.menu is not None
            and self.menu.verified_by is not None
            and (self.menu.verified_by.credential_type, self.menu.verified_by.index) == (kind, index)
        ):
            self.close_menu(Prompt.MENU_CLOSED)  # the session's own verification is gone
        self._commit("delete credential")
        self._user_change(kind, DataOperationType.Clear, index)
        self._end()

    def _user_change(self, kind: CredentialType, op: DataOperationType, index: int | None) -> None:
        self.emit(
            LockUserChange(
                ts=self.now,
                lock_data_type=DATA_TYPE_OF[kind],
                data_operation_type=op,
                operation_source=OperationSource.Remote,
                data_index=index,
            )
        )

    def credentials(self) -> list[CredentialInfo]:
        """Every credential's number, type, user type, source, validity and uses; never secrets."""
        return [
            CredentialInfo.model_validate(c.model_dump(exclude={"secret_hash", "template"}))
            for kind in CredentialType
            for c in self.credential_store.of_type(kind)
        ]

    def restore_memory(self, admin_code: str) -> int:
        """Start a damaged lock over from the app: a new key, empty memory with one administrator door
        code (so it never passes through initial mode, L2.1), settings back to defaults, pairing kept.

        Only while no copy of the memory can be read; returns the administrator code's number.
        """
        self._begin()
        if not self.memory_lost:
            self._end()
            raise RemoteError("restore refused: the lock's memory is readable, nothing to restore")
        if not admin_code.isdigit() or not MIN_CODE_DIGITS <= len(admin_code) <= MAX_CODE_DIGITS:
            self._end()
            raise RemoteError(f"a door code has {MIN_CODE_DIGITS} to {MAX_CODE_DIGITS} digits")
        element = self.store.secure_element
        element.new_key()  # hashes from before the damage must not match anything any more
        fresh = LockMemory(paired=True)
        fresh.credentials.bind(element)
        stored = fresh.credentials.add(
            fresh.credentials.code_credential(
                admin_code,
                user_type=UserType.ProgrammingUser,
                source=OperationSource.Remote,
                created_at=self.now,
            )
        )
        lost, self.memory_lost, previous = self.memory_lost, None, self.memory
        self.memory = fresh
        try:
            self.save()
        except StorageFault as exc:
            self.memory_lost, self.memory = lost, previous
            self._end()
            raise RemoteError(f"restore failed: the lock could not store it ({exc})") from exc
        self.emit(DoorLockAlarm(ts=self.now, alarm_code=AlarmCode.MemoryDamaged, active=False))
        self._user_change(CredentialType.PIN, DataOperationType.Add, stored.index)
        self._end()
        return stored.index

    def complete_pairing(self) -> bool:
        """The gateway adds the lock (G5): only while the pairing interface is open (L12.2)."""
        self._begin()
        ok = self.pairing
        if ok:
            self.memory.paired = True
            self._commit("pairing")
            self.leave_pairing()
        self._end()
        return ok

    def unpair(self) -> None:
        self._begin()
        self.memory.paired = False
        self._commit("unpair")
        self._end()

    def drain_events(self) -> list[LockEvent]:
        """Events raised since the last call, oldest first (the gateway relays them, G7)."""
        self.tick()
        events, self._pending = self._pending, []
        return events

    def state(self) -> LockState:
        """The lock's state for the gateway's retained state and the app's lock screen (A3, A7)."""
        mem = self.memory
        return LockState(
            motor=self.motor,
            operating_mode=mem.operating_mode,
            powered=self.powered,
            battery_voltage=self.battery_voltage,
            battery_low=self.battery_low,
            battery_dead=self.batteries_in and self.battery_voltage < DEAD_BATTERY_V,
            usb_power=self.usb_power,
            alarms=self.alarms(),
            volume=mem.settings.volume,
            failed_attempts=mem.failed_attempts,
            lockout_until=mem.lockout_until,
            counts={k: len(self.credential_store.of_type(k)) for k in CredentialType},
            initial_mode=self.initial_mode,
            paired=mem.paired,
            pairing_mode=self.pairing,
            menu_open=self.menu is not None,
            front_panel_removed=self.front_panel_removed,
            bolt_jammed=self.jam_detected,
            display=self.display.model_copy(),
            last_prompts=list(self._last_prompts),
            recovered_from=self.recovered_from,
            memory_damaged=self.memory_lost,
            storage_error=self.storage_error,
        )
