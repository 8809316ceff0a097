"""Commands from Home Assistant (V3) go through the web app's gates: the authorization layer (A5), the
remote-unlock PIN with its limits (A7) and the operation log / audit record of a remote command."""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, HTTPException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from vakt.hub.alerts.defense import MAX_SECONDS
from vakt.hub.authz import NEEDS, Action, authorize
from vakt.hub.db import utcnow
from vakt.hub.integrations.homeassistant import (
    HOME,
    LOCK_PAYLOAD_LOCK,
    LOCK_PAYLOAD_UNLOCK,
    OFF,
    ON,
    CommandTopic,
)
from vakt.hub.locks import REMOTE_COMMAND
from vakt.hub.models.alerts import Arming, ArmingMode
from vakt.hub.models.devices import Device, DeviceEvent
from vakt.hub.models.homeassistant import HomeAssistantLink
from vakt.hub.models.users import User
from vakt.hub.mqtt import CommandError
from vakt.hub.unlock_pin import check_unlock_pin

log = logging.getLogger(__name__)
VIA = "homeassistant"


class Refused(Exception):
    """A command that must not be carried out; the reason is logged in words."""


@dataclass(frozen=True, slots=True)
class Outcome:
    done: str  # what was done, for the log


class HomeAssistantCommands:
    """Carries out one command message from an account's Home Assistant."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def handle(self, command: CommandTopic, payload: bytes) -> Outcome:
        """Raises Refused (logged by the caller) when the account, device, permission or PIN says no."""
        async with self.app.state.sessionmaker() as session:
            user = await self._linked_user(session, command.account_id)
            if command.serial == HOME and command.entity == "arming":
                return await self._arming(session, user, payload)
            device = await session.scalar(select(Device).where(Device.serial == command.serial))
            if device is None or device.owner_id != user.id:  # only the account's own devices are exposed
                raise Refused(f"device {command.serial} is not one of account {user.id}'s devices")
            if command.entity == "lock":
                return await self._lock(session, user, device, payload)
            if command.entity == "siren":
                return await self._siren(session, user, device, payload)
        raise Refused(f"{command.entity} of {command.serial} takes no command")

    async def _linked_user(self, session: AsyncSession, account_id: int) -> User:
        link = await session.get(HomeAssistantLink, account_id)
        user = await session.get(User, account_id) if link is not None else None
        if user is None:
            raise Refused(f"account {account_id} has Home Assistant off")
        return user

    async def _allowed(self, session: AsyncSession, user: User, device: Device, action: Action) -> None:
        try:
            await authorize(session, user, device.id, NEEDS[action], kind=None)
        except HTTPException as exc:
            raise Refused(str(exc.detail)) from None

    async def _lock(self, session: AsyncSession, user: User, device: Device, payload: bytes) -> Outcome:
        await self._allowed(session, user, device, Action.OPERATE_LOCK)
        action, code = _lock_command(payload)
        if action == LOCK_PAYLOAD_UNLOCK:
            if not re.fullmatch(r"[0-9]{4,8}", code):  # as the web app's 422: not a PIN, not counted
                raise Refused(f"unlock of {device.serial} needs the remote-unlock PIN (4-8 digits)")
            try:
                await check_unlock_pin(self._request(), session, user, device, code)
            except HTTPException as exc:
                raise Refused(f"unlock of {device.serial} refused: {exc.detail}") from None
        name = "lock.unlock" if action == LOCK_PAYLOAD_UNLOCK else "lock.lock"
        await _record_remote(session, user, device, name)
        await self._send(device, name, {})
        return Outcome(f"{name} on {device.serial} for {user.username}")

    async def _siren(self, session: AsyncSession, user: User, device: Device, payload: bytes) -> Outcome:
        await self._allowed(session, user, device, Action.CONTROL)
        text = payload.decode(errors="replace").strip()
        alerts = getattr(self.app.state, "alerts", None)
        if alerts is None or device.kind != "camera":
            raise Refused(f"active defense is not available on {device.serial}")
        try:
            if text == ON:
                await alerts.defense.start(device.serial, MAX_SECONDS)
            elif text == OFF:
                await alerts.defense.stop(device.serial, device.id)
            else:
                raise Refused(f"siren command {text[:20]!r} is neither {ON} nor {OFF}")
        except CommandError as exc:
            raise Refused(f"camera {device.serial} did not do it: {exc}") from None
        return Outcome(f"active defense {text} on {device.serial} for {user.username}")

    async def _arming(self, session: AsyncSession, user: User, payload: bytes) -> Outcome:
        text = payload.decode(errors="replace").strip()
        if text not in ArmingMode._value2member_map_:
            raise Refused(f"arming mode {text[:20]!r} is not one of {', '.join(ArmingMode)}")
        row = await session.get(Arming, user.id)
        if row is None:
            row = Arming(user_id=user.id)
            session.add(row)
        row.mode, row.updated_at = text, utcnow()
        await session.commit()
        return Outcome(f"arming mode {text} for {user.username}")

    def _request(self) -> Request:
        # check_unlock_pin reads only request.app.state (settings, throttle, alerts): the same limits
        return Request({"type": "http", "app": self.app, "headers": [], "method": "POST", "path": "/"})

    async def _send(self, device: Device, name: str, args: dict[str, Any]) -> None:
        try:
            ack = await self.app.state.mqtt.send_command(device.serial, name, args)
        except CommandError as exc:
            raise Refused(f"{device.serial} did not answer {name}: {exc}") from None
        if not ack.ok:
            raise Refused(f"{device.serial} refused {name}: {ack.error}")


def _lock_command(payload: bytes) -> tuple[str, str]:
    """``{"action": "LOCK"|"UNLOCK", "code": "..."}`` (the lock entity's command_template)."""
    try:
        body = json.loads(payload)
    except ValueError:
        raise Refused("lock command is not the JSON our command_template makes") from None
    action = body.get("action") if isinstance(body, dict) else None
    if action not in (LOCK_PAYLOAD_LOCK, LOCK_PAYLOAD_UNLOCK):
        raise Refused(
            f"lock command {str(action)[:20]!r} is neither {LOCK_PAYLOAD_LOCK} nor {LOCK_PAYLOAD_UNLOCK}"
        )
    code = body.get("code")
    code = "" if code in (None, "None") else str(code)[:16]  # HA renders a missing code as "None"
    return action, code


async def _record_remote(session: AsyncSession, user: User, device: Device, command: str) -> None:
    """The same operation-log record as a remote command from the web app (A7), marked as from HA."""
    session.add(
        DeviceEvent(
            event_id=f"hub-{uuid.uuid4().hex}",
            device_id=device.id,
            type=REMOTE_COMMAND,
            ts=utcnow(),
            data={"user": user.username, "user_id": user.id, "command": command, "via": VIA},
        )
    )
    await session.commit()
