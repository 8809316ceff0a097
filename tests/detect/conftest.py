"""Detection test fixtures: the shared model and footage, decoded in short ranges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vakt.detect.video import iter_frames


@pytest.fixture(scope="session")
def model_path(assets: Path) -> Path:
    path = assets / "models" / "yolox_nano" / "yolox_nano_416x416.onnx"
    if not path.is_file():
        pytest.skip(f"YOLOX-nano model not found at {path}")
    return path


def frames(video: Path, start: int, stop: int) -> list[tuple[np.ndarray, float]]:
    """Frames ``start``..``stop - 1`` (0-based) of ``video`` with their pts."""
    out = []
    for k, item in enumerate(iter_frames(video)):
        if k >= stop:
            break
        if k >= start:
            out.append(item)
    return out
