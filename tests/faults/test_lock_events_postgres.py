"""G7 under the faults of issue 10, with Mosquitto, PostgreSQL, ``vakt hub`` and ``vakt gateway`` processes:
each fault during a burst of lock events ends with 0 lost and 0 duplicated."""

from __future__ import annotations

import pytest

from tests.faults import poison, scenarios
from tests.faults.conftest import System

pytestmark = [pytest.mark.mosquitto, pytest.mark.postgres, pytest.mark.timeout(240)]


def _exactly_once(tally: scenarios.Tally) -> None:
    assert tally.produced > 0
    assert (tally.lost, tally.duplicated) == (0, 0), tally.line()


async def test_g7_mosquitto_killed_back_after_3_s(postgres_home: System) -> None:
    _exactly_once(await scenarios.broker_killed(postgres_home, down_s=3.0))


async def test_g7_hub_stopped_while_mosquitto_restarts_cleanly(postgres_home: System) -> None:
    _exactly_once(await scenarios.hub_stopped_while_broker_restarts(postgres_home))


async def test_g7_hub_down_while_1500_events_are_produced(postgres_home: System) -> None:
    _exactly_once(await scenarios.hub_down_backlog(postgres_home, events=1500))


async def test_g7_database_unreachable_for_10_s_back_pressure_not_loss(postgres_home: System) -> None:
    _exactly_once(await scenarios.database_unreachable(postgres_home, down_s=10.0))


async def test_g7_hub_sigkill_while_draining_a_backlog(postgres_home: System) -> None:
    _exactly_once(await scenarios.hub_killed_while_draining(postgres_home))


async def test_g7_hub_sigterm_under_load(postgres_home: System) -> None:
    _exactly_once(await scenarios.hub_terminated_under_load(postgres_home))


async def test_g7_gateway_sigkill_five_times_mid_burst(postgres_home: System) -> None:
    _exactly_once(await scenarios.gateway_killed_mid_burst(postgres_home))


async def test_g7_poison_messages_are_dead_letters_and_a_good_event_after_them_is_stored_within_1_s(
    postgres_home: System,
) -> None:
    """Year 1 and 9999, JSON nested 3,000 deep (event and state), oversize: refused at validation,
    kept as dead letters for the owner, confirmed to the device, never retried like an outage."""
    system = postgres_home
    await scenarios.ready(system)
    await poison.publish_poison_then_check(system)
