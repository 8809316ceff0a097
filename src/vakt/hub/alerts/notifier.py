"""Notifications (A4): stored per account, pushed to the open app at once over the bus, then sent as
Web Push to each of the account's browsers and to its webhook, each delivery recorded with retries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vakt.hub.alerts.push import PushOutcome, PushSender, PushTarget
from vakt.hub.alerts.webhook import post_webhook
from vakt.hub.bus import EventBus
from vakt.hub.db import utcnow
from vakt.hub.models.alerts import (
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    NotificationKind,
    PushSubscription,
    Webhook,
)
from vakt.hub.permissions import Permission, users_allowed
from vakt.hub.secretbox import SecretBox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    """What happened, before it is addressed to anyone."""

    device_id: int
    kind: NotificationKind
    title: str
    body: str = ""
    permission: Permission | None = None  # what a shared user needs to receive it
    person_event_id: int | None = None
    data: dict[str, Any] | None = None


def notification_json(n: Notification) -> dict[str, Any]:
    data = n.data or {}
    snapshot = f"/api/person-events/{n.person_event_id}/snapshot" if n.person_event_id else None
    if data.get("snapshot"):  # a camera snapshot taken for a lock alarm or the doorbell (X2, X3)
        snapshot = f"/api/notifications/{n.id}/snapshot"
    return {
        "id": n.id,
        "device_id": n.device_id,
        "kind": n.kind,
        "title": n.title,
        "body": n.body,
        "person_event_id": n.person_event_id,
        "snapshot_url": data.get("snapshot_url") or snapshot,
        "data": {k: v for k, v in data.items() if k != "snapshot"},  # media paths stay inside the hub
        "created_at": n.created_at.isoformat(),
        "read": n.read_at is not None,
    }


class Notifier:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        push: PushSender,
        box: SecretBox,
        retry_delays: Sequence[float] = (1.0, 2.0, 4.0, 8.0),
    ) -> None:
        self._sessionmaker = sessionmaker
        self._bus = bus
        self._push = push
        self._box = box
        self.retry_delays = tuple(retry_delays)
        self._tasks: set[asyncio.Task[None]] = set()

    async def notify(self, alert: Alert) -> list[int]:
        """Store a notification for every account allowed to see it and deliver it; returns their ids."""
        async with self._sessionmaker() as session:
            audience = sorted(await users_allowed(session, alert.device_id, alert.permission))
            rows = [
                Notification(
                    user_id=uid,
                    device_id=alert.device_id,
                    kind=alert.kind.value,
                    title=alert.title,
                    body=alert.body,
                    person_event_id=alert.person_event_id,
                    data=alert.data or {},
                )
                for uid in audience
            ]
            session.add_all(rows)
            await session.commit()
            payloads = [(n.id, n.user_id, notification_json(n)) for n in rows]
        for notification_id, user_id, payload in payloads:
            await self._deliver(notification_id, user_id, payload)
        return [p[0] for p in payloads]

    async def _deliver(self, notification_id: int, user_id: int, payload: dict[str, Any]) -> None:
        message = {"type": "notification", "device_id": payload["device_id"], "notification": payload}
        delivered = await self._bus.publish(message, user_ids={user_id})
        status = DeliveryStatus.SENT if delivered else DeliveryStatus.NO_CLIENT
        async with self._sessionmaker() as session:
            session.add(
                NotificationDelivery(
                    notification_id=notification_id, channel="websocket", status=status.value, attempts=1
                )
            )
            subscriptions = (
                await session.scalars(select(PushSubscription).where(PushSubscription.user_id == user_id))
            ).all()
            webhook = await session.get(Webhook, user_id)
            await session.commit()
            targets = [(s.id, PushTarget(s.endpoint, s.p256dh, s.auth)) for s in subscriptions]
            hook = (
                None
                if webhook is None
                else (webhook.url, self._box.decrypt(webhook.secret_encrypted, "webhook"))
            )
        for subscription_id, target in targets:
            self._spawn(self._push_with_retries(notification_id, subscription_id, target, payload))
        if hook is not None:
            self._spawn(self._webhook_with_retries(notification_id, user_id, hook, payload))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _record(
        self,
        delivery_id: int | None,
        notification_id: int,
        channel: str,
        target: str,
        status: DeliveryStatus,
        attempts: int,
        error: str | None,
    ) -> int:
        async with self._sessionmaker() as session:
            row = await session.get(NotificationDelivery, delivery_id) if delivery_id else None
            if row is None:
                row = NotificationDelivery(notification_id=notification_id, channel=channel, target=target)
                session.add(row)
            row.status, row.attempts, row.error, row.updated_at = status.value, attempts, error, utcnow()
            await session.commit()
            return row.id

    async def _push_with_retries(
        self, notification_id: int, subscription_id: int, target: PushTarget, payload: dict[str, Any]
    ) -> None:
        delivery_id: int | None = None
        label = f"subscription:{subscription_id}"
        for attempt in range(1, len(self.retry_delays) + 2):
            outcome, error = await self._push.send(target, payload)
            if outcome is PushOutcome.SENT:
                await self._record(
                    delivery_id, notification_id, "push", label, DeliveryStatus.SENT, attempt, None
                )
                return
            if outcome is PushOutcome.GONE:
                await self._record(
                    delivery_id, notification_id, "push", label, DeliveryStatus.GONE, attempt, error
                )
                async with self._sessionmaker() as session:
                    await session.execute(
                        delete(PushSubscription).where(PushSubscription.id == subscription_id)
                    )
                    await session.commit()
                log.info("push subscription %d is gone (%s): removed", subscription_id, error)
                return
            last = attempt > len(self.retry_delays)
            status = DeliveryStatus.FAILED if last else DeliveryStatus.RETRYING
            delivery_id = await self._record(
                delivery_id, notification_id, "push", label, status, attempt, error
            )
            if last:
                log.warning(
                    "push of notification %d to subscription %d failed: %s",
                    notification_id,
                    subscription_id,
                    error,
                )
                return
            await asyncio.sleep(self.retry_delays[attempt - 1])

    async def _webhook_with_retries(
        self, notification_id: int, user_id: int, hook: tuple[str, str], payload: dict[str, Any]
    ) -> None:
        delivery_id: int | None = None
        for attempt in range(1, len(self.retry_delays) + 2):
            error = await post_webhook(
                hook[0],
                hook[1],
                {"type": "notification", "notification": payload},
                destinations=self._push.destinations,
            )
            last = attempt > len(self.retry_delays)
            status = (
                DeliveryStatus.SENT
                if error is None
                else DeliveryStatus.FAILED
                if last
                else DeliveryStatus.RETRYING
            )
            delivery_id = await self._record(
                delivery_id, notification_id, "webhook", f"user:{user_id}", status, attempt, error
            )
            if error is None or last:
                return
            await asyncio.sleep(self.retry_delays[attempt - 1])

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for the deliveries in flight (tests, shutdown)."""
        if self._tasks:
            await asyncio.wait_for(asyncio.gather(*list(self._tasks), return_exceptions=True), timeout)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
