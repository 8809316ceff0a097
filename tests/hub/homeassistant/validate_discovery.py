"""Run with Home Assistant's Python: validate discovery payloads with HA's own MQTT discovery schemas.

stdin: a JSON list of {"topic": ..., "payload": {...}}; stdout: a JSON list of {"topic", "error",
"dropped"} (``dropped``: keys this HA version's schema silently removes, i.e. does not know).
Mirrors homeassistant/components/mqtt/discovery.py: abbreviations expanded, origin validated, then the
platform's DISCOVERY_SCHEMA (voluptuous) applied.
"""

from __future__ import annotations

import importlib
import json
import sys

from homeassistant.components.mqtt.abbreviations import ABBREVIATIONS, DEVICE_ABBREVIATIONS
from homeassistant.components.mqtt.mixins import MQTT_ORIGIN_INFO_SCHEMA
from homeassistant.const import __version__


def main() -> None:
    results = []
    for item in json.load(sys.stdin):
        topic, payload = item["topic"], dict(item["payload"])
        component = topic.split("/")[1]
        payload = {ABBREVIATIONS.get(k, k): v for k, v in payload.items()}
        if "device" in payload:
            payload["device"] = {DEVICE_ABBREVIATIONS.get(k, k): v for k, v in payload["device"].items()}
        error = None
        dropped: list[str] = []
        try:
            if "origin" in payload:
                MQTT_ORIGIN_INFO_SCHEMA(payload["origin"])
            module = importlib.import_module(f"homeassistant.components.mqtt.{component}")
            validated = module.DISCOVERY_SCHEMA(dict(payload))
            dropped = sorted(set(payload) - set(validated))
        except Exception as exc:  # voluptuous.Invalid and friends: report, do not stop
            error = f"{type(exc).__name__}: {exc}"
        results.append({"topic": topic, "error": error, "dropped": dropped})
    json.dump({"version": __version__, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
