"""Google Smart Home (C11, V2): SYNC, QUERY and EXECUTE answers, and the Home Graph calls.

Locks are ``action.devices.types.LOCK`` with ``LockUnlock``; an unlock asks for the account's
remote-unlock PIN through Google's two-factor challenge (``pinNeeded``, ``challengeFailedPinNeeded``).
Cameras are ``action.devices.types.CAMERA`` with ``CameraStream``; Google shows a camera only with its
audio on (C11.2), and never one with Image Encryption on (C11.1).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx

from vakt.hub.devices import summarize_state
from vakt.hub.integrations import audio_on, display_name, is_exposed
from vakt.hub.integrations.alexa import JAMMED_ALARMS
from vakt.hub.integrations.alexa_events import destinations
from vakt.hub.models.devices import Device
from vakt.hub.outbound import RefusedDestination
from vakt.hub.permissions import DeviceAccess
from vakt.hub.settings import HubSettings

log = logging.getLogger(__name__)
LOCK = "action.devices.types.LOCK"
CAMERA = "action.devices.types.CAMERA"
LOCK_UNLOCK = "action.devices.traits.LockUnlock"
CAMERA_STREAM = "action.devices.traits.CameraStream"
TIMEOUT_S = 10.0


def google_exposed(access: DeviceAccess) -> bool:
    """The shared rule (vakt.hub.integrations.is_exposed), and Google's own: a camera needs its audio."""
    return is_exposed(access) and (access.device.kind != "camera" or audio_on(access.device))


def device_id(device: Device) -> str:
    return f"vakt-{device.id}"


def number_of(google_id: Any) -> int | None:
    text = str(google_id or "")
    number = text.removeprefix("vakt-")
    return int(number) if text.startswith("vakt-") and number.isdigit() and len(number) < 10 else None


def sync_device(device: Device) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": device_id(device),
        "name": {"name": display_name(device)},
        "willReportState": device.kind == "lock",
        "deviceInfo": {"manufacturer": "vakt", "model": device.model or device.kind},
    }
    if device.kind == "lock":
        out |= {"type": LOCK, "traits": [LOCK_UNLOCK]}
    else:
        out |= {
            "type": CAMERA,
            "traits": [CAMERA_STREAM],
            "attributes": {
                "cameraStreamSupportedProtocols": ["hls"],
                "cameraStreamNeedAuthToken": False,
            },
        }
    return out


def states(device: Device) -> dict[str, Any]:
    """QUERY / Report State: online, and for a lock isLocked / isJammed."""
    out: dict[str, Any] = {"online": device.online, "status": "SUCCESS"}
    if device.kind == "lock":
        _, locked, alarms, _ = summarize_state(device.state or {})
        out |= {"isLocked": bool(locked), "isJammed": bool(JAMMED_ALARMS & set(alarms))}
    return out


async def _home_graph(settings: HubSettings, url: str, body: dict[str, Any]) -> bool:
    if settings.google_api_token is None:
        log.debug("no VAKT_GOOGLE_API_TOKEN: Home Graph call to %s skipped", url)
        return False
    token = settings.google_api_token.get_secret_value()
    try:
        await destinations(settings).check_webhook(url)
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            r = await client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    except (RefusedDestination, httpx.HTTPError) as exc:
        log.warning("Google Home Graph call not sent: %s", exc)
        return False
    if r.status_code >= 300:
        log.warning("Google Home Graph answered %d to %s", r.status_code, url)
        return False
    return True


async def request_sync(settings: HubSettings, user_id: int) -> bool:
    """Ask Google to SYNC again (a device renamed, added or no longer exposed, C11.2)."""
    return await _home_graph(settings, settings.google_request_sync_url, {"agentUserId": str(user_id)})


async def report_state(settings: HubSettings, user_id: int, devices: list[Device]) -> bool:
    body = {
        "requestId": str(uuid.uuid4()),
        "agentUserId": str(user_id),
        "payload": {
            "devices": {
                "states": {
                    device_id(d): {k: v for k, v in states(d).items() if k != "status"} for d in devices
                }
            }
        },
    }
    return await _home_graph(settings, settings.google_report_state_url, body)
