"""X4: what a detection does in each arming mode. Pure decisions, documented in docs/detection.md.

- Away: person -> notify + active defense on every camera.
- Sleep: person -> notify; active defense on outdoor cameras only (a camera whose location says indoor
  does not sound the siren inside the house at night).
- Home: person detections are kept in the history but neither notify nor trigger defense.
Motion alone (no person model) notifies like a person but never sounds the siren: light, trees and
animals move too.
Lock alarms (tamper, lockout, forced entry, jammed), low battery, doorbell and offline notify in every mode;
X2 alarms (lockout, tamper, forced entry) also record on the owner's cameras, and sound active defense
unless the home is in Home mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vakt.hub.models.alerts import ArmingMode, NotificationKind

X2_ALARMS = frozenset({NotificationKind.LOCKOUT, NotificationKind.TAMPER, NotificationKind.FORCED_ENTRY})


@dataclass(frozen=True)
class Decision:
    notify: bool
    defend: bool
    record: bool = False


def is_outdoor(camera_state: dict[str, Any]) -> bool:
    """The camera of the manual is an outdoor camera; its About location can say otherwise."""
    location = str((camera_state.get("settings") or {}).get("location") or "").lower()
    return not any(word in location for word in ("indoor", "inside", "living", "bedroom", "hall"))


def decide(mode: ArmingMode, kind: NotificationKind, outdoor: bool = True) -> Decision:
    if kind is NotificationKind.MOTION:
        return Decision(notify=mode is not ArmingMode.HOME, defend=False, record=True)
    if kind is NotificationKind.PERSON:
        if mode is ArmingMode.AWAY:
            return Decision(notify=True, defend=True, record=True)
        if mode is ArmingMode.SLEEP:
            return Decision(notify=True, defend=outdoor, record=True)
        return Decision(notify=False, defend=False, record=True)
    if kind in X2_ALARMS:
        return Decision(notify=True, defend=mode is not ArmingMode.HOME, record=True)
    return Decision(notify=True, defend=False)
