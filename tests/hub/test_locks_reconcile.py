"""A7 credential sync states, reconciled against the credential list in the lock's retained state.

The lock is the authority on what it holds (issue 15 item 10): rows of credentials deleted, cleared or
initialized at the keypad go, a number reused for a new credential is told apart by the lock's own time
of storing it, and the lock's user type (administrator or not, L2.3) wins.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.hub.conftest import Hub, label
from vakt.hub.db import utcnow
from vakt.hub.locks import reconcile
from vakt.hub.models.devices import Device
from vakt.hub.models.locks import LockCredential, SyncState

LONG_AGO = utcnow() - timedelta(hours=1)


def _cred(kind: str, index: int, name: str | None = None, **extra: object) -> dict[str, object]:
    return {"credential_type": kind, "index": index, "user_type": "UnrestrictedUser", "name": name, **extra}


async def test_a7_reconcile_follows_the_lock_adopts_names_and_imports_keypad_credentials(hub: Hub) -> None:
    _, token = await hub.user("alice")
    gateway = await hub.add_device(token, label("gateway"))
    lock = await hub.add_device(token, label("lock"), gateway_id=gateway["id"])
    async with hub.app.state.sessionmaker() as s:
        device = await s.get(Device, lock["id"])
        assert device is not None
        s.add_all(
            [
                LockCredential(device_id=device.id, kind="code", user_name="Carol", sync_state="out_of_sync"),
                LockCredential(
                    device_id=device.id,
                    kind="card",
                    number=1,
                    user_name="Bob",
                    sync_state="synced",
                    enrolled_at=100.0,
                    created_at=LONG_AGO,
                ),
                LockCredential(
                    device_id=device.id, kind="code", number=3, user_name="Old", sync_state="deleting"
                ),
                # Dan's code 4 was initialized away at the keypad and number 4 given to a new code.
                LockCredential(
                    device_id=device.id,
                    kind="code",
                    number=4,
                    user_name="Dan",
                    sync_state="out_of_sync",
                    enrolled_at=200.0,
                    created_at=LONG_AGO,
                ),
                # Just acknowledged: the state listing it may still be on its way.
                LockCredential(
                    device_id=device.id, kind="code", number=5, user_name="Eve", sync_state="synced"
                ),
            ]
        )
        await s.commit()
        state = {
            "kind": "lock",
            "credentials": [
                _cred("PIN", 2, "Carol", created_at=300.0),
                _cred("PIN", 4, None, created_at=400.0, user_type="ProgrammingUser"),
                _cred("Fingerprint", 1, created_at=500.0, user_type="ProgrammingUser"),
            ],
        }
        assert await reconcile(s, device, state) is True
        found = {(r.kind, r.number): r for r in await s.scalars(select(LockCredential))}
    assert found[("code", 2)].user_name == "Carol" and found[("code", 2)].sync_state == SyncState.SYNCED
    assert found[("code", 2)].enrolled_at == 300.0
    assert ("card", 1) not in found  # deleted at the lock: gone, not a stale "Out of sync" row
    assert ("code", 3) not in found
    new4 = found[("code", 4)]  # not Dan's row flipped back to Synced: the lock's new code 4
    assert new4.user_name == "" and new4.enrolled_at == 400.0 and new4.user_type == "ProgrammingUser"
    assert found[("code", 5)].user_name == "Eve"  # within the grace period
    assert (
        found[("fingerprint", 1)].sync_state == SyncState.SYNCED and found[("fingerprint", 1)].user_name == ""
    )
    async with hub.app.state.sessionmaker() as s:
        device = await s.get(Device, lock["id"])
        assert device is not None
        assert await reconcile(s, device, state) is False  # nothing left to change
        assert await reconcile(s, device, {"kind": "lock"}) is False  # no list: nothing is assumed
        assert await reconcile(s, device, {"kind": "lock", "credentials": []}) is True  # initialized (L7)
        names = [r.user_name for r in await s.scalars(select(LockCredential))]
    assert names == ["Eve"]


def test_damaged_lock_memory_is_notified_in_words_from_the_lock_enums() -> None:
    """Issue 10 item 3 / issue 15 item 17: the owner hears of a damaged memory, in words, not enum names."""
    from vakt.hub.alerts.device_alerts import event_kind, event_title
    from vakt.hub.models.alerts import NotificationKind
    from vakt.lock import AlarmCode, EventType
    from vakt.protocol import Event

    damaged = Event(source="VL1", type=EventType.DoorLockAlarm, data={"alarm_code": AlarmCode.MemoryDamaged})
    kind = event_kind(damaged)
    assert kind == NotificationKind.JAMMED and "memory damaged" in event_title(damaged, kind).lower()
    ended = Event(
        source="VL1", type=EventType.DoorLockAlarm, data={"alarm_code": "MemoryDamaged", "active": False}
    )
    assert event_kind(ended) is None
    unknown = Event(source="VL1", type=EventType.DoorLockAlarm, data={"alarm_code": "SomethingNew"})
    assert event_kind(unknown) is None
