"""The column of an AP spine radiograph: T8..L5 on the sacrum, with its scoliotic curves.

Built as a kinematic chain upward from the top of the sacrum (S1's upper endplate), as the
MR studies' column is, but with its own sizes and its own curves: each disc adds its height
along the current axis and turns it by its sagittal wedge (lordosis, kyphosis) and by its
lateral bend; each body adds its height and turns by its sagittal wedge. A curve of Cobb angle
``C`` between two end vertebrae shares ``C`` out over the discs between them, most at the apex
(triangular weights), so the upper endplate of the upper end vertebra and the lower endplate of
the lower one differ by exactly ``C`` in the coronal plane; bodies are not wedged sideways.
Half the net bend is taken back by the discs above the curves and half by those below (the
fractional curves that keep the trunk over the pelvis); the sacrum is level within a degree or
two. Each body turns about its own axis toward the convexity at the apex (0.3 degree per
Cobb degree, tapering over four levels); a patient turned on the table turns everything (the
whole scene). Bodies are :class:`~spineviewer.evaluation.column.Body`, so
the MR studies' body shape (:func:`~spineviewer.evaluation.bones.body_distance`) draws them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from spineviewer.evaluation.column import Body, turned
from spineviewer.evaluation.sdf import Frame
from spineviewer.evaluation.xr_case_mix import XrCase

__all__ = ["LABELS", "Curve", "XrColumn", "build_xr_column", "endplate_points", "rotate_frame"]

LABELS = ("T8", "T9", "T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5")
#: Height, width (left-right), depth (front-back) of T8..L5 and S1, mm (adult means).
_SIZES = (
    (19.5, 30.0, 26.0),
    (20.5, 32.0, 27.0),
    (21.5, 34.0, 28.0),
    (22.5, 36.0, 29.0),
    (23.5, 39.0, 30.0),
    (25.0, 42.0, 31.0),
    (26.0, 44.0, 32.0),
    (26.5, 46.0, 33.0),
    (26.5, 48.0, 34.0),
    (25.5, 50.0, 34.0),
)
_S1_SIZE = (27.0, 50.0, 34.0)
#: Disc heights T8-T9 .. L5-S1 (mm).
_DISC_HEIGHT = (4.5, 5.0, 5.5, 6.0, 7.0, 8.0, 9.0, 10.0, 10.5, 9.5)
#: Share of the lordosis per lumbar disc L1-L2 .. L5-S1; kyphotic wedge per thoracic disc.
_LORDOSIS = (0.07, 0.10, 0.15, 0.24, 0.32)
_KYPHOSIS_DEG = -3.0
#: Axial rotation at the apex per degree of Cobb angle.
_ROTATION_PER_DEG = 0.3


@dataclass(frozen=True)
class Curve:
    """A drawn curve: its end vertebrae, apex, Cobb angle (degrees) and side (+1 convex to the
    patient's right, the image's left; -1 to the patient's left)."""

    upper: str
    apex: str
    lower: str
    cobb_deg: float
    side: int


@dataclass(frozen=True)
class XrColumn:
    """Bodies T8..L5 top to bottom, S1..S5 (the sacrum, top down), the disc frames (centre at
    mid-height between the endplate centres) and the curves."""

    bodies: tuple[Body, ...]
    sacrum: tuple[Body, ...]
    discs: tuple[tuple[str, Frame, float], ...]
    curves: tuple[Curve, ...]
    #: Sacrum tilt in the coronal plane (degrees) and the drawn sagittal values.
    parameters: dict[str, float]

    def body(self, label: str) -> Body:
        return next(b for b in (*self.bodies, *self.sacrum) if b.label == label)


def endplate_points(body: Body) -> NDArray[np.float64]:
    """The body's four corners in the coronal plane through its centre (patient mm, (4, 3)):
    upper left, upper right, lower left, lower right as seen on an AP image (the patient's
    right on the image's left)."""
    h, w = body.height, body.width
    local = np.array(
        [[-w / 2, 0, h / 2], [w / 2, 0, h / 2], [-w / 2, 0, -h / 2], [w / 2, 0, -h / 2]]
    )
    return body.frame.to_patient(local)


def rotate_frame(frame: Frame, centre: NDArray[np.float64], degrees: float) -> Frame:
    """``frame`` turned about the vertical axis through ``centre`` (x toward +y)."""
    a = math.radians(degrees)
    r = np.array([[math.cos(a), math.sin(a), 0.0], [-math.sin(a), math.cos(a), 0.0], [0, 0, 1]])
    origin = centre + (frame.origin - centre) @ r
    return Frame(origin, frame.axes @ r)


def _weights(first: int, last: int, apex: int) -> dict[int, float]:
    """Triangular weights (summing to 1) over discs ``first..last`` (indices), highest at the
    disc nearest ``apex``."""
    span = max(apex - first, last - apex, 1) + 1
    raw = {k: max(0.15, 1.0 - abs(k + 0.5 - apex) / span) for k in range(first, last + 1)}
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items()}


def _compensate(bends: list[float], top: int, bottom: int) -> None:
    """Balance the curves: half their net bend taken back, evenly, by the discs above the
    highest end vertebra ``top`` and half by those below the lowest one ``bottom`` (fractional
    curves that keep the trunk over the pelvis). With no disc above (the curve's end is the
    top body) the top stays tilted, as an end vertebra is."""
    net = sum(bends)
    for discs in (range(0, top), range(bottom, len(bends))):
        for k in discs:
            bends[k] -= net / 2 / len(discs)


def _curves(case: XrCase, rng: np.random.Generator) -> list[tuple[Curve, int, int, int]]:
    """The curves with (upper index, apex index, lower index) in :data:`LABELS`."""
    index = {label: i for i, label in enumerate(LABELS)}
    if case.kind == "straight":
        cobb = float(rng.uniform(0.0, 4.0))
        apex = int(rng.integers(3, 8))
        up, low = max(apex - 3, 0), min(apex + 3, len(LABELS) - 1)
        side = 1 if rng.random() < 0.5 else -1
        return [(Curve(LABELS[up], LABELS[apex], LABELS[low], cobb, side), up, apex, low)]
    if case.kind == "single-curve":
        apex = index[case.apex]
        up = max(apex - int(rng.integers(2, 5)), 0)
        low = min(apex + int(rng.integers(2, 5)), len(LABELS) - 1)
        curve = Curve(LABELS[up], case.apex, LABELS[low], case.cobb_deg, case.side)
        return [(curve, up, apex, low)]
    upper_apex, lower_apex = (index[a] for a in case.apex.split("/"))
    junction = int(rng.integers(upper_apex + 2, max(upper_apex + 3, lower_apex)))
    up = max(upper_apex - int(rng.integers(2, 4)), 0)
    low = min(lower_apex + int(rng.integers(2, 4)), len(LABELS) - 1)
    second = case.cobb_deg * float(rng.uniform(0.55, 0.9))
    return [
        (
            Curve(LABELS[up], LABELS[upper_apex], LABELS[junction], case.cobb_deg, case.side),
            up,
            upper_apex,
            junction,
        ),
        (
            Curve(LABELS[junction], LABELS[lower_apex], LABELS[low], second, -case.side),
            junction,
            lower_apex,
            low,
        ),
    ]


def build_xr_column(case: XrCase, rng: np.random.Generator, age: float) -> XrColumn:
    """Draw the column of ``case`` (sizes, curves, sagittal shape) from ``rng``."""
    scale = float(np.clip(rng.normal(1.0, 0.06), 0.85, 1.15))
    lordosis = float(rng.uniform(30.0, 60.0))
    slope = 0.45 * lordosis + float(rng.uniform(6.0, 16.0))
    curves = _curves(case, rng)
    n = len(LABELS)
    # disc k lies below body k (k = n - 1: L5-S1); bends in degrees about the body's y axis
    bends = [0.0] * n
    twist = [0.0] * n
    for curve, up, apex, low in curves:
        for k, w in _weights(up, low - 1, apex).items():
            bends[k] += curve.side * curve.cobb_deg * w
        for i in range(up, low + 1):
            taper = max(0.0, 1.0 - abs(i - apex) / 4.0)
            twist[i] += curve.side * _ROTATION_PER_DEG * curve.cobb_deg * taper
    wedges = [_KYPHOSIS_DEG + float(rng.normal(0, 0.6)) for _ in range(5)] + [
        lordosis * f for f in _LORDOSIS
    ]
    _compensate(bends, min(up for _, up, _, _ in curves), max(low for *_, low in curves))
    obliquity = float(rng.normal(0, 1.0))
    fat = float(np.clip(0.35 + 0.005 * (age - 20.0) + rng.normal(0, 0.05), 0.25, 0.85))

    def make(label: str, size: tuple[float, float, float], frame: Frame, region: str) -> Body:
        h, w, d = (v * scale * float(rng.uniform(0.96, 1.04)) for v in size)
        return Body(
            label,
            frame,
            h,
            w,
            d,
            0.0,
            concavity=float(rng.uniform(1.0, 2.0)),
            cortex=float(rng.uniform(0.8, 1.2)),
            fat_fraction=fat,
            region=region,
        )

    top = np.array([rng.uniform(-6, 6), rng.uniform(0, 20), 0.0])  # S1's upper endplate
    axes = turned(turned(np.eye(3), 0, -slope), 1, obliquity)
    s1 = make("S1", _S1_SIZE, Frame(top, axes), "sacral")
    s1 = replace(s1, frame=Frame(top - axes[2] * s1.height / 2, axes))
    bodies: list[Body] = []
    discs: list[tuple[str, Frame, float]] = []
    endplate, current = top, axes
    below = "S1"
    for k in reversed(range(n)):
        mid = turned(turned(current, 0, wedges[k] / 2), 1, bends[k] / 2)
        height = _DISC_HEIGHT[k] * scale * float(rng.uniform(0.9, 1.1))
        centre = endplate + mid[2] * height / 2
        discs.append((f"{LABELS[k]}-{below}", Frame(centre, mid), height))
        upper = centre + mid[2] * height / 2
        current = turned(turned(current, 0, wedges[k]), 1, bends[k])
        region = "thoracic" if LABELS[k].startswith("T") else "lumbar"
        body = make(LABELS[k], _SIZES[k], Frame(upper, current), region)
        centre_b = upper + current[2] * body.height / 2
        body = replace(body, frame=Frame(centre_b, turned(current, 2, twist[k])))
        bodies.append(body)
        endplate = centre_b + current[2] * body.height / 2
        below = LABELS[k]
    sacrum = [s1]
    axes_s = s1.frame.axes
    bottom = s1.centre - axes_s[2] * s1.height / 2
    for label, size in zip(
        ("S2", "S3", "S4", "S5"),
        ((22, 38, 28), (17, 30, 22), (13, 22, 16), (10, 16, 12)),
        strict=True,
    ):
        axes_s = turned(axes_s, 0, float(rng.uniform(6.0, 11.0)))
        seg = make(label, size, Frame(bottom, axes_s), "sacral")
        centre = bottom - axes_s[2] * seg.height / 2
        sacrum.append(replace(seg, frame=Frame(centre, axes_s), concavity=0.5))
        bottom = centre - axes_s[2] * seg.height / 2
    parameters = {
        "lordosis_deg": round(lordosis, 2),
        "sacral_slope_deg": round(slope, 2),
        "sacral_obliquity_deg": round(obliquity, 2),
        "size_scale": round(scale, 4),
        "apical_rotation_deg": round(max(map(abs, twist)), 2),
    }
    return XrColumn(
        tuple(reversed(bodies)),
        tuple(sacrum),
        tuple(reversed(discs)),
        tuple(c for c, *_ in curves),
        parameters,
    )
