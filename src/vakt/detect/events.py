"""Person events from tracked people: a start, an end after a quiet spell, the best snapshot (C8.1)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from vakt.detect.tracker import TrackedPerson
from vakt.detect.types import PersonEvent


@dataclass
class EventUpdate:
    """What changed on one frame: an event that started, one whose snapshot improved, one that ended."""

    started: PersonEvent | None = None
    improved: PersonEvent | None = None
    ended: list[PersonEvent] = field(default_factory=list)


class PersonEventBuilder:
    """Turns the people seen frame by frame into person events.

    An event starts when the first confirmed person appears (at the time that person was first seen)
    and ends ``end_after`` seconds after the last person was seen, its end being that last sighting.
    The snapshot is the frame with the highest-scoring detection, encoded when it is seen.
    """

    def __init__(
        self, end_after: float, encode: Callable[[np.ndarray], bytes], label: str = "person"
    ) -> None:
        self.end_after = end_after
        self.encode = encode
        self.label = label
        self.current: PersonEvent | None = None
        self._last_seen = 0.0

    def update(
        self,
        pts: float,
        people: list[TrackedPerson],
        frame: np.ndarray | None,
        first_seen: float | None = None,
    ) -> EventUpdate:
        """Feed the people at ``pts``; ``first_seen`` is when the earliest of them was first detected."""
        result = EventUpdate()
        event = self.current
        if event is not None and not people and pts - self._last_seen >= self.end_after:
            event.end = self._last_seen
            result.ended.append(event)
            self.current = event = None
        if not people:
            return result
        self._last_seen = pts
        if event is None:
            start = pts if first_seen is None else min(pts, first_seen)
            event = self.current = PersonEvent(start=start, label=self.label)
            result.started = event
        event.track_ids.update(p.track_id for p in people)
        observed = [p for p in people if not p.predicted]
        best = max(observed, key=lambda p: p.score, default=None)
        if best is not None and best.score > event.score and frame is not None:
            event.score = best.score
            event.box = best.box
            event.snapshot_pts = pts
            event.snapshot_jpeg = self.encode(frame)
            if result.started is None:
                result.improved = event
        return result

    def finish(self) -> PersonEvent | None:
        """Close the open event at the end of a stream."""
        event, self.current = self.current, None
        if event is not None:
            event.end = self._last_seen
        return event
