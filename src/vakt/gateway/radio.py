"""The short-range radio link between the gateway and a lock (G6), deterministic for a given seed.

RSSI follows a log-distance path-loss model with a loss per wall and per metal obstacle; each frame
is lost with a probability that rises steeply as RSSI nears the receiver's sensitivity, and a
message is retried up to ``retries`` times before it counts as lost.
"""

from __future__ import annotations

import math
import random

from pydantic import BaseModel, Field

TX_AT_1M_DBM = -40.0  # (chosen) RSSI at one metre, free space
PATH_LOSS_EXPONENT = 2.7  # (chosen) indoor
WALL_LOSS_DB = 6.0  # (chosen) one interior wall
METAL_LOSS_DB = 15.0  # (chosen) one metal obstacle (G6: "no metal in between")
SENSITIVITY_DBM = -90.0  # (chosen) where half the frames are lost
LOSS_SLOPE_DB = 2.5


class Placement(BaseModel):
    """Where the lock is relative to the gateway (G6)."""

    distance_m: float = Field(3.0, gt=0, le=200, description="metres between the gateway and the lock")
    walls: int = Field(0, ge=0, le=20, description="walls in between")
    metal: int = Field(0, ge=0, le=20, description="metal obstacles in between")


class LinkStats(BaseModel):
    rssi_dbm: float
    frame_loss: float = Field(description="probability that one frame is lost")
    messages: int = 0
    frames: int = 0
    retries: int = 0
    lost_frames: int = 0
    lost_messages: int = 0


class RadioLink:
    def __init__(self, placement: Placement | None = None, *, seed: int = 0, retries: int = 3) -> None:
        self._rng = random.Random(seed)
        self.retries = retries
        self.placement = placement or Placement()
        self.stats = LinkStats(rssi_dbm=self.mean_rssi(), frame_loss=self.frame_loss())

    def place(self, placement: Placement) -> None:
        self.placement = placement
        self.stats = self.stats.model_copy(
            update={"rssi_dbm": self.mean_rssi(), "frame_loss": self.frame_loss()}
        )

    def mean_rssi(self) -> float:
        p = self.placement
        path = 10 * PATH_LOSS_EXPONENT * math.log10(max(p.distance_m, 0.1))
        return round(TX_AT_1M_DBM - path - p.walls * WALL_LOSS_DB - p.metal * METAL_LOSS_DB, 1)

    def frame_loss(self, rssi: float | None = None) -> float:
        rssi = self.mean_rssi() if rssi is None else rssi
        return 1.0 / (1.0 + math.exp((rssi - SENSITIVITY_DBM) / LOSS_SLOPE_DB))

    def transmit(self) -> bool:
        """Send one message over the link with retries; True when it got through."""
        s = self.stats
        s.messages += 1
        for attempt in range(self.retries + 1):
            s.frames += 1
            rssi = self.mean_rssi() + self._rng.gauss(0.0, 2.0)  # fading
            s.rssi_dbm = round(0.8 * s.rssi_dbm + 0.2 * rssi, 1)
            if self._rng.random() >= self.frame_loss(rssi):
                s.retries += attempt
                return True
            s.lost_frames += 1
        s.retries += self.retries
        s.lost_messages += 1
        return False
