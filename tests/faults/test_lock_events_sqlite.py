"""G7 on SQLite (the default database): the broker killed and the hub stopped under load, with real
Mosquitto, ``vakt hub`` and ``vakt gateway`` processes; 0 lost, 0 duplicated."""

from __future__ import annotations

import pytest

from tests.faults import scenarios
from tests.faults.conftest import System

pytestmark = [pytest.mark.mosquitto, pytest.mark.timeout(240)]


async def test_g7_sqlite_mosquitto_killed_then_hub_sigterm_under_load(sqlite_home: System) -> None:
    for tally in (
        await scenarios.broker_killed(sqlite_home, down_s=3.0, events=200),
        await scenarios.hub_terminated_under_load(sqlite_home, events=200),
    ):
        assert tally.produced > 0 and (tally.lost, tally.duplicated) == (0, 0), tally.line()
