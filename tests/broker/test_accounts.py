"""BrokerAccounts: the one source of the broker's users and ACL."""

from __future__ import annotations

from pathlib import Path

import pytest

from vakt.broker import BrokerAccounts
from vakt.broker.mosquitto import render_acl, render_password_file


def test_accounts_save_atomically_and_load_back(tmp_path: Path) -> None:
    accounts = BrokerAccounts.create("hubpw")
    accounts.set_device("GW1", "pw1", relayed=["LK1"])
    path = tmp_path / "accounts.json"
    accounts.save(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600" and "pw1" not in path.read_text()
    loaded = BrokerAccounts.load(path)
    assert loaded == accounts and loaded.authenticate("GW1", "pw1") and not loaded.authenticate("GW1", "x")


def test_relay_and_removal_keep_the_acl_consistent() -> None:
    accounts = BrokerAccounts.create("hubpw")
    accounts.set_device("GW1", "pw1")
    accounts.set_device("LK1", "pw2")
    accounts.allow_relay("GW1", "LK1")
    assert accounts.may_access("GW1", "vakt/v1/LK1/event") and not accounts.may_access("LK1", "vakt/v1/GW1/x")
    accounts.remove_device("LK1")
    assert accounts.device("GW1").serials == ["GW1"]  # type: ignore[union-attr]
    assert "LK1" not in render_acl(accounts) and "LK1" not in render_password_file(accounts)
    with pytest.raises(KeyError):
        accounts.allow_relay("NOPE", "LK1")
    with pytest.raises(ValueError, match="invalid device serial"):
        accounts.set_device("GW/2", "pw")
    with pytest.raises(ValueError, match="clashes with the hub"):
        accounts.set_device("hub", "pw")


@pytest.mark.parametrize(
    "topic",
    [
        "vakt/v1/GW1",
        "vakt/v1/+/event",
        "vakt/v1/#",
        "#",
        "vakt/v2/GW1/event",
        "$SYS/broker/uptime",
        "vakt/v1/GW1X/event",
    ],
)
def test_device_filters_outside_its_own_tree_are_denied(topic: str) -> None:
    accounts = BrokerAccounts.create("hubpw")
    accounts.set_device("GW1", "pw1")
    assert not accounts.may_access("GW1", topic)
    assert accounts.may_access("GW1", "vakt/v1/GW1/#") and accounts.may_access("hub", "vakt/v1/#")
    assert not accounts.may_access(None, "vakt/v1/GW1/state") and not accounts.may_access("hub", "$SYS/x")
