"""Image Encryption (C6): turn it on or off, Change Encryption Password, unlock footage for a session.

The password is never stored: turning encryption on makes the camera's key pair and keeps only the
private key wrapped by the password (`vakt.media.encryption`). Unlocking unwraps it into the viewer's
sign-in session for `VAKT_MEDIA_ENCRYPTION_UNLOCK_S` seconds; history media of an encrypted camera
(playlist, segments, clips, past snapshots) is served only while it is unlocked. A wrong password is
refused with the same words whatever was wrong. Password changes are in the camera's event log.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from vakt.hub.auth import CurrentAuth
from vakt.hub.authz import Action
from vakt.hub.db import DbSession, utcnow
from vakt.hub.errors import errors
from vakt.hub.models.cameras import Camera
from vakt.hub.models.devices import DeviceEvent
from vakt.hub.permissions import DeviceAccess
from vakt.hub.ratelimit import AttemptThrottle, Backoff, Limit, too_many
from vakt.hub.routers.cameras import camera_access
from vakt.media.encryption import (
    MIN_PASSWORD,
    CameraKey,
    Opener,
    WrongPassword,
    change_password,
    create_camera_key,
    is_encrypted,
    unlock,
)
from vakt.media.encryption_vault import KeyVault
from vakt.media.settings import MediaSettings

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/cameras", tags=["encryption"])
ConfigureAccess = Annotated[DeviceAccess, camera_access(Action.CONFIGURE)]
HistoryAccess = Annotated[DeviceAccess, camera_access(Action.VIEW_HISTORY)]
WRONG = "the encryption password is wrong"
# a guesser gets 5 tries, then waits 5, 10, 20 ... s (up to 10 min) per camera; scrypt slows each try too
GUESSES = Backoff(free=5, max_delay_s=600, window_s=3600)
Password = Annotated[str, Field(min_length=1, max_length=256, description="the encryption password")]
NewPassword = Annotated[
    str, Field(min_length=MIN_PASSWORD, max_length=256, description="the new encryption password")
]


class EncryptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool
    password: Password


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    old_password: Password
    new_password: NewPassword


class UnlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Password


class EncryptionOut(BaseModel):
    enabled: bool
    has_key: bool = Field(description="footage sealed to this camera's key exists or may exist")
    unlocked_for_s: float | None = Field(description="seconds this session keeps the key; None: locked")


def vault_of(request: Request) -> KeyVault:
    vault: KeyVault | None = getattr(request.app.state, "key_vault", None)
    if vault is None:
        vault = request.app.state.key_vault = KeyVault(MediaSettings().encryption_unlock_s)
    return vault


Vault = Annotated[KeyVault, Depends(vault_of)]


async def _camera(session: DbSession, access: DeviceAccess) -> Camera:
    camera = await session.get(Camera, access.device.id)
    if camera is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this camera has no recording settings yet")
    return camera


async def _checked(request: Request, session: DbSession, camera: Camera, attempt: Any) -> Any:
    """Run a password check under the camera's guess limit (counted up front, given back on success)."""
    throttle: AttemptThrottle = request.app.state.attempt_throttle
    limits = [Limit(f"camera-encryption:{camera.device_id}", GUESSES)]
    if wait := await throttle.wait_s(session, limits):
        raise too_many("wrong encryption passwords", wait)
    await throttle.fail(session, limits)
    try:
        result = await asyncio.to_thread(attempt)
    except WrongPassword:
        raise HTTPException(status.HTTP_403_FORBIDDEN, WRONG) from None
    await throttle.give_back(session, [limits[0].key], [])
    return result


async def _unlock(request: Request, session: DbSession, camera: Camera, password: str) -> Opener:
    assert camera.encryption_key is not None
    key = CameraKey.from_json(camera.encryption_key)
    return Opener(await _checked(request, session, camera, lambda: unlock(key, password)))


def _out(camera: Camera, vault: KeyVault, auth: CurrentAuth) -> EncryptionOut:
    return EncryptionOut(
        enabled=is_encrypted(camera),
        has_key=camera.encryption_key is not None,
        unlocked_for_s=vault.seconds_left(auth.session.id, camera.device_id),
    )


def _audit(session: DbSession, camera: Camera, auth: CurrentAuth, kind: str) -> None:
    session.add(
        DeviceEvent(
            event_id=f"hub-{secrets.token_hex(12)}",
            device_id=camera.device_id,
            type=kind,
            ts=utcnow(),
            data={"user_id": auth.user.id},
        )
    )


@router.get("/{device_id}/encryption", response_model=EncryptionOut, responses=errors(404))
async def encryption_state(
    access: HistoryAccess, session: DbSession, auth: CurrentAuth, vault: Vault
) -> EncryptionOut:
    """Whether Image Encryption is on, and how long this session keeps the camera unlocked."""
    return _out(await _camera(session, access), vault, auth)


@router.put("/{device_id}/encryption", response_model=EncryptionOut, responses=errors(403, 404, 429))
async def set_encryption(
    request: Request,
    body: EncryptionIn,
    access: ConfigureAccess,
    session: DbSession,
    auth: CurrentAuth,
    vault: Vault,
) -> EncryptionOut:
    """Turn Image Encryption on (the first time, `password` becomes the encryption password) or off.

    Once the camera has a key, both need its password: footage already sealed stays sealed to it."""
    camera = await _camera(session, access)
    if camera.encryption_key is None:
        if not body.enabled:
            return _out(camera, vault, auth)
        if len(body.password) < MIN_PASSWORD:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"the encryption password needs at least {MIN_PASSWORD} characters",
            )
        camera.encryption_key = (await asyncio.to_thread(create_camera_key, body.password)).to_json()
    else:
        await _unlock(request, session, camera, body.password)
    camera.image_encryption = body.enabled
    _audit(session, camera, auth, "camera.encryption_on" if body.enabled else "camera.encryption_off")
    await session.commit()
    log.info("camera %s: Image Encryption turned %s", camera.device_id, "on" if body.enabled else "off")
    return _out(camera, vault, auth)


@router.post(
    "/{device_id}/encryption/password", response_model=EncryptionOut, responses=errors(403, 404, 409, 429)
)
async def change_encryption_password(
    request: Request,
    body: PasswordChangeIn,
    access: ConfigureAccess,
    session: DbSession,
    auth: CurrentAuth,
    vault: Vault,
) -> EncryptionOut:
    """Change Encryption Password (C6): re-wraps the camera's key; footage is not sealed again."""
    camera = await _camera(session, access)
    if camera.encryption_key is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "Image Encryption was never turned on for this camera")
    key = CameraKey.from_json(camera.encryption_key)
    changed: CameraKey = await _checked(
        request, session, camera, lambda: change_password(key, body.old_password, body.new_password)
    )
    camera.encryption_key = changed.to_json()
    _audit(session, camera, auth, "camera.encryption_password_changed")
    await session.commit()
    vault.forget_camera(camera.device_id)  # every viewer enters the new password
    log.info("camera %s: encryption password changed by user %s", camera.device_id, auth.user.id)
    return _out(camera, vault, auth)


@router.post(
    "/{device_id}/encryption/unlock", response_model=EncryptionOut, responses=errors(403, 404, 409, 429)
)
async def unlock_footage(
    request: Request,
    body: UnlockIn,
    access: HistoryAccess,
    session: DbSession,
    auth: CurrentAuth,
    vault: Vault,
) -> EncryptionOut:
    """Enter the encryption password: this sign-in session sees the camera's footage for a while."""
    camera = await _camera(session, access)
    if camera.encryption_key is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "this camera's footage is not encrypted")
    opener = await _unlock(request, session, camera, body.password)
    vault.hold(auth.session.id, camera.device_id, opener)
    return _out(camera, vault, auth)


@router.delete("/{device_id}/encryption/unlock", status_code=204, responses=errors(404))
async def lock_footage(access: HistoryAccess, auth: CurrentAuth, vault: Vault) -> Response:
    """Forget the key this session holds for the camera now."""
    vault.lock(auth.session.id, access.device.id)
    return Response(status_code=204)
