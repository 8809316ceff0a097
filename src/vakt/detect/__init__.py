"""Person detection (C8): motion -> detector on moving regions -> tracker -> person events.

Pure classes behind small interfaces; the hub's per-camera analysis service, ``vakt analyze`` and
``bench/bench_detection.py`` all run the same :class:`~vakt.detect.pipeline.Pipeline`.
"""

from vakt.detect.config import DetectConfig, NoDetectorConfig, OnnxYoloxConfig, Tuning
from vakt.detect.pipeline import FrameResult, Pipeline
from vakt.detect.types import Box, Detection, PersonEvent

__all__ = [
    "Box",
    "DetectConfig",
    "Detection",
    "FrameResult",
    "NoDetectorConfig",
    "OnnxYoloxConfig",
    "PersonEvent",
    "Pipeline",
    "Tuning",
]
