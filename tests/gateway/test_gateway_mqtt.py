"""The gateway emulator against a real Mosquitto with the generated ACL: G1-G6, commands and events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.broker.brokers import DEVICES, RunningBroker, any_broker
from tests.gateway.hub import TestHub, running_hub
from vakt.gateway.config import GatewayConfig
from vakt.gateway.service import Gateway
from vakt.protocol import seal

pytestmark = pytest.mark.timeout(60)
GW, LK = "GW0001", "LK0001"


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[RunningBroker]:
    async with any_broker("mosquitto", tmp_path) as running:
        yield running


@pytest.fixture
async def hub(broker: RunningBroker) -> AsyncIterator[TestHub]:
    async with running_hub(broker.host, broker.port) as h:
        yield h


def gateway_config(broker: RunningBroker, data: Path, **overrides: object) -> GatewayConfig:
    values: dict[str, object] = {
        "serial": GW,
        "code": DEVICES[GW],
        "mqtt_host": broker.host,
        "mqtt_port": broker.port,
        "data_dir": data,
        "lock_serial": LK,
        "lock_code": DEVICES[LK],
        "tick_interval": 0.05,
        "boot_seconds": 0.3,
    }
    return GatewayConfig.model_validate(values | overrides)


@pytest.fixture
async def gateway(broker: RunningBroker, hub: TestHub, tmp_path: Path) -> AsyncIterator[Gateway]:
    async with Gateway(gateway_config(broker, tmp_path / "gw")) as gw:
        await hub.wait_for(
            lambda: (
                hub.states.get(LK, {}).get("paired") is True
                and hub.states.get(GW, {}).get("phase") == "online"
            )
        )
        yield gw


async def test_g1_g2_g5_pairing_flow_through_the_gateway(
    broker: RunningBroker, hub: TestHub, tmp_path: Path
) -> None:
    config = gateway_config(broker, tmp_path / "gw", pair_on_start=False, network="none")
    async with Gateway(config) as gw:
        await hub.wait_for(lambda: gw.panel.led.value == "fast_flashing_white")  # G1 set-up mode
        assert GW not in hub.availability
        gw.panel.configure_wifi("home", "correct horse")  # G2: credentials from the app's QR step
        await hub.wait_for(lambda: hub.states.get(GW, {}).get("panel", {}).get("led") == "solid_white")
        assert hub.availability[GW] == "online" and LK not in hub.states
        refused = await hub.command(GW, "gateway.pair", {"serial": LK})
        assert not refused.ok and "not in pairing mode" in (refused.error or "")
        held = await hub.command(GW, "panel.input", {"device": LK, "input": "reset", "value": 3})
        assert held.ok and held.result["display"] == {"lit": True, "text": "5", "blinking": True}  # L12.2
        await hub.wait_for(lambda: hub.states[GW]["locks_in_range"] == [{"serial": LK, "pairing": True}])
        paired = await hub.command(GW, "gateway.pair", {"serial": LK})
        assert paired.ok and paired.result == {"serial": LK, "paired": True}
        await hub.wait_for(
            lambda: hub.states.get(LK, {}).get("paired") is True and hub.availability.get(LK) == "online"
        )
        state = hub.states[LK]
        assert state["kind"] == "lock" and state["emulated"] is True and not state["pairing_mode"]
        await hub.wait_for(lambda: bool(hub.events_of(GW, "GatewayPaired")))
        bell = await hub.command(LK, "panel.input", {"input": "doorbell"})
        assert bell.ok
        await hub.wait_for(lambda: bool(hub.events_of(LK, "Doorbell")))


async def test_l13_lock_events_on_the_lock_topic_with_unique_ids(gateway: Gateway, hub: TestHub) -> None:
    for _ in range(3):
        assert (await hub.command(LK, "panel.input", {"input": "doorbell"})).ok
    await hub.wait_for(lambda: len(hub.events_of(LK, "Doorbell")) == 3)
    bells = hub.events_of(LK, "Doorbell")
    assert len({e.id for e in bells}) == 3 and all(e.source == LK for e in bells)
    usb = await hub.command(LK, "panel.input", {"input": "emergency_power"})  # no value: toggles
    assert usb.ok
    await hub.wait_for(lambda: hub.states[LK]["usb_power"] is True)


async def test_remote_unlock_is_acknowledged_applied_and_logged(gateway: Gateway, hub: TestHub) -> None:
    ack = await hub.command(LK, "lock.unlock")
    assert ack.ok and ack.result == {"motor": "unlocked"}
    await hub.wait_for(lambda: hub.states[LK]["motor"] == "unlocked")
    assert gateway.locks[LK].firmware.state().motor.value == "unlocked"
    await hub.wait_for(
        lambda: any(e.data["operation_source"] == "Remote" for e in hub.events_of(LK, "LockOperation"))
    )
    assert (await hub.command(LK, "lock.operating_mode", {"mode": "Passage"})).ok
    await hub.wait_for(lambda: hub.states[LK]["operating_mode"] == "Passage")
    assert (await hub.command(LK, "lock.volume", {"level": "mute"})).ok
    await hub.wait_for(lambda: hub.states[LK]["volume"] == "mute")


async def test_l14_1_sealed_door_code_provisioned_and_opens_door(gateway: Gateway, hub: TestHub) -> None:
    sealed = seal(DEVICES[LK], LK, "20481632")
    ack = await hub.command(LK, "lock.credential.add", {"type": "code", "sealed": sealed, "name": "owner"})
    assert ack.ok and ack.result == {"index": 1, "type": "code", "user_type": "ProgrammingUser"}  # L2.3
    await hub.wait_for(lambda: [c["index"] for c in hub.states[LK]["credentials"]] == [1])
    listed = hub.states[LK]["credentials"][0]
    assert listed["name"] == "owner" and "20481632" not in str(hub.states[LK])
    assert (await hub.command(LK, "panel.input", {"input": "touch"})).ok
    typed = await hub.command(LK, "panel.input", {"input": "keys", "value": "9920481632#"})  # L8.2
    assert typed.ok and typed.result["motor"] == "unlocked"
    wrong = await hub.command(
        LK, "lock.credential.add", {"type": "code", "sealed": seal("OTHERCODE", LK, "11223344")}
    )
    assert not wrong.ok and "door code not accepted" in (wrong.error or "")
    clear = await hub.command(LK, "lock.credential.add", {"type": "code", "code": "11223344"})
    assert not clear.ok and "invalid args" in (clear.error or "")
    card = await hub.command(LK, "lock.credential.add", {"type": "card", "card_uid": "04A1B2C3"})
    assert card.ok and card.result["index"] == 1
    deleted = await hub.command(LK, "lock.credential.delete", {"type": "code", "index": 1})
    assert deleted.ok
    again = await hub.command(LK, "lock.credential.delete", {"type": "code", "index": 1})
    assert not again.ok and "holds nothing" in (again.error or "")


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b'{"id": "badcmd0001", "target": "LK0001", "name": "lock.unlock", "args": []}', "invalid Command"),
        (b'{"id": "badcmd0001", "target": "LK0001", "name": "lock.explode"}', "unknown command"),
        (
            b'{"id": "badcmd0001", "target": "LK0001", "name": "lock.volume", "args": {"level": 11}}',
            "invalid args: level",
        ),
        (
            b'{"id": "badcmd0001", "target": "LK0001", "name": "panel.input", "args": {"input": "nose"}}',
            "unknown lock input",
        ),
        (
            b'{"id": "badcmd0001", "target": "GW0001", "name": "gateway.pair", "args": {"serial": "NOPE"}}',
            "no lock NOPE",
        ),
    ],
)
async def test_malformed_command_gets_an_error_ack_and_the_gateway_keeps_running(
    gateway: Gateway, hub: TestHub, payload: bytes, error: str
) -> None:
    serial = GW if b"GW0001" in payload else LK
    ack = await hub.send_raw(serial, payload, "badcmd0001")
    assert not ack.ok and error in (ack.error or "")
    assert (await hub.command(LK, "lock.lock")).ok


async def test_g6_radio_link_quality_and_losses_are_in_the_lock_state(gateway: Gateway, hub: TestHub) -> None:
    near = hub.states[LK]["link"]["rssi_dbm"]
    ack = await hub.command(GW, "gateway.placement", {"serial": LK, "distance_m": 30, "walls": 3, "metal": 1})
    assert ack.ok and ack.result["rssi_dbm"] < near - 30
    failures = 0
    for _ in range(12):
        failures += not (await hub.command(LK, "lock.lock")).ok
    await hub.wait_for(lambda: hub.states[LK]["link"]["lost_messages"] == failures > 0)
    link = hub.states[LK]["link"]
    assert link["distance_m"] == 30 and link["walls"] == 3 and link["metal"] == 1 and link["retries"] > 0


async def test_g3_function_button_held_takes_the_gateway_offline(gateway: Gateway, hub: TestHub) -> None:
    short = await hub.command(GW, "panel.input", {"input": "function_button", "value": 1})
    assert short.ok and short.result["phase"] == "online"
    held = await hub.command(GW, "panel.input", {"input": "function_button", "value": 5})
    assert held.ok and held.result == {"led": "fast_flashing_white", "phase": "setup"}
    await hub.wait_for(lambda: hub.availability[GW] == "offline" and hub.availability[LK] == "offline")
    assert gateway.panel.prompts[-1].value == "network_reset"
    gateway.panel.plug_cable()
    await hub.wait_for(lambda: hub.availability[GW] == "online")
    await hub.wait_for(lambda: len(hub.events_of(GW, "NetworkReset")) == 1)  # queued while offline


async def test_g1_power_cycle_boots_again_and_comes_back_online(gateway: Gateway, hub: TestHub) -> None:
    cycled = await hub.command(GW, "panel.input", {"input": "power"})
    assert cycled.ok and cycled.result == {"led": "solid_orange", "phase": "booting"}
    await hub.wait_for(lambda: hub.availability[GW] == "offline")
    await hub.wait_for(lambda: hub.availability[GW] == "online" and hub.states[GW]["phase"] == "online")
    assert (await hub.command(LK, "lock.lock")).ok


async def test_gateway_through_the_embedded_demo_broker(tmp_path: Path) -> None:
    """The same relay through the embedded amqtt broker `vakt demo` runs, ACL enforced (G5, G7)."""
    async with any_broker("embedded", tmp_path) as embedded, running_hub(embedded.host, embedded.port) as hub:
        async with Gateway(gateway_config(embedded, tmp_path / "gw")):
            await hub.wait_for(
                lambda: hub.states.get(LK, {}).get("paired") is True and hub.availability.get(GW) == "online"
            )
            ack = await hub.command(LK, "lock.unlock")
            assert ack.ok and ack.result == {"motor": "unlocked"}
            await hub.wait_for(
                lambda: any(
                    e.data["operation_source"] == "Remote" for e in hub.events_of(LK, "LockOperation")
                )
            )
        await hub.wait_for(lambda: hub.availability[GW] == "offline")


async def test_l12_1_factory_reset_at_the_lock_ends_the_pairing(gateway: Gateway, hub: TestHub) -> None:
    for step in (
        {"input": "batteries", "value": False},
        {"input": "reset_down"},
        {"input": "batteries", "value": True},
        {"input": "reset", "value": 5},
        {"input": "key", "value": "#"},
    ):
        ack = await hub.command(LK, "panel.input", step)
        assert ack.ok, (step, ack.error)
    await hub.wait_for(
        lambda: any(e.data["alarm_code"] == "LockFactoryReset" for e in hub.events_of(LK, "DoorLockAlarm"))
    )
    await hub.wait_for(lambda: bool(hub.events_of(GW, "GatewayUnpaired")))
    assert hub.events_of(GW, "GatewayUnpaired")[0].data["serial"] == LK
    await hub.wait_for(lambda: hub.states[LK]["paired"] is False and hub.states[GW]["paired_locks"] == [])
    refused = await hub.command(LK, "lock.unlock")
    assert not refused.ok and "not paired" in (refused.error or "")
