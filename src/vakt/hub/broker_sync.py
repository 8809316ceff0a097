"""Registering devices with the MQTT broker (A2): the hub's device table is the source of truth.

Each device account's password is derived from its verification code (vakt.protocol.credentials);
a gateway's account may also touch its paired locks' topics (G5). After every change the accounts are
rebuilt: the embedded broker reads the shared BrokerAccounts live, a JSON accounts file is rewritten,
Mosquitto's passwd/ACL files are regenerated and Mosquitto is told to reload (SIGHUP).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vakt.broker.accounts import BrokerAccounts, DeviceAccount, hash_password
from vakt.broker.mosquitto import reload_mosquitto, write_mosquitto_files
from vakt.hub.models.devices import Device
from vakt.hub.secretbox import SecretBox
from vakt.protocol import device_password

log = logging.getLogger(__name__)


class BrokerSync:
    def __init__(
        self,
        accounts: BrokerAccounts | None,
        box: SecretBox,
        accounts_file: Path | None = None,
        mosquitto_dir: Path | None = None,
        mosquitto_port: int = 1883,
        mosquitto_pid_file: Path | None = None,
    ) -> None:
        self.accounts = accounts
        self.box = box
        self.accounts_file = accounts_file
        self.mosquitto_dir = mosquitto_dir
        self.mosquitto_port = mosquitto_port
        self.mosquitto_pid_file = mosquitto_pid_file

    @property
    def enabled(self) -> bool:
        return self.accounts is not None

    async def sync(self, session: AsyncSession, claims: Mapping[str, str] | None = None) -> None:
        """Rebuild every device account from the database and publish the result to the broker.

        ``claims`` (serial -> verification code) are devices being added: their accounts use the claimed
        code, replacing any unproven claim's, until the device has proven it or failed (A2, issue 11).
        """
        if self.accounts is None:
            return
        claims = claims or {}
        devices = (await session.scalars(select(Device).order_by(Device.id))).all()
        children: dict[int, list[str]] = {}
        for device in devices:
            if device.parent_id is not None:
                children.setdefault(device.parent_id, []).append(device.serial)
        rebuilt = []
        for serial, code in claims.items():
            if serial not in {d.serial for d in devices}:
                rebuilt.append(_account(serial, code, []))
        for device in devices:
            if not device.code_encrypted:
                continue
            code = claims.get(device.serial) or self.box.decrypt(device.code_encrypted, device.serial)
            rebuilt.append(_account(device.serial, code, children.get(device.id, [])))
        self.accounts.devices = rebuilt  # one assignment: the embedded broker sees old or new, never half
        self.accounts.changed()  # the embedded broker disconnects clients whose login no longer holds
        self._publish(self.accounts)
        log.info("broker accounts rebuilt: %d devices", len(rebuilt))

    def refused_login_since(self, serial: str, since: float) -> bool:
        """Whether the broker saw ``serial`` log in with another password (only the embedded one can tell)."""
        return self.accounts is not None and self.accounts.refused_login_since(serial, since)

    def _publish(self, accounts: BrokerAccounts) -> None:
        if self.accounts_file is not None:
            accounts.save(self.accounts_file)
        if self.mosquitto_dir is not None:
            write_mosquitto_files(accounts, self.mosquitto_dir, self.mosquitto_port)
            if self.mosquitto_pid_file is not None and self.mosquitto_pid_file.exists():
                reload_mosquitto(int(self.mosquitto_pid_file.read_text().strip()))


def _account(serial: str, code: str, relayed: list[str]) -> DeviceAccount:
    password_hash = hash_password(device_password(code))
    return DeviceAccount(username=serial, password_hash=password_hash, serials=[serial, *relayed])
