"""Proving a device's verification code before it is bound to an account for good (A2, C3.2, issue 11).

The hub registers the claimed code with the broker (the device's password is derived from it) and asks
the device ``device.prove {nonce}``: only a device that logged in with that password receives the
command, and only one holding the code computes the answer. A device that logs in with another password
(seen by the embedded broker) shows the code is wrong. A gateway or camera that is offline when added is
bound unproven and proven as soon as it comes online; until then anyone who proves the code takes it
over, so a wrong code never locks the real owner out. A lock speaks through its gateway, which pairs it
only with physical access (L12.2): it is bound with its gateway and not proven on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from enum import StrEnum

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.broker_sync import BrokerSync
from vakt.hub.db import utcnow
from vakt.hub.models.devices import Device
from vakt.hub.mqtt import CommandError, HubMqtt
from vakt.hub.ratelimit import AttemptThrottle, Backoff, Limit
from vakt.protocol import DeviceKind
from vakt.protocol.credentials import PROVE_COMMAND, proof_matches

log = logging.getLogger(__name__)

PROOF_WINDOW_S = 15.0  # a refused device retries within 10 s (vakt.protocol.client backoff)
RECENT_LOGIN_S = 60.0  # a refused login this recent: the device is out there, wait for it
PROVABLE_KINDS = frozenset({DeviceKind.GATEWAY.value, DeviceKind.CAMERA.value})
# A lock speaks only through its paired gateway, which answers its proof once it is online; an add of a
# lock cannot wait for that (the gateway may not be paired yet), so locks are proven only when online.
PROVABLE_ONLINE = PROVABLE_KINDS | {DeviceKind.LOCK.value}
FAILED_PROOFS_PER_ACCOUNT = 5  # per serial and account: someone guessing codes
FAILED_PROOFS_PER_SERIAL = 20  # per serial, all accounts: one account alone cannot lock the owner out
FAILED_PROOFS_WINDOW_S = 900.0


class Proof(StrEnum):
    PROVEN = "proven"
    WRONG_CODE = "wrong_code"
    SILENT = "silent"  # the device did not answer: offline, or the code is wrong and the broker cannot tell


class ProofLimiter:
    """Failed proofs per serial and account, and per serial (issue 11: guessing a code is limited).

    Counted in the database like sign-in failures (vakt.hub.ratelimit): a restart or another hub process
    forgets nothing, and each further try waits longer instead of a hard lock."""

    def __init__(self) -> None:
        self.throttle = AttemptThrottle()
        self.per_account = FAILED_PROOFS_PER_ACCOUNT
        self.per_serial = FAILED_PROOFS_PER_SERIAL

    def _limits(self, serial: str, user_id: int) -> list[Limit]:
        def backoff(free: int) -> Backoff:
            return Backoff(free=free, max_delay_s=FAILED_PROOFS_WINDOW_S, window_s=FAILED_PROOFS_WINDOW_S)

        return [
            Limit(f"proof:{serial}/{user_id}", backoff(self.per_account)),
            Limit(f"proof:{serial}", backoff(self.per_serial)),
        ]

    async def retry_after(self, session: AsyncSession, serial: str, user_id: int) -> int:
        return await self.throttle.wait_s(session, self._limits(serial, user_id))

    async def fail(self, session: AsyncSession, serial: str, user_id: int) -> None:
        await self.throttle.fail(session, self._limits(serial, user_id))


def proof_limiter(app: FastAPI) -> ProofLimiter:
    limiter: ProofLimiter | None = getattr(app.state, "proof_limiter", None)
    if limiter is None:
        limiter = app.state.proof_limiter = ProofLimiter()
    return limiter


def proof_window(app: FastAPI) -> float:
    """Seconds an add waits for the device's proof (``app.state.device_proof_window_s`` overrides)."""
    return float(getattr(app.state, "device_proof_window_s", PROOF_WINDOW_S))


def device_is_trying(sync: BrokerSync, serial: str) -> bool:
    """Whether the broker refused a login of ``serial`` lately: switched on, waiting to be added."""
    return sync.refused_login_since(serial, time.monotonic() - RECENT_LOGIN_S)


async def prove_code(
    mqtt: HubMqtt, sync: BrokerSync, serial: str, code: str, since: float, window: float = PROOF_WINDOW_S
) -> Proof:
    """Ask ``serial`` to prove ``code`` (already registered with the broker at ``since``) until ``window``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + window
    while (left := deadline - loop.time()) > 0:
        if sync.refused_login_since(serial, since):
            return Proof.WRONG_CODE
        nonce = secrets.token_urlsafe(16)
        try:
            ack = await mqtt.send_command(serial, PROVE_COMMAND, {"nonce": nonce}, timeout=min(1.0, left))
        except CommandError:
            await asyncio.sleep(min(0.2, max(0.0, deadline - loop.time())))
            continue
        if ack.ok and proof_matches(code, serial, nonce, ack.result.get("proof")):
            return Proof.PROVEN
        log.warning("%s answered the code check without a valid proof (%s)", serial, ack.error or "bad proof")
        return Proof.WRONG_CODE
    return Proof.SILENT


async def _prove_on_line(app: FastAPI, device: Device, online: bool) -> None:
    """An unproven gateway, camera or lock came online: check its code now."""
    if not online or device.verified_at is not None or device.kind not in PROVABLE_ONLINE:
        return
    sync: BrokerSync = app.state.broker_sync
    if not sync.enabled or not device.code_encrypted:
        return
    code = sync.box.decrypt(device.code_encrypted, device.serial)
    outcome = await prove_code(app.state.mqtt, sync, device.serial, code, since=time.monotonic())
    if outcome is not Proof.PROVEN:
        log.info("%s is online but did not prove its code (%s); it stays unproven", device.serial, outcome)
        return
    async with app.state.sessionmaker() as session:
        stored = await session.get(Device, device.id)
        if stored is not None and stored.serial == device.serial and stored.verified_at is None:
            stored.verified_at = utcnow()
            await session.commit()
            log.info("%s proved its verification code", device.serial)


@contextlib.asynccontextmanager
async def service(app: FastAPI) -> AsyncIterator[None]:
    """Proves devices added while offline once they come online (one of the hub's SERVICES)."""
    mqtt: HubMqtt = app.state.mqtt
    running: dict[str, asyncio.Task[None]] = {}  # one proof per serial at a time

    async def on_availability(device: Device, online: bool) -> None:
        # apart from the hook: a proof waits for the device, and hooks are awaited by ``mqtt.idle()``
        if not online or device.verified_at is not None or device.kind not in PROVABLE_ONLINE:
            return
        if device.serial in running:
            return
        task = asyncio.create_task(_prove_on_line(app, device, online), name=f"prove-{device.serial}")
        running[device.serial] = task
        task.add_done_callback(lambda _: running.pop(device.serial, None))

    mqtt.on_availability(on_availability)
    try:
        yield
    finally:
        for task in list(running.values()):
            task.cancel()
        await asyncio.gather(*running.values(), return_exceptions=True)
