"""Web Push delivery to one browser: encrypted (RFC 8291) and VAPID-signed by pywebpush, with retries."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pywebpush import WebPushException, webpush

from vakt.hub.alerts.vapid import VapidKeys
from vakt.hub.outbound import Destinations, RefusedDestination

log = logging.getLogger(__name__)
GONE_STATUSES = (404, 410)


class PushOutcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    GONE = "gone"


@dataclass(frozen=True)
class PushTarget:
    endpoint: str
    p256dh: str
    auth: str

    def info(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class PushSender:
    """Sends one encrypted message; says whether it arrived, may be retried, or the browser is gone."""

    def __init__(
        self,
        keys: VapidKeys,
        subject: str = "mailto:hub@vakt.invalid",
        timeout: float = 10.0,
        destinations: Destinations | None = None,
    ) -> None:
        self.keys = keys
        self.subject = subject
        self.timeout = timeout
        self.destinations = destinations or Destinations()

    async def send(self, target: PushTarget, payload: dict[str, Any]) -> tuple[PushOutcome, str | None]:
        try:
            await self.destinations.check_push(target.endpoint)
        except RefusedDestination as exc:  # never again: the subscription goes
            return PushOutcome.GONE, f"push refused: {exc}"[:250]
        return await asyncio.to_thread(self._send, target, json.dumps(payload))

    def _send(self, target: PushTarget, data: str) -> tuple[PushOutcome, str | None]:
        try:
            webpush(
                target.info(),
                data,
                vapid_private_key=self.keys.vapid(),
                vapid_claims={"sub": self.subject},
                timeout=self.timeout,
                ttl=3600,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in GONE_STATUSES:
                return PushOutcome.GONE, f"push service answered {status}"
            return PushOutcome.RETRY, f"push failed: {status or exc.message}"[:250]
        except Exception as exc:  # connection errors from requests, bad keys
            return PushOutcome.RETRY, f"push failed: {exc}"[:250]
        return PushOutcome.SENT, None
