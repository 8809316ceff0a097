"""Weighted box fusion: one box per person from the detections of several views of the same frame.

Each view (the whole frame, an enlarged tile) has already been through its own NMS. Boxes of different
views that overlap enough are one person: their box is the score-weighted mean of theirs, and their score
the sum of their scores divided by the number of views that could see that box (those whose region holds
it whole). A person only one of two covering views found keeps half its score; one every view found
keeps the mean. Unlike NMS across views, this neither lets a lone, weak view's box through at full
strength nor suppresses a true neighbour that merely overlaps (people in a crowd)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vakt.detect.types import iou_matrix

# how far (pixels) a box may stick out of a view's region and still count as seen by it
INSIDE_TOLERANCE = 4.0


@dataclass(frozen=True)
class View:
    """One view's detections: boxes (N, 4) in frame pixels, scores (N,), and its region in the frame."""

    boxes: np.ndarray
    scores: np.ndarray
    region: tuple[int, int, int, int]


def _inside(box: np.ndarray, region: tuple[int, int, int, int]) -> bool:
    x1, y1, x2, y2 = region
    t = INSIDE_TOLERANCE
    return bool(box[0] >= x1 - t and box[1] >= y1 - t and box[2] <= x2 + t and box[3] <= y2 + t)


def weighted_box_fusion(views: list[View], iou_threshold: float = 0.55) -> tuple[np.ndarray, np.ndarray]:
    """Fused boxes (M, 4) and scores (M,), highest-scoring detections first. A cluster takes at most one
    box per view, so two people a view tells apart are never merged into one."""
    entries = [
        (float(s), vi, np.asarray(b, dtype=np.float64))
        for vi, view in enumerate(views)
        for b, s in zip(view.boxes, view.scores, strict=True)
    ]
    entries.sort(key=lambda e: -e[0])
    fused: list[np.ndarray] = []
    members: list[list[tuple[float, int, np.ndarray]]] = []
    for score, vi, box in entries:
        best, chosen = iou_threshold, -1
        if fused:
            ious = iou_matrix(np.array(fused), box[None])[:, 0]
            for ci in np.argsort(-ious):
                if ious[ci] <= best:
                    break
                if all(m[1] != vi for m in members[ci]):
                    chosen = int(ci)
                    break
        if chosen < 0:
            fused.append(box.copy())
            members.append([(score, vi, box)])
            continue
        members[chosen].append((score, vi, box))
        weights = np.array([m[0] for m in members[chosen]])
        stacked = np.array([m[2] for m in members[chosen]])
        fused[chosen] = (weights[:, None] * stacked).sum(axis=0) / weights.sum()
    scores = []
    for box, group in zip(fused, members, strict=True):
        seen_by = max(len(group), sum(_inside(box, v.region) for v in views))
        scores.append(sum(m[0] for m in group) / seen_by)
    return np.array(fused, dtype=np.float64).reshape(-1, 4), np.array(scores, dtype=np.float64)
