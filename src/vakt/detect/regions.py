"""Where to run the detector: square crops around moving things, merged, or the whole frame."""

from __future__ import annotations

import numpy as np

from vakt.detect.types import Box, box_area

# a region this big a share of the frame is not worth cropping: analyse the whole frame
FULL_FRAME_SHARE = 0.5


def region_around(box: Box, frame_w: int, frame_h: int, min_side: int) -> Box:
    """A square around ``box`` with margin, at least ``min_side``, shifted to lie inside the frame."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = max(min_side, 1.3 * max(box[2] - box[0], box[3] - box[1]))
    side = min(side, frame_w, frame_h)
    x1 = min(max(0.0, cx - side / 2), frame_w - side)
    y1 = min(max(0.0, cy - side / 2), frame_h - side)
    return (x1, y1, x1 + side, y1 + side)


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def detection_regions(boxes: list[Box], frame_w: int, frame_h: int, min_side: int) -> list[tuple[int, ...]]:
    """Integer crop regions (x1, y1, x2, y2) covering ``boxes``; overlapping regions are merged."""
    regions = [region_around(b, frame_w, frame_h, min_side) for b in boxes]
    merged = True
    while merged:
        merged = False
        for i in range(len(regions)):
            for j in range(i + 1, len(regions)):
                if _overlaps(regions[i], regions[j]):
                    regions[i] = _union(regions[i], regions[j])
                    del regions[j]
                    merged = True
                    break
            if merged:
                break
    full = (0, 0, frame_w, frame_h)
    if sum(box_area(r) for r in regions) > FULL_FRAME_SHARE * frame_w * frame_h:
        return [full]
    return [(int(r[0]), int(r[1]), round(r[2]), round(r[3])) for r in regions]


def frame_tiles(frame_w: int, frame_h: int, share: float = 0.7) -> list[tuple[int, int, int, int]]:
    """The whole frame plus two overlapping tiles along its longer side (each ``share`` of it): the model
    sees the tiles enlarged, which finds people it misses at full-frame scale (accuracy runs)."""
    full = (0, 0, frame_w, frame_h)
    if frame_w >= frame_h:
        tw = round(frame_w * share)
        return [full, (0, 0, tw, frame_h), (frame_w - tw, 0, frame_w, frame_h)]
    th = round(frame_h * share)
    return [full, (0, 0, frame_w, th), (0, frame_h - th, frame_w, frame_h)]


def cut_by_region(
    boxes: np.ndarray, region: tuple[int, ...], frame_w: int, frame_h: int, edge: float = 4.0
) -> np.ndarray:
    """Which boxes (in frame pixels) touch an edge of ``region`` that is not the frame's: partial people."""
    x1, y1, x2, y2 = region
    cut = np.zeros(len(boxes), dtype=bool)
    if x1 > 0:
        cut |= boxes[:, 0] < x1 + edge
    if y1 > 0:
        cut |= boxes[:, 1] < y1 + edge
    if x2 < frame_w:
        cut |= boxes[:, 2] > x2 - edge
    if y2 < frame_h:
        cut |= boxes[:, 3] > y2 - edge
    return cut
