"""Lock and unlock on behalf of an assistant: the same PIN challenge, limits, command and audit as the
web app's remote unlock (A7), with the assistant named in the operation log."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.db import utcnow
from vakt.hub.locks import REMOTE_COMMAND
from vakt.hub.models.devices import DeviceEvent
from vakt.hub.mqtt import CommandError, HubMqtt
from vakt.hub.permissions import DeviceAccess
from vakt.hub.unlock_pin import check_unlock_pin

Refusal = Literal["no_pin_set", "pin_needed", "wrong_pin", "too_many", "offline", "refused"]


class LockRefused(Exception):
    """Why an assistant's lock command did not happen, for its own error vocabulary."""

    def __init__(self, why: Refusal, message: str) -> None:
        super().__init__(message)
        self.why = why
        self.message = message


def _from_pin_check(exc: HTTPException) -> LockRefused:
    detail = str(exc.detail)
    if exc.status_code == 409:
        return LockRefused("no_pin_set", detail)
    if exc.status_code == 429:
        return LockRefused("too_many", detail)
    return LockRefused("wrong_pin", detail)


async def operate_lock(
    request: Request,
    session: AsyncSession,
    access: DeviceAccess,
    command: Literal["lock.lock", "lock.unlock"],
    pin: str | None,
    assistant: str,
) -> None:
    """Send ``command`` to the lock; an unlock needs the account's remote-unlock PIN (A7) first."""
    if command == "lock.unlock":
        if not pin:
            raise LockRefused("pin_needed", "unlocking needs your remote-unlock PIN")
        try:
            await check_unlock_pin(request, session, access.user, access.device, pin)
        except HTTPException as exc:
            raise _from_pin_check(exc) from None
    session.add(
        DeviceEvent(
            event_id=f"hub-{uuid.uuid4().hex}",
            device_id=access.device.id,
            type=REMOTE_COMMAND,
            ts=utcnow(),
            data={
                "user": access.user.username,
                "user_id": access.user.id,
                "command": command,
                "via": assistant,
            },
        )
    )
    await session.commit()
    mqtt: HubMqtt = request.app.state.mqtt
    try:
        ack = await mqtt.send_command(access.device.serial, command, {})
    except CommandError as exc:
        raise LockRefused("offline", f"the lock did not answer: {exc}") from None
    if not ack.ok:
        raise LockRefused("refused", f"the lock refused: {ack.error}")
