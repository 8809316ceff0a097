"""A7 credential sync states, reconciled against the credential list in the lock's retained state."""

from __future__ import annotations

from sqlalchemy import select

from tests.hub.conftest import Hub, label
from vakt.hub.locks import reconcile
from vakt.hub.models.devices import Device
from vakt.hub.models.locks import LockCredential, SyncState


def _cred(kind: str, index: int, name: str | None = None) -> dict[str, object]:
    return {"credential_type": kind, "index": index, "user_type": "UnrestrictedUser", "name": name}


async def test_a7_reconcile_adopts_names_marks_missing_and_imports_keypad_credentials(hub: Hub) -> None:
    _, token = await hub.user("alice")
    gateway = await hub.add_device(token, label("gateway"))
    lock = await hub.add_device(token, label("lock"), gateway_id=gateway["id"])
    async with hub.app.state.sessionmaker() as s:
        device = await s.get(Device, lock["id"])
        assert device is not None
        rows = {
            "timed_out": LockCredential(
                device_id=device.id, kind="code", user_name="Carol", sync_state="out_of_sync"
            ),
            "synced": LockCredential(
                device_id=device.id, kind="card", number=1, user_name="Bob", sync_state="synced"
            ),
            "deleting": LockCredential(
                device_id=device.id, kind="code", number=3, user_name="Old", sync_state="deleting"
            ),
        }
        s.add_all(rows.values())
        await s.commit()
        # The lock holds: Carol's code (its ack was lost) as 2, a fingerprint enrolled at the keypad;
        # Bob's card was deleted at the lock; code 3 is gone as asked.
        state = {"kind": "lock", "credentials": [_cred("PIN", 2, "Carol"), _cred("Fingerprint", 1)]}
        assert await reconcile(s, device, state) is True
        found = {(r.kind, r.number): r for r in await s.scalars(select(LockCredential))}
    assert found[("code", 2)].user_name == "Carol" and found[("code", 2)].sync_state == SyncState.SYNCED
    assert found[("card", 1)].sync_state == SyncState.OUT_OF_SYNC and "no longer" in (
        found[("card", 1)].error or ""
    )
    assert ("code", 3) not in found
    assert (
        found[("fingerprint", 1)].sync_state == SyncState.SYNCED and found[("fingerprint", 1)].user_name == ""
    )
    async with hub.app.state.sessionmaker() as s:
        device = await s.get(Device, lock["id"])
        assert device is not None
        assert await reconcile(s, device, state) is False  # nothing left to change
        assert await reconcile(s, device, {"kind": "lock"}) is False  # no list: nothing is assumed
