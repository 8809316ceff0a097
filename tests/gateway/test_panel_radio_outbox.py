"""Gateway parts on their own: LED ring and set-up (G1-G3), radio link (G6), outbox (G7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vakt.gateway.config import GatewayConfig
from vakt.gateway.led import GatewayPanel, GatewayPhase, LedPattern, NetworkConfig, VoicePrompt
from vakt.gateway.outbox import Outbox
from vakt.gateway.radio import Placement, RadioLink
from vakt.gateway.service import Gateway
from vakt.protocol import Event


def test_g1_power_on_solid_orange_then_fast_flashing_white_setup_mode() -> None:
    panel = GatewayPanel()
    assert panel.led is LedPattern.OFF
    panel.power_on(0.0)
    assert panel.led is LedPattern.SOLID_ORANGE
    panel.tick(1.0)
    assert panel.led is LedPattern.SOLID_ORANGE
    panel.tick(2.5)
    assert panel.phase is GatewayPhase.SETUP and panel.led is LedPattern.FAST_FLASHING_WHITE
    assert not panel.network_up


@pytest.mark.parametrize("wired", [True, False])
def test_g2_wired_or_wifi_setup_then_online(wired: bool) -> None:
    panel = GatewayPanel()
    panel.power_on(0.0)
    panel.tick(3.0)
    if wired:
        panel.plug_cable()
    else:
        with pytest.raises(ValueError, match="8 to 63"):
            panel.configure_wifi("home", "short")
        assert panel.phase is GatewayPhase.SETUP
        panel.configure_wifi("home", "correct horse")
    assert panel.network_up and panel.led is LedPattern.SLOW_FLASHING_WHITE
    panel.broker_connected(True)
    assert panel.led is LedPattern.SOLID_WHITE
    panel.broker_connected(False)
    assert panel.led is LedPattern.SLOW_FLASHING_ORANGE and panel.network_up


def test_g2_remembered_network_comes_back_online_after_boot() -> None:
    panel = GatewayPanel(NetworkConfig(wifi_ssid="home"))
    panel.power_on(0.0)
    panel.tick(2.0)
    assert panel.phase is GatewayPhase.CONNECTING


def test_g3_button_held_over_4s_prompts_and_goes_offline() -> None:
    panel = GatewayPanel(NetworkConfig(wifi_ssid="home"))
    panel.power_on(0.0)
    panel.tick(2.0)
    panel.broker_connected(True)
    panel.button_down(10.0)
    panel.button_up(13.9)  # a short press does nothing
    assert panel.phase is GatewayPhase.ONLINE and not panel.prompts
    panel.button_down(20.0)
    panel.tick(24.0)
    assert panel.phase is GatewayPhase.ONLINE
    panel.tick(24.1)  # the prompt comes while the button is still held
    assert panel.prompts == [VoicePrompt.NETWORK_RESET]
    assert panel.phase is GatewayPhase.SETUP and not panel.network_up and not panel.network.configured
    panel.button_up(25.0)
    assert panel.prompts == [VoicePrompt.NETWORK_RESET]


def test_g6_rssi_falls_with_distance_walls_and_metal() -> None:
    near = RadioLink(Placement(distance_m=2)).mean_rssi()
    far = RadioLink(Placement(distance_m=15)).mean_rssi()
    walled = RadioLink(Placement(distance_m=2, walls=2)).mean_rssi()
    metal = RadioLink(Placement(distance_m=2, metal=1)).mean_rssi()
    assert near > far and near > walled and near > metal and walled > far - 100
    assert RadioLink(Placement(distance_m=3)).frame_loss() < 0.001


def test_g6_bad_link_loses_messages_deterministically_with_a_seed() -> None:
    bad = Placement(distance_m=25, walls=3, metal=1)
    runs = []
    for _ in range(2):
        link = RadioLink(bad, seed=7)
        runs.append([link.transmit() for _ in range(200)])
        assert link.stats.lost_messages == runs[-1].count(False) > 0
        assert link.stats.retries > 0 and link.stats.lost_frames > link.stats.lost_messages
    assert runs[0] == runs[1]
    good = RadioLink(Placement(distance_m=2), seed=7)
    assert all(good.transmit() for _ in range(200)) and good.stats.lost_messages == 0


def test_g7_outbox_keeps_order_and_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    box = Outbox(path)
    events = [Event(source="LK0001", type="Doorbell", data={"n": n}) for n in range(5)]
    for event in events:
        box.append(event)
    box.append(events[0])  # the same id twice is stored once
    seq, first = box.peek(1)[0]
    assert first == events[0]
    box.remove(seq)
    box.close()
    again = Outbox(path)
    assert [e for _, e in again.peek()] == events[1:] and len(again) == 4


def test_g7_outbox_discards_an_unreadable_row_and_keeps_the_rest(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.sqlite")
    good = Event(source="LK0001", type="Doorbell")
    box.append(good)
    box._db.execute("INSERT INTO outbox (id, payload) VALUES ('garbage01', x'00ff')")
    box._db.commit()
    box.append(Event(source="LK0001", type="Doorbell"))
    events = [e for _, e in box.peek()]
    assert events[0] == good and len(events) == 2 and len(box) == 2


def _gateway(tmp_path: Path) -> Gateway:
    config = GatewayConfig(
        serial="GW0001",
        code="GWCODE01",
        data_dir=tmp_path / "gw",
        network="none",
        lock_serial="LK0001",
        lock_code="LKCODE01",
    )
    return Gateway(config)


def test_g7_full_outbox_loses_no_event_and_catches_up_when_space_returns(tmp_path: Path) -> None:
    """A full disk (SQLite's own 'database or disk is full', via max_page_count) keeps events waiting."""
    gateway = _gateway(tmp_path)
    db = gateway.outbox._db
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages + 1}")
    presses = 0
    while len(gateway.locks["LK0001"]._received) == 0 and presses < 2000:
        gateway.lock_input("LK0001", "doorbell")
        presses += 1
    waiting = len(gateway.locks["LK0001"]._received)
    assert waiting > 0 and len(gateway.outbox) == presses - waiting
    gateway.lock_input("LK0001", "doorbell")  # still full: this one waits too, behind the others
    db.execute("PRAGMA max_page_count = 1073741823")
    gateway.lock_input("LK0001", "doorbell")
    stored = [e for _, e in gateway.outbox.peek(10_000)]
    assert len(stored) == presses + 2 and len(gateway.locks["LK0001"]._received) == 0
    assert [e.ts for e in stored] == sorted(e.ts for e in stored)


def test_unreadable_gateway_memory_is_kept_aside_and_the_gateway_starts(tmp_path: Path) -> None:
    (tmp_path / "gw").mkdir()
    (tmp_path / "gw" / "gateway.json").write_text("{not json")
    gateway = _gateway(tmp_path)
    assert (tmp_path / "gw" / "gateway.broken").read_text() == "{not json"
    assert gateway.memory.paired == ["LK0001"]
