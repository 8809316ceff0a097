"""Limits on guessing secrets (sign-in password, remote-unlock PIN): growing delays, never a hard lock.

Failures are counted per key in the database (a restart forgets nothing). After ``free`` failures each
further attempt under that key must wait 5, 10, 20, ... seconds after the last failure, up to ``max_delay_s``;
failures older than ``window_s`` are forgotten. Attempts are counted before the secret is checked, so
parallel guesses are counted too, and a success gives the attempt back."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import HTTPException, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.hub.db import utcnow
from vakt.hub.models.users import AttemptCounter, AuthSession
from vakt.hub.settings import HubSettings

FIRST_DELAY_S = 5.0


@dataclass(frozen=True, slots=True)
class Backoff:
    free: int  # failures allowed without waiting
    max_delay_s: float
    window_s: float

    def delay_s(self, failures: int) -> float:
        """How long after the last failure the next attempt must wait."""
        if failures < self.free:
            return 0.0
        return min(FIRST_DELAY_S * 2.0 ** min(failures - self.free, 40), self.max_delay_s)


@dataclass(frozen=True, slots=True)
class Limit:
    key: str
    backoff: Backoff


class AttemptThrottle:
    """Counts failed attempts under keys in the database; ``clock`` is injectable for tests."""

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self.clock = clock

    async def _counts(self, session: AsyncSession, keys: Sequence[str]) -> dict[str, AttemptCounter]:
        rows = await session.scalars(select(AttemptCounter).where(AttemptCounter.key.in_(keys)))
        return {r.key: r for r in rows}

    def _live_failures(self, row: AttemptCounter | None, backoff: Backoff, now: datetime) -> int:
        if row is None or now - row.last_failure_at > timedelta(seconds=backoff.window_s):
            return 0
        return row.failures

    async def wait_s(self, session: AsyncSession, limits: Sequence[Limit]) -> int:
        """Whole seconds until every key may try again; 0 when none must wait."""
        now = self.clock()
        rows = await self._counts(session, [limit.key for limit in limits])
        wait = 0.0
        for limit in limits:
            row = rows.get(limit.key)
            failures = self._live_failures(row, limit.backoff, now)
            if row is not None and failures:
                ready = row.last_failure_at + timedelta(seconds=limit.backoff.delay_s(failures))
                wait = max(wait, (ready - now).total_seconds())
        return math.ceil(wait) if wait > 0 else 0

    async def fail(self, session: AsyncSession, limits: Sequence[Limit]) -> dict[str, int]:
        """Count one failure under every key (committed); returns each key's failures now."""
        for attempt in range(2):
            now = self.clock()
            rows = await self._counts(session, [limit.key for limit in limits])
            counts: dict[str, int] = {}
            for limit in limits:
                row = rows.get(limit.key)
                failures = self._live_failures(row, limit.backoff, now) + 1
                if row is None:
                    session.add(AttemptCounter(key=limit.key, failures=failures, last_failure_at=now))
                else:
                    row.failures, row.last_failure_at = failures, now
                counts[limit.key] = failures
            try:
                await session.commit()
                return counts
            except IntegrityError:  # another request created the same key first: count again on it
                await session.rollback()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def give_back(self, session: AsyncSession, shared: Sequence[str], cleared: Sequence[str]) -> None:
        """A success: the failure counted up front under ``shared`` is given back, ``cleared`` start over."""
        rows = await self._counts(session, [*shared, *cleared])
        for key in shared:
            if (row := rows.get(key)) is not None:
                row.failures = max(0, row.failures - 1)
        for key in cleared:
            if (row := rows.get(key)) is not None:
                await session.delete(row)
        await session.commit()


def too_many(what: str, retry_after: int) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"too many {what}; try again in {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )


@dataclass(frozen=True, slots=True)
class PasswordAttempt:
    """The keys one password check is counted under: the account (whether named by username or e-mail),
    the client address, and the pair. A place the account has signed in from before waits only on the
    pair, so a stranger hammering the account elsewhere, or other accounts from the same address, cannot
    keep its owner out."""

    wait_on: tuple[Limit, ...]
    count_on: tuple[Limit, ...]
    pair: Limit


async def password_attempt(
    session: AsyncSession, settings: HubSettings, account: str, address: str, user_id: int | None
) -> PasswordAttempt:
    """``account``: ``account:<id>`` for a known user, else ``name:<login>`` (unknown names alike)."""
    per_account = Backoff(settings.login_max_failures, settings.login_max_delay_s, settings.login_window_s)
    per_address = Backoff(
        4 * settings.login_max_failures, settings.login_max_delay_s, settings.login_window_s
    )
    address_limit = Limit(f"address:{address}", per_address)
    account_limit = Limit(account, per_account)
    pair = Limit(f"{account}@{address}", per_account)
    known = user_id is not None and (
        await session.scalar(
            select(AuthSession.id)
            .where(AuthSession.user_id == user_id, AuthSession.client_address == address)
            .limit(1)
        )
        is not None
    )
    count_on = (address_limit, account_limit, pair)
    wait_on = (pair,) if known else count_on
    return PasswordAttempt(wait_on, count_on, pair)


async def check_password(
    throttle: AttemptThrottle, session: AsyncSession, attempt: PasswordAttempt, verify: Callable[[], bool]
) -> bool:
    """Wait-check, count, verify; 429 while the attempt must wait. True when the password was right."""
    if wait := await throttle.wait_s(session, attempt.wait_on):
        raise too_many("failed sign-ins", wait)
    await throttle.fail(session, attempt.count_on)
    if not verify():
        return False
    shared = [limit.key for limit in attempt.count_on if limit != attempt.pair]
    await throttle.give_back(session, shared, [attempt.pair.key])
    return True
