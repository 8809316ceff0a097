"""Physical panels of emulated devices: the web app presses a key, taps a card or holds RESET by hand.

Inputs are relayed to the emulator as the ``panel.input`` command; what the device shows (display,
prompt, LEDs, motor, siren) comes back in its retained state, pushed to the app over ``/api/ws``.
Only devices whose state says ``"emulated": true`` have a panel; real hardware is never driven here.
Only the device's owner may touch its panel (``Action.TOUCH_PANEL``): a panel is the physical device in
the owner's home, and its knob, keypad or a gateway's paired lock open the door without the remote-unlock
permission or PIN.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from vakt.hub.authz import Action, on_device
from vakt.hub.errors import errors
from vakt.hub.mqtt import CommandError, HubMqtt
from vakt.hub.permissions import DeviceAccess

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/panels", tags=["panels"])

PanelValue = str | int | float | bool | None

# The physical inputs each kind of device has (spec/lock.md, spec/home.md G, spec/camera.md C2, C4).
LOCK_INPUTS = frozenset(
    {
        "touch",
        "key",
        "keys",
        "finger",
        "card",
        "bell",
        "knob",
        "privacy",
        "reset",
        "tamper",
        "replace_front_panel",
        "reset_down",
        "reset_up",
        "mechanical_key",
        "batteries",
        "battery",
        "usb",
    }
)
INPUTS: dict[str, frozenset[str]] = {
    "lock": LOCK_INPUTS,
    "gateway": frozenset({"function_button"}),
    "camera": frozenset({"reset_hold", "sd_insert", "sd_remove", "sd_fault", "network", "power", "ethernet"}),
}
KEYS = frozenset("0123456789*#")
MAX_HOLD_S = 30.0


class PanelInputIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: str = Field(
        min_length=1, max_length=32, description="e.g. key, finger, card, doorbell, reset_hold"
    )
    value: PanelValue = Field(default=None, description="key '5', finger name, card UID, seconds held ...")
    seconds: float | None = Field(default=None, ge=0, le=3600, description="camera: how long (held, offline)")
    device: str | None = Field(
        default=None,
        max_length=64,
        description="gateway only: serial of a lock in radio range that is not paired yet (its RESET, L12.2)",
    )


class PanelOut(BaseModel):
    device_id: int
    kind: str
    inputs: list[str]
    panel: dict[str, Any] = Field(description="what the panel shows now (display, prompt, LEDs ...)")
    state: dict[str, Any]


class PanelInputOut(BaseModel):
    ok: bool
    result: dict[str, Any]


PanelAccess = Annotated[DeviceAccess, on_device(Action.TOUCH_PANEL)]


def _emulated(access: DeviceAccess) -> dict[str, Any]:
    state = access.device.state or {}
    if not state.get("emulated"):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"device {access.device.id} is not an emulator; only emulated devices have a panel",
        )
    return state


def validate_input(kind: str, body: PanelInputIn) -> None:
    """Refuse inputs the device does not have, before anything reaches it."""
    if body.device is not None and kind != "gateway":
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "device: only a gateway relays to a lock")
    allowed = LOCK_INPUTS if body.device is not None else INPUTS.get(kind, frozenset())
    if body.input not in allowed:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"a {kind} has no input {body.input!r}; it has: {', '.join(sorted(allowed))}",
        )
    if body.input == "key" and (not isinstance(body.value, str) or body.value not in KEYS):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "key must be one of 0-9, * or #")
    if body.input == "keys" and (
        not isinstance(body.value, str) or not 1 <= len(body.value) <= 32 or set(body.value) - KEYS
    ):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "keys must be 1-32 of 0-9, * and #")
    if body.input in {"finger", "card"} and (
        not isinstance(body.value, str) or not 1 <= len(body.value) <= 64
    ):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{body.input} needs a name of 1-64 characters"
        )
    if body.input in {"reset", "function_button"} and body.value is not None:
        held = body.value
        if isinstance(held, bool) or not isinstance(held, (int, float)) or not 0 <= held <= MAX_HOLD_S:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"{body.input} value is seconds held, 0-{MAX_HOLD_S:g}"
            )


@router.get("/{device_id}", response_model=PanelOut, responses=errors(409))
async def get_panel(access: PanelAccess) -> PanelOut:
    state = _emulated(access)
    kind = access.device.kind
    panel = state.get("panel") if isinstance(state.get("panel"), dict) else {}
    return PanelOut(
        device_id=access.device.id, kind=kind, inputs=sorted(INPUTS.get(kind, ())), panel=panel, state=state
    )


@router.post("/{device_id}/input", response_model=PanelInputOut, responses=errors(409, 504))
async def press_input(body: PanelInputIn, access: PanelAccess, request: Request) -> PanelInputOut:
    """Relay one physical input to the emulator (``panel.input``) and return its answer."""
    _emulated(access)
    device = access.device
    validate_input(device.kind, body)
    mqtt: HubMqtt = request.app.state.mqtt
    try:
        ack = await mqtt.send_command(device.serial, "panel.input", body.model_dump(exclude_none=True))
    except CommandError as exc:
        log.warning("panel input %s to %s failed: %s", body.input, device.serial, exc)
        raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, str(exc)) from None
    if not ack.ok:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, ack.error or "the device refused the input"
        )
    return PanelInputOut(ok=True, result=ack.result)
