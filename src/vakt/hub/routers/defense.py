"""Active defense (C9.2): siren + fast-flashing spotlight on a camera for up to a minute, stopped early
by DELETE. ``Action.CONTROL``: the ``settings`` permission (it acts on the camera, like its settings)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from vakt.hub.alerts.defense import MAX_SECONDS, DefenseController, DefenseRefused
from vakt.hub.authz import Action, on_device
from vakt.hub.errors import errors
from vakt.hub.mqtt import CommandError
from vakt.hub.permissions import DeviceAccess

router = APIRouter(prefix="/api/cameras", tags=["active defense"])
ControlAccess = Annotated[DeviceAccess, on_device(Action.CONTROL)]


class ActiveDefenseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: int = Field(MAX_SECONDS, ge=1, le=MAX_SECONDS, description="how long, at most one minute (C9.2)")


class ActiveDefenseOut(BaseModel):
    device_id: int
    on: bool
    result: dict[str, Any]


def _controller(request: Request) -> DefenseController:
    alerts = getattr(request.app.state, "alerts", None)
    if alerts is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the alerts service is not running")
    controller: DefenseController = alerts.defense
    return controller


def _camera(access: DeviceAccess) -> str:
    if access.device.kind != "camera":
        raise HTTPException(status.HTTP_409_CONFLICT, f"device {access.device.id} is not a camera")
    return access.device.serial


@router.post("/{device_id}/active-defense", response_model=ActiveDefenseOut, responses=errors(409, 503, 504))
async def start_active_defense(
    body: ActiveDefenseIn, access: ControlAccess, request: Request
) -> ActiveDefenseOut:
    """Sound the siren and flash the spotlight fast for ``seconds`` (C9.2)."""
    serial = _camera(access)
    try:
        result = await _controller(request).start(serial, body.seconds)
    except DefenseRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the camera refused: {exc}") from None
    except CommandError as exc:
        raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, f"camera did not answer: {exc}") from None
    return ActiveDefenseOut(device_id=access.device.id, on=True, result=result)


@router.delete(
    "/{device_id}/active-defense", response_model=ActiveDefenseOut, responses=errors(409, 503, 504)
)
async def stop_active_defense(access: ControlAccess, request: Request) -> ActiveDefenseOut:
    """Stop active defense early (manual or automatic)."""
    serial = _camera(access)
    try:
        result = await _controller(request).stop(serial, access.device.id)
    except DefenseRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the camera refused: {exc}") from None
    except CommandError as exc:
        raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, f"camera did not answer: {exc}") from None
    return ActiveDefenseOut(device_id=access.device.id, on=False, result=result)
