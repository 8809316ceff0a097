"""Per-account webhook: the notification as JSON, signed ``X-Vakt-Signature: sha256=<HMAC of the body>``."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from vakt.hub.outbound import Destinations, RefusedDestination

SIGNATURE_HEADER = "X-Vakt-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post_webhook(
    url: str,
    secret: str,
    payload: dict[str, Any],
    timeout: float = 5.0,
    destinations: Destinations | None = None,
) -> str | None:
    """POST the payload; None when the receiver answered 2xx, else the error."""
    if destinations is not None:
        try:
            await destinations.check_webhook(url)
        except RefusedDestination as exc:
            return f"webhook refused: {exc}"[:250]
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)}
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"webhook failed: {exc}"[:250]
    if response.is_success:
        return None
    return f"webhook answered HTTP {response.status_code}"
