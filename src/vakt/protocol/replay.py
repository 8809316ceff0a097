"""A device's memory of the commands it answered recently: a repeat gets the stored Ack, never a second run.

The hub may deliver one command twice (its QoS 1 publish resent after a reconnect); a door must not
unlock twice for one tap. Kept in a small JSON file, replaced atomically after each command, so the
memory survives a restart of the device process.
"""

from __future__ import annotations

import json
import logging
import os
from collections import OrderedDict
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from vakt.protocol.messages import Ack

log = logging.getLogger(__name__)
_ACKS = TypeAdapter(list[Ack])


class CommandMemory:
    def __init__(self, size: int = 512, path: Path | None = None, kept_on_disk: int = 64) -> None:
        self._acks: OrderedDict[str, Ack] = OrderedDict()
        self._size = size
        self._path = path
        self._on_disk = kept_on_disk
        if path is not None and path.exists():
            try:
                for ack in _ACKS.validate_json(path.read_bytes()):
                    self._acks[ack.id] = ack
            except (OSError, ValidationError) as exc:
                log.error("command memory %s unreadable (%s); starting with an empty one", path, exc)

    def __contains__(self, command_id: str) -> bool:
        return command_id in self._acks

    def get(self, command_id: str) -> Ack | None:
        return self._acks.get(command_id)

    def remember(self, ack: Ack) -> None:
        self._acks[ack.id] = ack
        while len(self._acks) > self._size:
            self._acks.popitem(last=False)
        if self._path is not None:
            self._save(self._path)

    def _save(self, path: Path) -> None:
        recent = list(self._acks.values())[-self._on_disk :]
        tmp = path.with_suffix(path.suffix + ".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(json.dumps([a.model_dump(mode="json") for a in recent]).encode())
            os.replace(tmp, path)
        except OSError as exc:  # a full disk must not stop the device answering
            log.warning("command memory not saved (%s); repeats are still recognised until a restart", exc)
