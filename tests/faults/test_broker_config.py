"""The generated Mosquitto configuration keeps the hub's session and its queued events across a
restart (G7): persistence on, under the data folder, no silent queue limit."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.faults.harness import Broker

pytestmark = pytest.mark.mosquitto


def test_g7_mosquitto_config_persists_sessions_under_the_data_folder(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "mosquitto")
    conf = broker.conf.read_text().splitlines()
    persistence = tmp_path / "mosquitto" / "persistence"
    assert "persistence true" in conf and f"persistence_location {persistence.resolve()}/" in conf
    assert "max_queued_messages 1000000" in conf and "max_queued_bytes 0" in conf
    assert any(line.startswith("autosave_interval ") for line in conf)
    assert "max_inflight_messages 1000" in conf
    broker.start()  # Mosquitto accepts it
    broker.stop(signal.SIGTERM)  # a clean stop writes the state
    assert (persistence / "mosquitto.db").exists()
