"""Device views shared by routers: the live summary of a device's state (A3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from vakt.hub.permissions import DeviceAccess, Permission
from vakt.protocol import DeviceKind

_MODEL_KINDS = {"VG": DeviceKind.GATEWAY, "VL": DeviceKind.LOCK, "VC": DeviceKind.CAMERA}


def kind_from_model(model: str) -> DeviceKind | None:
    """Our label models start with VG (gateway), VL (lock) or VC (camera)."""
    return _MODEL_KINDS.get(model[:2].upper())


class DeviceOut(BaseModel):
    id: int
    serial: str
    kind: str
    model: str
    name: str
    room: str = Field(description="where it is installed; empty: no room chosen")
    parent_id: int | None
    online: bool
    battery: float | None
    locked: bool | None
    alarms: list[str]
    rssi: float | None
    state: dict[str, Any]
    created_at: datetime
    last_seen_at: datetime | None
    is_owner: bool
    permissions: list[Permission]
    shared_since: datetime | None
    verified: bool = Field(description="the device proved the verification code it was added with (A2)")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def summarize_state(state: dict[str, Any]) -> tuple[float | None, bool | None, list[str], float | None]:
    """Battery (%), locked, active alarms and RSSI from a device's retained state, when it reports them.

    The lock (through its gateway) reports ``battery: {percent, volts, ...}``, ``motor``
    (locked/unlocked), ``alarms`` and ``link: {rssi_dbm, ...}``; flat keys are accepted as well.
    """
    raw_battery = state.get("battery", state.get("battery_percent"))
    battery = _number(raw_battery.get("percent") if isinstance(raw_battery, dict) else raw_battery)
    lock_state = state.get("motor", state.get("lock_state", state.get("locked")))
    locked = (
        lock_state
        if isinstance(lock_state, bool)
        else (None if lock_state is None else str(lock_state).lower() == "locked")
    )
    raw_alarms = state.get("alarms") or []
    alarms = [str(a) for a in raw_alarms] if isinstance(raw_alarms, (list, tuple)) else [str(raw_alarms)]
    link = state.get("link") if isinstance(state.get("link"), dict) else {}
    rssi = _number(state.get("rssi", (link or {}).get("rssi_dbm", (link or {}).get("rssi"))))
    return battery, locked, alarms, rssi


# Parts of a device's state only some permissions may see (A5).
_STATE_NEEDS = {"credentials": Permission.SETTINGS}


def visible_state(access: DeviceAccess) -> dict[str, Any]:
    state = access.device.state or {}
    hidden = [key for key, needed in _STATE_NEEDS.items() if key in state and not access.allows(needed)]
    return {k: v for k, v in state.items() if k not in hidden} if hidden else state


def device_out(access: DeviceAccess) -> DeviceOut:
    device = access.device
    state = visible_state(access)
    battery, locked, alarms, rssi = summarize_state(state)
    return DeviceOut(
        id=device.id,
        serial=device.serial,
        kind=device.kind,
        model=device.model,
        name=device.name,
        room=device.room or "",
        parent_id=device.parent_id,
        online=device.online,
        battery=battery,
        locked=locked,
        alarms=alarms,
        rssi=rssi,
        state=state,
        created_at=device.created_at,
        last_seen_at=device.last_seen_at,
        is_owner=access.is_owner,
        permissions=sorted(access.permissions),
        shared_since=access.history_since,
        verified=device.verified_at is not None,
    )
