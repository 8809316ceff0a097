"""ORM models, one module per area; importing this package registers the core tables on Base."""

from vakt.hub.models import (
    alerts,  # noqa: F401  (alerts area: person events, notifications)
    cameras,  # noqa: F401  (cameras area: streams, segments, gaps)
    dead_letters,  # noqa: F401  (ingest: device messages that can never be stored)
    homeassistant,  # noqa: F401  (Home Assistant links, V3)
    integrations,  # noqa: F401  (voice assistants: OAuth clients, codes, tokens)
)
from vakt.hub.models.devices import Device, DeviceEvent, Share
from vakt.hub.models.locks import LockCredential
from vakt.hub.models.users import AuthSession, User

__all__ = ["AuthSession", "Device", "DeviceEvent", "LockCredential", "Share", "User"]
