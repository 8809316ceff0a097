"""Alexa Smart Home API v3 (C11, V1): directives in, responses and proactive events out.

Locks are SMARTLOCK endpoints with ``Alexa.LockController`` (and ``Alexa.DoorbellEventSource``: the
lock's bell, L13.1); cameras are CAMERA endpoints with ``Alexa.CameraStreamController`` (RTSP, H.264 +
AAC). Every endpoint reports ``Alexa.EndpointHealth``. Messages follow Amazon's published schema; the
tests validate each one against it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from vakt.hub.db import utcnow
from vakt.hub.devices import summarize_state
from vakt.hub.integrations import display_name
from vakt.hub.models.devices import Device

PAYLOAD_VERSION = "3"
MANUFACTURER = "vakt"
STREAM_TTL = timedelta(minutes=5)  # how long an InitializeCameraStreams URL is offered for
JAMMED_ALARMS = frozenset({"LockJammed"})


def instant(moment: datetime | None = None) -> str:
    """Alexa's timestamps: UTC, ISO 8601 with a Z."""
    return (moment or utcnow()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def endpoint_id(device: Device) -> str:
    return f"vakt-{device.id}"


def device_id_of(endpoint: str) -> int | None:
    number = endpoint.removeprefix("vakt-")
    return int(number) if endpoint.startswith("vakt-") and number.isdigit() and len(number) < 10 else None


def header(namespace: str, name: str, correlation_token: str | None = None) -> dict[str, Any]:
    out = {
        "namespace": namespace,
        "name": name,
        "payloadVersion": PAYLOAD_VERSION,
        "messageId": str(uuid.uuid4()),
    }
    if correlation_token:
        out["correlationToken"] = correlation_token
    return out


# -- discovery --------------------------------------------------------------------------------------------
def _interface(interface: str, supported: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    capability: dict[str, Any] = {"type": "AlexaInterface", "interface": interface, "version": "3"}
    if supported is not None:
        capability["properties"] = {
            "supported": [{"name": name} for name in supported],
            "proactivelyReported": True,
            "retrievable": True,
        }
    return capability | extra


def discovery_endpoint(device: Device) -> dict[str, Any]:
    capabilities = [_interface("Alexa"), _interface("Alexa.EndpointHealth", ["connectivity"])]
    if device.kind == "lock":
        categories = ["SMARTLOCK"]
        capabilities.append(_interface("Alexa.LockController", ["lockState"]))
        capabilities.append(_interface("Alexa.DoorbellEventSource", proactivelyReported=True))
        description = "vakt fingerprint lock"
    else:
        categories = ["CAMERA"]
        capabilities.append(
            _interface(
                "Alexa.CameraStreamController",
                cameraStreamConfigurations=[
                    {
                        "protocols": ["RTSP"],
                        "resolutions": [{"width": 1920, "height": 1080}],
                        "authorizationTypes": ["BASIC"],
                        "videoCodecs": ["H264"],
                        "audioCodecs": ["AAC"],
                    }
                ],
            )
        )
        description = "vakt camera"
    return {
        "endpointId": endpoint_id(device),
        "manufacturerName": MANUFACTURER,
        "description": f"{description} {device.model}".strip()[:128],
        "friendlyName": display_name(device)[:128],
        "displayCategories": categories,
        "cookie": {},
        "capabilities": capabilities,
    }


def discover_response(devices: list[Device]) -> dict[str, Any]:
    return {
        "event": {
            "header": header("Alexa.Discovery", "Discover.Response"),
            "payload": {"endpoints": [discovery_endpoint(d) for d in devices]},
        }
    }


def add_or_update_report(devices: list[Device], token: str) -> dict[str, Any]:
    """A renamed device (C11.2: Alexa must discover it again): sent to the event gateway."""
    return {
        "event": {
            "header": header("Alexa.Discovery", "AddOrUpdateReport"),
            "payload": {
                "endpoints": [discovery_endpoint(d) for d in devices],
                "scope": {"type": "BearerToken", "token": token},
            },
        }
    }


def delete_report(device: Device, token: str) -> dict[str, Any]:
    """A device no longer exposed (Image Encryption turned on, C11.1): Alexa forgets the endpoint.
    (Amazon's published message schema has no DeleteReport; this follows its documentation.)"""
    return {
        "event": {
            "header": header("Alexa.Discovery", "DeleteReport"),
            "payload": {
                "endpoints": [{"endpointId": endpoint_id(device)}],
                "scope": {"type": "BearerToken", "token": token},
            },
        }
    }


# -- state ------------------------------------------------------------------------------------------------
def lock_state(device: Device) -> str:
    return lock_state_of(device.state or {})


def lock_state_of(state: dict[str, Any]) -> str:
    """LOCKED / UNLOCKED / JAMMED (Alexa.LockController) from the lock's retained state."""
    _, locked, alarms, _ = summarize_state(state)
    if JAMMED_ALARMS & set(alarms):
        return "JAMMED"
    return "LOCKED" if locked else "UNLOCKED"


def properties(device: Device, lock_value: str | None = None) -> list[dict[str, Any]]:
    sampled = instant(device.last_seen_at)
    found = [
        {
            "namespace": "Alexa.EndpointHealth",
            "name": "connectivity",
            "value": {"value": "OK" if device.online else "UNREACHABLE"},
            "timeOfSample": sampled,
            "uncertaintyInMilliseconds": 0,
        }
    ]
    if device.kind == "lock":
        found.append(
            {
                "namespace": "Alexa.LockController",
                "name": "lockState",
                "value": lock_value or lock_state(device),
                "timeOfSample": sampled,
                "uncertaintyInMilliseconds": 0,
            }
        )
    return found


def _endpoint(device: Device, token: str) -> dict[str, Any]:
    return {"scope": {"type": "BearerToken", "token": token}, "endpointId": endpoint_id(device)}


def response(
    device: Device, token: str, correlation_token: str | None, lock_value: str | None = None
) -> dict[str, Any]:
    """``Alexa.Response`` with the device's state in the context (after Lock/Unlock: the new one)."""
    return {
        "event": {
            "header": header("Alexa", "Response", correlation_token),
            "endpoint": _endpoint(device, token),
            "payload": {},
        },
        "context": {"properties": properties(device, lock_value)},
    }


def state_report(device: Device, token: str, correlation_token: str | None) -> dict[str, Any]:
    return {
        "event": {
            "header": header("Alexa", "StateReport", correlation_token),
            "endpoint": _endpoint(device, token),
            "payload": {},
        },
        "context": {"properties": properties(device)},
    }


def change_report(device: Device, token: str, changed: list[str], cause: str) -> dict[str, Any]:
    """A proactive ChangeReport: ``changed`` property names, the others in the context."""
    everything = properties(device)
    return {
        "event": {
            "header": header("Alexa", "ChangeReport"),
            "endpoint": _endpoint(device, token),
            "payload": {
                "change": {
                    "cause": {"type": cause},
                    "properties": [p for p in everything if p["name"] in changed],
                }
            },
        },
        "context": {"properties": [p for p in everything if p["name"] not in changed]},
    }


def doorbell_press(device: Device, token: str, at: datetime) -> dict[str, Any]:
    return {
        "event": {
            "header": header("Alexa.DoorbellEventSource", "DoorbellPress"),
            "endpoint": _endpoint(device, token),
            "payload": {"cause": {"type": "PHYSICAL_INTERACTION"}, "timestamp": instant(at)},
        },
        "context": {},
    }


def camera_streams(
    device: Device, token: str, correlation_token: str | None, uri: str, image_uri: str | None
) -> dict[str, Any]:
    stream = {
        "uri": uri,
        "expirationTime": instant(utcnow() + STREAM_TTL),
        "idleTimeoutSeconds": 30,
        "protocol": "RTSP",
        "resolution": {"width": 1920, "height": 1080},
        "authorizationType": "BASIC",
        "videoCodec": "H264",
        "audioCodec": "AAC",
    }
    payload: dict[str, Any] = {"cameraStreams": [stream]}
    if image_uri:
        payload["imageUri"] = image_uri
    return {
        "event": {
            "header": header("Alexa.CameraStreamController", "Response", correlation_token),
            "endpoint": _endpoint(device, token),
            "payload": payload,
        }
    }


def accept_grant_response(correlation_token: str | None = None) -> dict[str, Any]:
    return {"event": {"header": header("Alexa.Authorization", "AcceptGrant.Response"), "payload": {}}}


# -- errors -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AlexaError:
    """An ``Alexa.ErrorResponse`` type (Alexa's own vocabulary) and the words for it."""

    type: str
    message: str
    namespace: str = "Alexa"


def error_response(
    error: AlexaError, correlation_token: str | None, endpoint: dict[str, Any] | None = None
) -> dict[str, Any]:
    name = "ErrorResponse"
    event: dict[str, Any] = {
        "header": header(error.namespace, name, correlation_token),
        "payload": {"type": error.type, "message": error.message[:1000]},
    }
    if endpoint is not None:
        event["endpoint"] = endpoint
    return {"event": event}
