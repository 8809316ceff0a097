"""One vocabulary from firmware to screen (issue 15 item 17 and "Structure").

The web app's words for the lock come from one module keyed by the lock's own enums, with words for
every value; the hub compares lock events with those enums, never with retyped string literals.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from enum import StrEnum
from pathlib import Path

import pytest

from vakt.lock.events import EventType
from vakt.lock.types import (
    AlarmCode,
    CredentialType,
    DataOperationType,
    LockDataType,
    LockOperationType,
    OperatingMode,
    OperationError,
    OperationSource,
    Prompt,
    UserType,
)

SRC = Path(__file__).resolve().parents[2] / "src" / "vakt"
LABELS = SRC / "web" / "js" / "lock-labels.js"
TABLES: dict[str, type[StrEnum]] = {
    "ALARM": AlarmCode,
    "OPERATION_SOURCE": OperationSource,
    "OPERATION_ERROR": OperationError,
    "CREDENTIAL_TYPE": CredentialType,
    "LOCK_DATA_TYPE": LockDataType,
    "DATA_OPERATION": DataOperationType,
    "LOCK_OPERATION": LockOperationType,
    "USER_TYPE": UserType,
    "OPERATING_MODE": OperatingMode,
    "EVENT_TYPE": EventType,
    "PROMPT": Prompt,
}


def _js_tables() -> dict[str, dict[str, str]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the label tables are ES modules")
    script = f"const m = await import({json.dumps(LABELS.as_uri())}); console.log(JSON.stringify(m));"
    out = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    tables: dict[str, dict[str, str]] = json.loads(out.stdout)
    return tables


def test_every_lock_enum_value_has_words_in_the_web_app() -> None:
    tables = _js_tables()
    for name, enum in TABLES.items():
        values = {member.value for member in enum}
        assert set(tables[name]) == values, f"{name}: words missing for {values - set(tables[name])}"
        raw = [v for v in tables[name].values() if re.search(r"[a-z][A-Z]", v)]
        assert not raw, f"{name} shows raw enum names: {raw}"
    assert "Esceutcheon" not in tables["ALARM"]["FrontEsceutcheonRemoved"]  # the Matter typo stays inside


@pytest.mark.parametrize("module", ["hub/locks.py", "hub/alerts/device_alerts.py", "hub/routers/locks.py"])
def test_hub_compares_lock_events_with_the_lock_enums_not_string_literals(module: str) -> None:
    vocabulary = {
        m.value for enum in (EventType, AlarmCode, OperationSource) for m in enum if len(m.value) > 6
    }
    tree = ast.parse((SRC / module).read_text())
    literals = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in vocabulary
    }
    assert not literals, f"{module} retypes the lock's vocabulary as strings: {sorted(literals)}"
