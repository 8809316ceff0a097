"""Issue 11 item 5: schemathesis against a live hub, signed in as an owner with a gateway, a lock, cameras.

Its coverage, fuzzing and stateful phases run against the hub's own OpenAPI document; the run must find
no server error (5xx other than the declared 503/504 of an absent device) and no response that breaks the
document (status code, content type and body schema), so the document is the truth for the web app.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from tests.hub.conftest import PG_DSN, Hub, Mosquitto, hub_settings, label, postgres_url, running_hub

__all__ = ["postgres_url"]  # the session's PostgreSQL fixture
# Routes that end the fixture's own session or account: kept out of every phase, as the brief allows.
DESTRUCTIVE = (
    ("POST", "/api/auth/logout"),  # signs the fuzzer out
    ("DELETE", "/api/auth/sessions/{session_id}"),  # may revoke the fuzzer's own session
    ("DELETE", "/api/auth/me"),  # deletes the account (hardening's route, when merged)
)
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "ignored_auth",  # a route that declares sign-in refuses a request without it
)
EXAMPLES_PER_OPERATION = 8
# Fuzzing and stateful phases cycle with fresh cases until this budget is spent (suite budget: < 3 min).
RUN_BUDGET_S = 90
# The fixture's devices are not running: commands time out (504) and streams are absent (503), as declared.
DEVICE_ABSENT = (503, 504)


def _config(token: str) -> SchemathesisConfig:
    operations: list[dict[str, Any]] = [
        {"include-method": method, "include-path": path, "enabled": False} for method, path in DESTRUCTIVE
    ]
    return SchemathesisConfig.from_dict(
        {
            "seed": 11,
            "headers": {"Authorization": f"Bearer {token}"},
            "request-timeout": 20,
            "generation": {
                "max-examples": EXAMPLES_PER_OPERATION,
                "no-shrink": True,
                "deterministic": True,
                "allow-x00": True,  # NUL in every kind of text: PostgreSQL refuses it
            },
            "phases": {
                "examples": {"enabled": False},
                "coverage": {"enabled": True, "unexpected-methods": []},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": True, "max-steps": 6},
            },
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "operations": operations,
            "max-time": RUN_BUDGET_S,
        }
    )


def _run(url: str, token: str) -> tuple[list[str], Counter[str], list[str]]:
    """Run every phase; returns (failures, scenarios per phase, engine errors)."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", config=_config(token))
    schema.config.base_url = url
    failures: list[str] = []
    errors: list[str] = []
    phases: Counter[str] = Counter()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            phases[event.phase.value] += 1
            failures.extend(_failures(event))
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.value!r}"[:400])
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception!r}"[:400])
        elif isinstance(event, events.EngineFinished):
            phases[f"stop:{event.stop_reason.value}"] += 1
    return sorted(set(failures)), phases, errors


async def _run_apart(url: str, token: str) -> tuple[list[str], Counter[str], list[str]]:
    """schemathesis in its own interpreter: CPython 3.11 can fail compiling code in two threads at once
    (``SystemError: AST constructor recursion depth mismatch``), and the hub runs in this one."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)])}
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, url, token, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), RUN_BUDGET_S + 120)
    assert process.returncode == 0, f"the schemathesis process failed ({process.returncode})"
    result = json.loads(out.decode().strip().splitlines()[-1])
    return result["failures"], Counter(result["phases"]), result["errors"]


def _failures(event: events.ScenarioFinished) -> list[str]:
    found = []
    for case_id, nodes in event.recorder.checks.items():
        interaction = event.recorder.interactions.get(case_id)
        response = interaction.response if interaction else None
        request = f"{interaction.request.method} {interaction.request.uri}" if interaction else "?"
        for node in nodes:
            if node.status != Status.FAILURE or node.failure_info is None:
                continue
            if node.name == "not_a_server_error" and response and response.status_code in DEVICE_ABSENT:
                continue  # declared: the device did not answer (status_code_conformance still checks)
            failure = node.failure_info.failure
            found.append(f"[{node.name}] {request}: {failure.title}: {failure.message}"[:600])
    return found


@pytest.fixture
def fuzz_database(postgres_url: str) -> Iterator[str]:
    """PostgreSQL, the stricter of the two databases (32-bit ids, no NUL in text)."""
    name = f"{postgres_url.rsplit('/', 1)[1]}_fuzz_{secrets.token_hex(3)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(f"{PG_DSN}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    yield f"{postgres_url.rsplit('/', 1)[0]}/{name}"
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.slow
@pytest.mark.postgres
async def test_issue11_schemathesis_finds_no_server_error_and_no_schema_violation(
    tmp_path: Path, mosquitto: Mosquitto, fuzz_database: str
) -> None:
    settings = hub_settings(tmp_path, mosquitto, database_url=fuzz_database, command_timeout_s=0.3)
    async with running_hub(settings, mosquitto) as hub:
        token = await _owner_with_devices(hub)
        started = time.monotonic()
        failures, phases, errors = await _run_apart(hub.url, token)
        elapsed = time.monotonic() - started
        async with hub.client(token) as c:  # the fixture's session survived the run
            assert (await c.get("/api/auth/me")).status_code == 200
    print(f"schemathesis: {elapsed:.0f} s, scenarios per phase {dict(phases)}")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:400])
    assert not errors, "\n".join(errors)
    for phase in ("coverage", "fuzzing", "stateful"):
        assert phases[phase] > 0, f"phase {phase} did not run: {dict(phases)}"
    assert elapsed < RUN_BUDGET_S + 60, f"the run took {elapsed:.0f} s"


async def _owner_with_devices(hub: Hub) -> str:
    """An owner with a gateway, its lock, an MQTT camera and an RTSP camera (nothing answers: 504/503)."""
    _, token = await hub.user("owner")
    gateway = await hub.add_device(token, label("gateway"), name="Hall gateway")
    await hub.add_device(token, label("lock"), name="Front door", gateway_id=gateway["id"])
    await hub.add_device(token, label("camera"), name="Porch")
    async with hub.client(token) as c:
        r = await c.post("/api/cameras", json={"name": "Garage", "url": "rtsp://127.0.0.1:9/live"})
        assert r.status_code == 201, r.text
    return token


if __name__ == "__main__":  # the schemathesis process started by _run_apart
    found, counts, problems = _run(sys.argv[1], sys.argv[2])
    print(json.dumps({"failures": found, "phases": counts, "errors": problems}))
