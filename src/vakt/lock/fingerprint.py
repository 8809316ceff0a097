"""Emulated fingerprint sensing and a minutiae matcher (L15, L14.2).

A finger is a stable, seeded set of minutiae (position, direction, type) following a core/delta ridge
orientation field. Each touch yields a noisy sample in the sensor's frame: placement offset and
rotation, pressure (contact area), dry/wet skin (missed and spurious minutiae), jitter; flat or thin
prints lose more minutiae. Templates hold features only (points), never images.

Matching: a Hough vote over (rotation, translation) from every probe/template minutia pair with a
compatible direction, for all templates at once (numpy), then one-to-one pairing counted under the
best transform, refined twice by least squares (Procrustes). Score = paired^2 / sqrt(minutiae of probe
and template inside the common area): many pairs in a small common area beat a few in a big one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Points = NDArray[
    np.float64
]  # (n, 4): x, y (pixels, 500 dpi), angle (radians), type (0 ending, 1 bifurcation)

SENSOR_HALF = 96.0  # the sensor window is 192 x 192 px
ROT_STEP = np.deg2rad(6.0)
ROT_BINS = 11  # -30 .. +30 degrees of placement rotation
T_STEP = 12.0
T_BINS = 32  # translations within +-192 px
PAIR_DIST = 8.0
PAIR_ANGLE = np.deg2rad(18.0)
MATCH_THRESHOLD = 4.5  # score needed to accept (chosen from bench/bench_fingerprint.py)
MIN_PAIRED = 7  # and never fewer paired minutiae than this
OVERLAP_RADIUS = 20.0
MERGE_THRESHOLD = 8  # paired minutiae needed to merge an enrolment capture into the template
MAX_TEMPLATE_POINTS = 96
MIN_CAPTURE_MINUTIAE = 12  # an enrolment touch with less contact than this is asked again


def _wrap(a: NDArray[np.float64]) -> NDArray[np.float64]:
    return a - (2 * np.pi) * np.rint(a / (2 * np.pi))


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


@dataclass(frozen=True)
class Finger:
    """A finger's stable identity; ``flat`` prints have fewer reliable minutiae (L15.1)."""

    name: str
    minutiae: Points = field(repr=False, compare=False)
    flat: bool = False

    @classmethod
    def from_name(cls, name: str, flat: bool | None = None) -> Finger:
        rng = np.random.default_rng(_seed("finger:" + name))
        is_flat = bool(rng.random() < 0.15) if flat is None else flat
        return cls(name=name, minutiae=_grow_minutiae(rng), flat=is_flat)


def _grow_minutiae(rng: np.random.Generator) -> Points:
    """Minutiae spread over a 260 x 340 px fingertip, at least 12 px apart, along ridge flow."""
    target = int(rng.integers(60, 96))
    cand = rng.uniform(-1, 1, size=(target * 12, 2)) * (130.0, 170.0)
    cand = cand[(cand[:, 0] / 130.0) ** 2 + (cand[:, 1] / 170.0) ** 2 <= 1.0]
    kept: list[NDArray[np.float64]] = []
    for p in cand:
        if all(np.hypot(*(p - q)) >= 12.0 for q in kept):
            kept.append(p)
            if len(kept) == target:
                break
    xy = np.array(kept)
    core = rng.normal(0, 20, 2)
    delta = core + np.array([rng.choice([-1, 1]) * rng.uniform(60, 100), rng.uniform(100, 140)])
    tilt = rng.normal(0, 0.2)
    flow = 0.5 * (
        np.arctan2(xy[:, 1] - core[1], xy[:, 0] - core[0])
        - np.arctan2(xy[:, 1] - delta[1], xy[:, 0] - delta[0])
    )
    angle = _wrap(flow + tilt + np.pi * rng.integers(0, 2, len(xy)) + rng.normal(0, 0.15, len(xy)))
    kind = rng.integers(0, 2, len(xy)).astype(float)
    return np.column_stack([xy, angle, kind])


class Sensor:
    """The lock's capacitive sensor: turns a finger touch into a noisy minutiae sample."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = np.random.default_rng(seed)

    def capture(self, finger: Finger) -> Points:
        rng = self._rng
        m = finger.minutiae
        rot = float(np.clip(rng.normal(0, np.deg2rad(8)), -np.deg2rad(25), np.deg2rad(25)))
        centre = np.clip(rng.normal(0, 22, 2), -50, 50)
        pressure = rng.uniform(0.35, 1.0)
        skin = rng.choice(["normal", "dry", "wet"], p=[0.7, 0.15, 0.15])
        # Contact area grows with pressure; a light touch reads only the middle of the fingertip.
        reach = 0.55 + 0.45 * pressure
        contact = (m[:, 0] / (130 * reach)) ** 2 + (m[:, 1] / (170 * reach)) ** 2 <= 1.0
        drop = 0.08 + (0.12 if skin != "normal" else 0.0) + (0.12 if finger.flat else 0.0)
        keep = contact & (rng.random(len(m)) >= drop)
        pts = m[keep].copy()
        scale = 1.0 + rng.normal(0, 0.015)  # elastic skin distortion under pressure
        c, s = np.cos(rot), np.sin(rot)
        rel = (pts[:, :2] - centre) * scale
        xy = np.column_stack([c * rel[:, 0] - s * rel[:, 1], s * rel[:, 0] + c * rel[:, 1]])
        xy += rng.normal(0, 2.5, xy.shape)
        ang = _wrap(pts[:, 2] + rot + rng.normal(0, np.deg2rad(5), len(pts)))
        kind = np.where(rng.random(len(pts)) < 0.08, 1 - pts[:, 3], pts[:, 3])
        sample = np.column_stack([xy, ang, kind])
        n_fake = rng.poisson(2.0 if skin == "normal" else 5.0)
        fake = np.column_stack(
            [
                rng.uniform(-SENSOR_HALF, SENSOR_HALF, (n_fake, 2)),
                rng.uniform(-np.pi, np.pi, n_fake),
                rng.integers(0, 2, n_fake),
            ]
        )
        sample = np.vstack([sample, fake])
        inside = (np.abs(sample[:, 0]) <= SENSOR_HALF) & (np.abs(sample[:, 1]) <= SENSOR_HALF)
        sample = sample[inside]
        return sample[rng.permutation(len(sample))]


class Gallery:
    """Templates packed into padded arrays so one probe is scored against all of them at once."""

    def __init__(self, templates: list[Points]) -> None:
        self.size = len(templates)
        width = max((len(t) for t in templates), default=1) or 1
        self.pts = np.zeros((self.size, width, 4))
        self.valid = np.zeros((self.size, width), dtype=bool)
        for i, t in enumerate(templates):
            self.pts[i, : len(t)] = t
            self.valid[i, : len(t)] = True


@dataclass(frozen=True)
class Alignment:
    paired: NDArray[np.int64]  # paired minutiae per template
    scores: NDArray[np.float64]  # paired^2 / sqrt(probe minutiae in overlap * template minutiae in overlap)
    rotation: NDArray[np.float64]
    translation: NDArray[np.float64]  # (N, 2)


_HALF = ROT_BINS // 2
_ROT_COS = np.cos((np.arange(ROT_BINS) - _HALF) * ROT_STEP)
_ROT_SIN = np.sin((np.arange(ROT_BINS) - _HALF) * ROT_STEP)


def _hough(probe: Points, g: Gallery) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Best (rotation, translation) per template by voting over all direction-compatible pairs."""
    n_t = g.size
    d_all = _wrap(g.pts[None, :, :, 2] - probe[:, 2, None, None])  # (n, N, M)
    reach = (_HALF + 1) * ROT_STEP + PAIR_ANGLE
    i, j, k = np.nonzero(g.valid[None] & (np.abs(d_all) < reach))
    d_ang = d_all[i, j, k]
    px, py = probe[i, 0], probe[i, 1]
    tx, ty = g.pts[j, k, 0], g.pts[j, k, 1]
    centre_bin = np.rint(d_ang / ROT_STEP).astype(np.int64)
    votes_at: list[NDArray[np.int64]] = []
    for shift in (-1, 0, 1):  # each pair votes in its rotation bin and both neighbours
        rb = centre_bin + shift
        ok = (np.abs(rb) <= _HALF) & (np.abs(d_ang - rb * ROT_STEP) < PAIR_ANGLE)
        rb_ok = rb[ok] + _HALF
        c, s = _ROT_COS[rb_ok], _ROT_SIN[rb_ok]
        bx = np.floor((tx[ok] - (c * px[ok] - s * py[ok])) / T_STEP).astype(np.int64) + T_BINS // 2
        by = np.floor((ty[ok] - (s * px[ok] + c * py[ok])) / T_STEP).astype(np.int64) + T_BINS // 2
        inside = (bx >= 0) & (bx < T_BINS) & (by >= 0) & (by < T_BINS)
        votes_at.append((((j[ok] * ROT_BINS + rb_ok) * T_BINS + bx) * T_BINS + by)[inside])
    size = n_t * ROT_BINS * T_BINS * T_BINS
    votes = np.bincount(np.concatenate(votes_at), minlength=size).reshape(n_t, ROT_BINS, T_BINS, T_BINS)
    # 2 x 2 box sums, so a peak on a bin border is not split; box (x, y) is centred on the corner x+1, y+1.
    box = votes[:, :, :-1, :-1] + votes[:, :, 1:, :-1] + votes[:, :, :-1, 1:] + votes[:, :, 1:, 1:]
    side = T_BINS - 1
    best = box.reshape(n_t, -1).argmax(axis=1)
    r_i, rest = np.divmod(best, side * side)
    x_i, y_i = np.divmod(rest, side)
    rotation = (r_i - _HALF) * ROT_STEP
    translation = np.column_stack([(x_i - T_BINS // 2 + 1), (y_i - T_BINS // 2 + 1)]) * T_STEP
    return rotation, translation.astype(float)


def _pair(
    probe: Points,
    g: Gallery,
    rotation: NDArray[np.float64],
    translation: NDArray[np.float64],
    dist: float,
    ang: float,
    typed: bool = False,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Paired minutiae under each template's transform, and a least-squares correction of it."""
    c, s = np.cos(rotation)[:, None], np.sin(rotation)[:, None]
    x = c * probe[None, :, 0] - s * probe[None, :, 1] + translation[:, 0:1]
    y = s * probe[None, :, 0] + c * probe[None, :, 1] + translation[:, 1:2]
    a = probe[None, :, 2] + rotation[:, None]
    d2 = (g.pts[:, None, :, 0] - x[:, :, None]) ** 2 + (
        g.pts[:, None, :, 1] - y[:, :, None]
    ) ** 2  # (N, n, M)
    ok = g.valid[:, None, :] & (d2 < dist**2) & (np.abs(_wrap(g.pts[:, None, :, 2] - a[:, :, None])) < ang)
    if typed:  # the final count also wants the same minutia type (ending / bifurcation)
        ok &= g.pts[:, None, :, 3] == probe[None, :, None, 3]
    d2 = np.where(ok, d2, np.inf)
    nearest = d2.argmin(axis=2)  # (N, n)
    has = np.isfinite(np.take_along_axis(d2, nearest[:, :, None], axis=2)[:, :, 0])
    # One-to-one: a template minutia counts once even if several probe minutiae land on it.
    claimed = np.zeros(g.valid.shape, dtype=bool)
    rows = np.broadcast_to(np.arange(g.size)[:, None], nearest.shape)
    claimed[rows[has], nearest[has]] = True
    scores = np.minimum(has.sum(axis=1), claimed.sum(axis=1))
    # Procrustes on the pairs: the rotation and translation that best map probe onto template.
    qx = np.take_along_axis(g.pts[:, :, 0], nearest, axis=1)
    qy = np.take_along_axis(g.pts[:, :, 1], nearest, axis=1)
    w = has.astype(float)
    cnt = np.maximum(w.sum(axis=1, keepdims=True), 1.0)
    mx, my = (x * w).sum(1, keepdims=True) / cnt, (y * w).sum(1, keepdims=True) / cnt
    nx, ny = (qx * w).sum(1, keepdims=True) / cnt, (qy * w).sum(1, keepdims=True) / cnt
    ux, uy, vx, vy = x - mx, y - my, qx - nx, qy - ny
    delta = np.arctan2((w * (ux * vy - uy * vx)).sum(1), (w * (ux * vx + uy * vy)).sum(1))
    delta = np.where(has.sum(axis=1) >= 3, delta, 0.0)
    new_rot = rotation + delta
    cd, sd = np.cos(delta), np.sin(delta)
    # New translation: rotate the old one and the probe centroid about the origin, then match centroids.
    old_centre = np.column_stack([mx[:, 0], my[:, 0]]) - translation
    rc = np.column_stack(
        [cd * old_centre[:, 0] - sd * old_centre[:, 1], sd * old_centre[:, 0] + cd * old_centre[:, 1]]
    )
    new_t = np.column_stack([nx[:, 0], ny[:, 0]]) - rc
    new_t = np.where((has.sum(axis=1) >= 3)[:, None], new_t, translation)
    return scores.astype(np.int64), new_rot, new_t


def align(probe: Points, gallery: Gallery) -> Alignment:
    """Score ``probe`` against every template of ``gallery`` (1:N, vectorised)."""
    if gallery.size == 0 or len(probe) == 0:
        zeros = np.zeros(gallery.size)
        return Alignment(zeros.astype(np.int64), zeros, zeros, np.zeros((gallery.size, 2)))
    rotation, translation = _hough(probe, gallery)
    _, rotation, translation = _pair(probe, gallery, rotation, translation, 2 * PAIR_DIST, 1.5 * PAIR_ANGLE)
    _, rotation, translation = _pair(probe, gallery, rotation, translation, PAIR_DIST, PAIR_ANGLE)
    paired, _, _ = _pair(probe, gallery, rotation, translation, PAIR_DIST, PAIR_ANGLE, typed=True)
    in_probe, in_template = _overlap(probe, gallery, rotation, translation)
    scores = paired * paired / np.sqrt(np.maximum(in_probe * in_template, 1))
    scores = np.where(paired >= MIN_PAIRED, scores, 0.0)
    return Alignment(paired, scores, rotation, translation)


def _overlap(
    probe: Points, g: Gallery, rotation: NDArray[np.float64], translation: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Minutiae of each side that lie where the other side has minutiae too (the common area)."""
    c, s = np.cos(rotation)[:, None], np.sin(rotation)[:, None]
    x = c * probe[None, :, 0] - s * probe[None, :, 1] + translation[:, 0:1]
    y = s * probe[None, :, 0] + c * probe[None, :, 1] + translation[:, 1:2]
    d2 = (g.pts[:, None, :, 0] - x[:, :, None]) ** 2 + (g.pts[:, None, :, 1] - y[:, :, None]) ** 2
    near = (d2 < OVERLAP_RADIUS**2) & g.valid[:, None, :]
    return near.any(axis=2).sum(axis=1), near.any(axis=1).sum(axis=1)


def identify(probe: Points, gallery: Gallery, threshold: float = MATCH_THRESHOLD) -> int | None:
    """Position in the gallery of the best template scoring at least ``threshold``, else None."""
    if gallery.size == 0:
        return None
    scores = align(probe, gallery).scores
    best = int(scores.argmax())
    return best if scores[best] >= threshold else None


def enroll(captures: list[Points]) -> Points:
    """Build a template from enrolment captures (L15.2): align each to the first, keep repeated minutiae."""
    base = captures[0]
    sums = [np.array([p[0], p[1], np.cos(p[2]), np.sin(p[2]), p[3]]) for p in base]
    counts = [1] * len(sums)
    for cap in captures[1:]:
        current = _centroids(sums, counts)
        al = align(cap, Gallery([current]))
        if al.paired[0] < MERGE_THRESHOLD:
            continue  # a capture that cannot be placed is not merged
        moved = _transform(cap, float(al.rotation[0]), al.translation[0])
        for p in moved:
            d = np.hypot(current[:, 0] - p[0], current[:, 1] - p[1])
            da = np.abs(_wrap(current[:, 2] - p[2]))
            d = np.where(da < PAIR_ANGLE, d, np.inf)
            j = int(d.argmin()) if len(d) else -1
            vec = np.array([p[0], p[1], np.cos(p[2]), np.sin(p[2]), p[3]])
            if j >= 0 and d[j] < PAIR_DIST:
                sums[j] = sums[j] + vec
                counts[j] += 1
            else:
                sums.append(vec)
                counts.append(1)
    pts = _centroids(sums, counts)
    order = np.argsort(-np.array(counts), kind="stable")
    repeated = [i for i in order if counts[i] >= 2]
    chosen = repeated if len(repeated) >= 2 * MIN_PAIRED else list(order)
    return pts[chosen[:MAX_TEMPLATE_POINTS]]


def _centroids(sums: list[NDArray[np.float64]], counts: list[int]) -> Points:
    arr = np.array(sums).reshape(-1, 5)
    cnt = np.array(counts, dtype=float)[:, None]
    mean = arr / cnt
    return np.column_stack(
        [mean[:, 0], mean[:, 1], np.arctan2(mean[:, 3], mean[:, 2]), (mean[:, 4] >= 0.5).astype(float)]
    )


def _transform(p: Points, rotation: float, translation: NDArray[np.float64]) -> Points:
    c, s = np.cos(rotation), np.sin(rotation)
    x = c * p[:, 0] - s * p[:, 1] + translation[0]
    y = s * p[:, 0] + c * p[:, 1] + translation[1]
    return np.column_stack([x, y, _wrap(p[:, 2] + rotation), p[:, 3]])


def template_to_list(t: Points) -> list[list[float]]:
    """Features for the persistent store, rounded (L14.2: no image is ever kept)."""
    return [[round(float(v), 2) for v in row] for row in t]


def template_from_list(rows: list[list[float]]) -> Points:
    arr = np.asarray(rows, dtype=float).reshape(-1, 4)
    return arr
