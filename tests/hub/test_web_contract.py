"""The web app and the hub agree (issue 15, structure): every `/api/...` path the JS names, with the method
it calls it with, is one the hub serves (HTTP paths from its OpenAPI document, WebSockets from its routes).

A control that answers 404 or 405 because the JS asks for a route the hub never had fails here, without a
browser."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import APIWebSocketRoute

from vakt.hub.app import ROUTERS

WEB = Path(__file__).resolve().parents[2] / "src" / "vakt" / "web"
# A string or template literal that starts with /api/ (query strings and ${...} parts inside it).
LITERAL = re.compile(r"""(?P<q>[`"'])(?P<path>/api/[^`"'\s]*)(?P=q)""")
CALL = re.compile(r"""api\.(?P<verb>get|post|put|patch|del)\(\s*[`"'](?P<path>/api/[^`"'\s]*)[`"']""")
VERBS = {"get": "get", "post": "post", "put": "put", "patch": "patch", "del": "delete"}


def _normalise(js_path: str) -> str:
    """``/api/cameras/${d.id}/settings?x=${y}`` -> ``/api/cameras/{}/settings``."""
    path = re.sub(r"\$\{[^}]*\}", "{}", js_path).split("?", 1)[0]
    return re.sub(r"(?<=[^/])\{\}$", "", path)  # `${query}` glued to the last segment is a query string


def _pattern(template: str) -> re.Pattern[str]:
    """A hub path template as a regex that a normalised JS path (``{}`` for each variable part) matches."""
    variable = r"(?:\{\}|[^/]+)"
    parts = [variable if re.fullmatch(r"\{[^}]+\}", p) else re.escape(p) for p in template.split("/")]
    return re.compile("^" + "/".join(parts) + "$")


def _hub() -> tuple[dict[str, set[str]], list[str]]:
    app = FastAPI()
    for router in ROUTERS:
        app.include_router(router)
    openapi = app.openapi()
    http = {path: {m.lower() for m in ops} for path, ops in openapi["paths"].items()}
    sockets = [r.path for router in ROUTERS for r in router.routes if isinstance(r, APIWebSocketRoute)]
    return http, sockets


def _js_sources() -> dict[str, str]:
    files = [*sorted((WEB / "js").rglob("*.js")), WEB / "sw.js"]
    return {str(f.relative_to(WEB)): f.read_text(encoding="utf-8") for f in files}


def test_every_api_path_and_method_the_web_app_calls_is_served_by_the_hub() -> None:
    http, sockets = _hub()
    served = [(_pattern(p), methods) for p, methods in http.items()]
    socket_patterns = [_pattern(p) for p in sockets]
    seen = 0
    problems: list[str] = []
    for name, text in _js_sources().items():
        calls = {(m["path"], VERBS[m["verb"]]) for m in CALL.finditer(text)}
        for match in LITERAL.finditer(text):
            if match["path"].endswith("/"):
                continue  # a prefix the code tests paths against (startsWith), not a call
            seen += 1
            path = _normalise(match["path"])
            methods = {verb for js_path, verb in calls if js_path == match["path"]}
            found = [ms for pattern, ms in served if pattern.match(path)]
            if not found:
                if not any(p.match(path) for p in socket_patterns):
                    problems.append(f"{name}: {path} is not a hub route")
                continue
            for method in methods:
                if not any(method in ms for ms in found):
                    hub_has = sorted(found[0])
                    problems.append(f"{name}: {method.upper()} {path} is not served (hub has {hub_has})")
    assert seen > 40, f"only {seen} API paths found in the JS: the scan is broken"
    assert not problems, "\n".join(problems)


def test_the_contract_check_catches_a_wrong_method_and_an_unknown_path() -> None:
    """The check itself can fail: the old snapshot POST and the old Wi-Fi route are refused."""
    http, _ = _hub()
    served = [(_pattern(p), methods) for p, methods in http.items()]

    def methods(js_path: str) -> list[set[str]]:
        return [ms for pattern, ms in served if pattern.match(_normalise(js_path))]

    snapshot = methods("/api/cameras/${d.id}/snapshot")
    assert snapshot and all("post" not in ms for ms in snapshot)
    assert not methods("/api/cameras/${d.id}/wifi/offline")


def _typedef_fields(text: str, name: str) -> dict[str, set[str]]:
    """The field names of a JSDoc ``@typedef {{...}} Name``: top level under "", nested objects by key."""
    match = re.search(r"@typedef \{\{(?P<body>.*?)\}\} " + name + r"\b", text, re.S)
    assert match, f"no @typedef {name}"
    body = re.sub(r"\n\s*\*", " ", match["body"])
    fields: dict[str, set[str]] = {"": set()}
    depth, key, parent = 0, "", [""]
    for token in re.finditer(r"(\w+)\??:|\{|\}", body):
        if token[0] == "{":
            depth += 1
            parent.append(key)
            fields.setdefault(key, set())
        elif token[0] == "}":
            depth -= 1
            parent.pop()
        else:
            key = token[1]
            fields[parent[-1]].add(key)
    return fields


def test_device_state_reads_the_lock_state_the_gateway_relays(tmp_path: Path) -> None:
    """Issue 15 item 5: device-state.js reads one shape, written down as the LockState typedef; every field
    it names (and each field of battery, link, display) is in the state a real gateway relays for its lock."""
    from vakt.gateway.radio import RadioLink
    from vakt.gateway.relay import LockRelay

    relay = LockRelay("VL0000000001", "CODE123456", "VL-100", RadioLink(), tmp_path, lambda: 1000.0)
    state = relay.state()
    typedef = _typedef_fields((WEB / "js" / "device-state.js").read_text(encoding="utf-8"), "LockState")
    missing = sorted(k for k in typedef[""] if k not in state)
    for nested in ("battery", "link", "display"):
        missing += [f"{nested}.{k}" for k in sorted(typedef.get(nested, ())) if k not in state[nested]]
    assert typedef[""] >= {"motor", "battery", "alarms", "operating_mode", "link"}, typedef
    assert not missing, f"device-state.js reads fields the lock's state does not have: {missing}"
    assert state["motor"] in ("locked", "unlocked")
