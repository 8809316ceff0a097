"""The remote-unlock PIN challenge (A7): wrong PINs are counted per account in the database with growing
delays (vakt.hub.ratelimit), and the lock's owner hears of repeated failures."""

from __future__ import annotations

import math

from fastapi import HTTPException, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.alerts.notifier import Alert
from vakt.hub.auth import verify_secret
from vakt.hub.models.alerts import NotificationKind
from vakt.hub.models.devices import Device
from vakt.hub.models.users import User
from vakt.hub.permissions import Permission
from vakt.hub.ratelimit import AttemptThrottle, Backoff, Limit, too_many
from vakt.hub.settings import HubSettings


async def check_unlock_pin(
    request: Request, session: AsyncSession, user: User, device: Device, pin: str
) -> None:
    """The remote-unlock PIN challenge (A7): 409 without a PIN, 429 while waiting, 403 when wrong. Wrong
    PINs are counted per account in the database; every ``pin_max_failures`` in a row the device's owner
    is notified."""
    settings: HubSettings = request.app.state.settings
    throttle: AttemptThrottle = request.app.state.attempt_throttle
    if user.unlock_pin_hash is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "You have no remote-unlock PIN yet. Set one under Account > Remote unlock PIN, then try again.",
        )
    limit = Limit(
        f"pin:{user.id}", Backoff(settings.pin_max_failures, settings.pin_max_delay_s, settings.pin_window_s)
    )
    if wait := await throttle.wait_s(session, [limit]):
        raise too_many("wrong PINs", wait)
    failures = (await throttle.fail(session, [limit]))[limit.key]
    if verify_secret(user.unlock_pin_hash, pin):
        await throttle.give_back(session, [], [limit.key])
        return
    if failures % settings.pin_max_failures == 0:
        await _notify_pin_failures(request, device, user, failures)
    left = max(0, settings.pin_max_failures - failures)
    hint = f"{left} attempts left" if left else f"wait {math.ceil(limit.backoff.delay_s(failures))} s"
    raise HTTPException(status.HTTP_403_FORBIDDEN, f"wrong PIN ({hint})")


async def _notify_pin_failures(request: Request, device: Device, user: User, failures: int) -> None:
    alerts = getattr(request.app.state, "alerts", None)
    if alerts is None:  # the alerts service is not running (API-only tests)
        return
    name = device.name or device.serial
    await alerts.notifier.notify(
        Alert(
            device.id,
            NotificationKind.LOCKOUT,
            f"Wrong remote-unlock PINs: {name}",
            f"{failures} wrong PINs in a row by {user.username}; further tries are slowed down",
            permission=Permission.SETTINGS,
            data={"reason": "remote_pin_failures", "user": user.username, "failures": failures},
        )
    )
