"""Detector plugins, chosen by the ``type`` field of their config (see vakt.detect.config)."""

from vakt.detect.config import NoDetectorConfig, OnnxYoloxConfig
from vakt.detect.detectors.base import Detector, nms
from vakt.detect.detectors.none import MotionOnlyDetector
from vakt.detect.detectors.onnx_yolox import ModelError, OnnxYoloxDetector

__all__ = ["Detector", "ModelError", "MotionOnlyDetector", "OnnxYoloxDetector", "create_detector", "nms"]


def create_detector(config: OnnxYoloxConfig | NoDetectorConfig) -> Detector:
    """The detector plugin named by ``config.type``."""
    if isinstance(config, OnnxYoloxConfig):
        return OnnxYoloxDetector(config.model_path, threads=config.threads, nms_iou=config.nms_iou)
    return MotionOnlyDetector()
