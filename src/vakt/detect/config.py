"""Detection settings as typed, bounded models, and what the sensitivity (C8.2) means in numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field

DEFAULT_SENSITIVITY = 50


class OnnxYoloxConfig(BaseModel):
    """A YOLOX-family person model run with ONNX Runtime on the CPU."""

    type: Literal["onnx_yolox"] = "onnx_yolox"
    model_path: Path = Field(title="Model file", description="YOLOX ONNX model (COCO or person-only)")
    threads: int = Field(
        1, ge=1, le=8, title="Inference threads", description="ONNX Runtime intra-op threads"
    )
    nms_iou: float = Field(0.45, gt=0, lt=1, title="NMS IoU", description="overlap above which boxes merge")


class NoDetectorConfig(BaseModel):
    """No person model: alerts come from motion alone."""

    type: Literal["none"] = "none"


DetectorConfig = Annotated[OnnxYoloxConfig | NoDetectorConfig, Field(discriminator="type")]


class DetectConfig(BaseModel):
    """How one camera's video is analysed."""

    detector: DetectorConfig = Field(default_factory=NoDetectorConfig)
    sensitivity: int = Field(
        DEFAULT_SENSITIVITY,
        ge=1,
        le=100,
        title="Detection sensitivity",
        description="C8.2: higher finds smaller, farther people; lower gives fewer false alarms",
    )
    fps: float = Field(5.0, gt=0, le=30, title="Analysis rate", description="frames per second analysed live")
    tracking_fps: float = Field(
        1.0,
        gt=0,
        le=30,
        title="Tracking rate",
        description="detector runs per second while every moving thing is already a tracked person",
    )
    all_frames: bool = Field(
        False,
        title="Analyse every frame",
        description="run the detector on every full frame (accuracy); off: reduced rate, motion gating",
    )
    event_end_after: float = Field(
        5.0,
        gt=0,
        le=300,
        title="Event end",
        description="seconds without a person after which a person event ends",
    )
    snapshot_quality: int = Field(85, ge=10, le=100, title="Snapshot JPEG quality")


@dataclass(frozen=True)
class Tuning:
    """The numbers behind one sensitivity value (C8.2)."""

    score_threshold: float  # minimum detector score for a person
    min_person_area: float  # smallest person box, as a fraction of the frame area
    motion_threshold: int  # grey-level change that counts as motion
    min_motion_area: float  # smallest moving blob, as a fraction of the motion frame area
    motion_width: int  # width of the grey frame motion is computed on
    region_side: float  # smallest crop around motion, as a fraction of the frame's short side

    @classmethod
    def for_sensitivity(cls, sensitivity: int) -> Tuning:
        """Higher sensitivity: lower score threshold, smaller people and blobs, finer motion frame."""
        if not 1 <= sensitivity <= 100:
            raise ValueError(f"sensitivity must be 1-100, got {sensitivity}")
        t = (sensitivity - 1) / 99

        def geometric(lo: float, hi: float) -> float:
            return math.exp(math.log(lo) + t * (math.log(hi) - math.log(lo)))

        return cls(
            score_threshold=round(0.7 - 0.45 * t, 3),
            min_person_area=geometric(0.03, 0.0003),
            motion_threshold=round(40 - 25 * t),
            min_motion_area=geometric(0.01, 0.0003),
            motion_width=round(160 + 160 * t),
            # a smaller crop is enlarged more on its way into the model: farther people become visible
            region_side=0.6 - 0.3 * t,
        )
