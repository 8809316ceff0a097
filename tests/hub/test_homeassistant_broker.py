"""V3 security: Home Assistant's broker user ``ha-<account id>`` reads only its account's discovery and
state topics and publishes only its command topics (BrokerAccounts for the embedded broker, the ACL file
for Mosquitto); the Mosquitto behaviour itself is exercised end to end in test_homeassistant.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from vakt.broker.accounts import (
    BrokerAccounts,
    IntegrationAccount,
    hash_password,
    topic_matches,
    topic_overlaps,
)
from vakt.broker.mosquitto import render_acl, render_password_file
from vakt.hub.integrations import homeassistant as ha


def _accounts() -> BrokerAccounts:
    accounts = BrokerAccounts.create("hub-secret")
    accounts.set_device("VL0001", "device-secret")
    read, write = ha.broker_filters(7)
    accounts.integrations = [
        IntegrationAccount(username="ha-7", password_hash=hash_password("ha-secret"), read=read, write=write)
    ]
    return accounts


@pytest.mark.parametrize(
    ("pattern", "topic", "matches"),
    [
        ("homeassistant/+/vakt_a7/#", "homeassistant/lock/vakt_a7/VL1_lock/config", True),
        ("homeassistant/+/vakt_a7/#", "homeassistant/lock/vakt_a8/VL1_lock/config", False),
        ("homeassistant/+/vakt_a7/#", "homeassistant/#", False),  # a wider filter is not covered
        ("vakt/ha/7/+/+/set", "vakt/ha/7/VL1/lock/set", True),
        ("vakt/ha/7/+/+/set", "vakt/ha/7/VL1/lock/state", False),
        ("vakt/ha/7/+/+/set", "vakt/ha/7/+/lock/set", True),
        ("a/b", "a/+", False),
    ],
)
def test_topic_matches(pattern: str, topic: str, matches: bool) -> None:
    assert topic_matches(pattern, topic) is matches


def test_topic_overlaps() -> None:
    assert topic_overlaps("homeassistant/+/vakt_a7/#", "homeassistant/#")
    assert topic_overlaps("vakt/ha/7/#", "vakt/ha/+/VL1/lock/state")
    assert not topic_overlaps("vakt/ha/7/#", "vakt/ha/8/#")
    assert not topic_overlaps("vakt/ha/7/#", "vakt/v1/#")


def test_v3_ha_user_limited_to_its_account() -> None:
    accounts = _accounts()
    assert accounts.authenticate("ha-7", "ha-secret")
    assert not accounts.authenticate("ha-7", "hub-secret")
    may = accounts.may_access
    assert may("ha-7", "homeassistant/lock/vakt_a7/VL0001_lock/config")
    assert may("ha-7", "homeassistant/#")  # HA's discovery subscription; each message checked on delivery
    assert may("ha-7", "vakt/ha/7/VL0001/lock/set")
    assert not may("ha-7", "homeassistant/lock/vakt_a8/VL0002_lock/config")  # another account's entity
    assert not may("ha-7", "vakt/ha/8/VL0002/lock/set")
    assert not may("ha-7", "vakt/v1/VL0001/cmd")  # never the devices' own topics
    assert not may("ha-7", "vakt/hub/bus")
    assert not may("ha-7", "$SYS/broker/clients")


def test_v3_ha_user_cannot_take_a_device_or_hub_client_id() -> None:
    accounts = _accounts()
    assert accounts.connect_refusal("ha-7", "ha-secret", "home-assistant-1", None) is None
    assert accounts.connect_refusal("ha-7", "ha-secret", "vakt-hub-0123", None) is not None
    assert accounts.connect_refusal("ha-7", "ha-secret", "VL0001", None) is not None
    assert accounts.connect_refusal("ha-7", "ha-secret", "x", "vakt/v1/VL0001/availability") is not None


def test_v3_mosquitto_acl_splits_read_and_write() -> None:
    accounts = _accounts()
    acl = render_acl(accounts).split("\n\n")
    block = next(b for b in acl if b.startswith("user ha-7"))
    assert block.splitlines() == [
        "user ha-7",
        "topic read homeassistant/+/vakt_a7/#",
        "topic read vakt/ha/7/#",
        "topic read homeassistant/status",
        "topic write vakt/ha/7/+/+/set",
        "topic write homeassistant/status",
    ]
    assert any(line.startswith("ha-7:$7$") for line in render_password_file(accounts).splitlines())


def test_v3_integrations_survive_the_accounts_file(tmp_path: Path) -> None:
    accounts = _accounts()
    path = tmp_path / "accounts.json"
    accounts.save(path)
    assert BrokerAccounts.load(path).integrations == accounts.integrations
