"""The vertebral column of the evaluation generator: where each body and disc is and how big.

The column is built as a kinematic chain upward from the sacrum: the first sacral segment sits
at the drawn sacral slope, then each disc and each body adds its height along the current axis
and turns the axis by its wedge angle (lordosis in the lumbar spine, kyphosis above T12), by a
lateral bend (scoliosis, in some studies) and, body by body, by an axial rotation. The sacrum
continues downward as fused segments S2..S5 curving forward. Every body's frame is at its
centre: local x toward patient left, y posterior, z up the column.

A disc's ``frame`` is at the midpoint of its two endplate centres with z along the line from the
lower to the upper endplate centre (the ground truth's ``centre_mm`` and ``normal``); its
``height`` is the endplate-to-endplate distance at the centre and shrinks with degeneration
(:class:`~spineviewer.evaluation.discs.DiscCondition`); ``width`` and ``depth`` are the means
of the two bodies'. Sizes are adult means (mm) scaled per patient, each jittered a few percent.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from spineviewer.evaluation.discs import DiscCondition, draw_condition
from spineviewer.evaluation.fracture_shape import Deformation, FractureSpec, deform
from spineviewer.evaluation.sdf import Frame

__all__ = ["Body", "Column", "ColumnPlan", "Disc", "build_column", "turned"]

THORACIC = ("T8", "T9", "T10", "T11", "T12")
SACRAL = ("S1", "S2", "S3", "S4", "S5")
#: Height, width (left-right), depth (front-back) of the bodies, mm.
_THORACIC_SIZE = (
    (19.0, 30.0, 25.0),
    (20.0, 31.0, 26.0),
    (21.0, 33.0, 27.0),
    (22.0, 35.0, 28.0),
    (23.0, 38.0, 29.0),
)
_LUMBAR_SIZE = {
    5: (
        (25.0, 41.0, 30.0),
        (26.0, 43.0, 31.0),
        (26.5, 45.0, 32.0),
        (26.5, 47.0, 33.0),
        (26.0, 49.0, 34.0),
    ),
    6: (
        (24.5, 40.0, 30.0),
        (25.5, 42.0, 31.0),
        (26.0, 44.0, 32.0),
        (26.5, 46.0, 33.0),
        (26.5, 48.0, 33.5),
        (26.0, 49.0, 34.0),
    ),
}
_SACRAL_SIZE = (
    (28.0, 50.0, 35.0),
    (22.0, 38.0, 28.0),
    (17.0, 30.0, 22.0),
    (13.0, 22.0, 16.0),
    (10.0, 16.0, 12.0),
)
#: Share of the lumbar lordosis carried by each lumbar disc (top down) and body.
_LORDOSIS_DISCS = {5: (0.06, 0.09, 0.13, 0.20, 0.27), 6: (0.05, 0.07, 0.10, 0.13, 0.18, 0.22)}
_LORDOSIS_BODIES = {5: (-0.02, 0.0, 0.02, 0.08, 0.17), 6: (-0.02, 0.0, 0.02, 0.05, 0.08, 0.12)}
#: Kyphotic wedges (degrees) of the discs T8-T9..T12-L1 and the bodies T8..T12.
_THORACIC_DISC_WEDGE = (-3.0, -3.0, -3.0, -2.5, -1.5)
_THORACIC_BODY_WEDGE = (-3.5, -3.5, -3.5, -3.0, -2.0)
#: Disc heights (mm) before degeneration: thoracic T8-T9..T12-L1, lumbar top down.
_THORACIC_DISC_HEIGHT = (5.0, 5.5, 5.5, 6.0, 7.0)
_LUMBAR_DISC_HEIGHT = {5: (8.5, 9.5, 10.5, 11.0, 10.0), 6: (8.5, 9.0, 10.0, 10.5, 11.0, 10.0)}


def turned(axes: NDArray[np.float64], about: int, degrees: float) -> NDArray[np.float64]:
    """The frame ``axes`` (rows x, y, z) turned about its own axis ``about`` by ``degrees``.

    About x (0): z tilts toward +y (posterior). About y (1): z tilts toward +x (patient left).
    About z (2): x turns toward +y (axial rotation).
    """
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    x, y, z = axes
    if about == 0:
        return np.array([x, c * y - s * z, c * z + s * y])
    if about == 1:
        return np.array([c * x - s * z, y, c * z + s * x])
    return np.array([c * x + s * y, c * y - s * x, z])


@dataclass(frozen=True)
class Body:
    """A vertebral body (or a sacral segment)."""

    label: str
    frame: Frame
    height: float
    width: float
    depth: float
    wedge_deg: float
    concavity: float
    cortex: float
    fat_fraction: float
    region: str  # "thoracic", "lumbar", "sacral"
    #: A compression fracture (:mod:`~spineviewer.evaluation.fracture_shape`): ``height``,
    #: ``wedge_deg`` and ``concavity`` are then the fractured body's.
    fracture: Deformation | None = None

    @property
    def centre(self) -> NDArray[np.float64]:
        return self.frame.origin

    def hollow(self, superior: bool) -> float:
        """How deep (mm) the superior or inferior endplate is hollowed at most: the normal
        dish, and a fracture's central depression or step."""
        f = self.fracture
        if f is None:
            return self.concavity
        step = f.spec.step_mm if f.spec.step_superior == superior else 0.0
        return self.concavity + (f.top_depression if superior else f.bottom_depression) + step


@dataclass(frozen=True)
class Disc:
    """An intervertebral disc between ``upper`` and ``lower`` (``level`` = ``upper-lower``)."""

    level: str
    frame: Frame
    height: float
    wedge_deg: float
    width: float
    depth: float
    condition: DiscCondition
    #: The deepest endplate concavity of the two bodies (the disc fills it).
    concavity: float

    @property
    def centre(self) -> NDArray[np.float64]:
        return self.frame.origin

    @property
    def normal(self) -> NDArray[np.float64]:
        return self.frame.axes[2]


@dataclass(frozen=True)
class ColumnPlan:
    """What the case mix fixes about a column: the lumbar count and a sacralised L5; and the
    compression fractures asked for (none in the lumbar MR and CT studies)."""

    lumbar: int = 5
    sacralised_l5: bool = False
    fractures: tuple[FractureSpec, ...] = ()


@dataclass(frozen=True)
class Column:
    """Bodies top to bottom ending with S1, the discs between them, the fused sacrum below."""

    bodies: tuple[Body, ...]
    discs: tuple[Disc, ...]
    sacrum: tuple[Body, ...]
    parameters: dict[str, float] = field(default_factory=dict)

    def body(self, label: str) -> Body:
        return next(b for b in (*self.bodies, *self.sacrum) if b.label == label)


def _lumbar_labels(n: int) -> tuple[str, ...]:
    return tuple(f"L{i}" for i in range(1, n + 1))


def _scoliosis_bends(rng: np.random.Generator, count: int) -> tuple[list[float], float]:
    """Lateral bend (degrees) per disc from the bottom: an S-curve in some studies."""
    if rng.random() >= 0.3:
        return [0.0] * count, 0.0
    cobb = float(rng.uniform(5.0, 18.0)) * (1 if rng.random() < 0.5 else -1)
    bends = [cobb / 4 if i < 4 else (-cobb / 4 if i < 8 else 0.0) for i in range(count)]
    return bends, cobb


def build_column(
    rng: np.random.Generator, conditions_rng: np.random.Generator, age: float, plan: ColumnPlan
) -> Column:
    """Draw a column: sizes and curves from ``rng``, disc conditions from ``conditions_rng``
    (a stream of its own, so geometry draws never change the disc conditions)."""
    lumbar = _lumbar_labels(plan.lumbar)
    labels = (*THORACIC, *lumbar, "S1")
    sizes = (*_THORACIC_SIZE, *_LUMBAR_SIZE[plan.lumbar], _SACRAL_SIZE[0])
    scale = float(np.clip(rng.normal(1.0, 0.06), 0.85, 1.15))
    lordosis = float(rng.uniform(28.0, 58.0))
    slope = 0.45 * lordosis + float(rng.uniform(6.0, 16.0))  # supine: a flatter sacrum
    disc_wedges = [w + float(rng.normal(0, 0.7)) for w in _THORACIC_DISC_WEDGE] + [
        lordosis * f for f in _LORDOSIS_DISCS[plan.lumbar]
    ]
    body_wedges = [w + float(rng.normal(0, 0.7)) for w in _THORACIC_BODY_WEDGE] + [
        lordosis * f for f in _LORDOSIS_BODIES[plan.lumbar]
    ]
    heights = [*_THORACIC_DISC_HEIGHT, *_LUMBAR_DISC_HEIGHT[plan.lumbar]]
    levels = [f"{a}-{b}" for a, b in itertools.pairwise(labels)]
    conditions = [
        draw_condition(conditions_rng, level, age)
        if level.startswith("L")
        else DiscCondition(
            float(np.clip(0.5 * (age - 20) / 60 + rng.normal(0, 0.1), 0, 1)), "normal"
        )
        for level in levels
    ]
    if plan.sacralised_l5:
        conditions[-1] = DiscCondition(1.0, "normal", rudimentary=True)
    bends, cobb = _scoliosis_bends(rng, len(levels))
    apex = int(rng.integers(len(labels) - 6, len(labels) - 2))
    fat_base = 0.35 + 0.005 * (age - 20.0)
    fractures = {f.label: f for f in plan.fractures}
    unknown = set(fractures) - set(labels[:-1])
    if unknown:
        raise ValueError(f"no vertebral body {sorted(unknown)} to fracture; known: {labels[:-1]}")

    def make_body(i: int, frame: Frame, wedge: float) -> Body:
        h, w, d = (v * scale * float(rng.uniform(0.96, 1.04)) for v in sizes[i])
        region = "thoracic" if labels[i].startswith("T") else "lumbar"
        return Body(
            labels[i],
            frame,
            h,
            w,
            d,
            wedge,
            concavity=float(rng.uniform(1.0, 2.5)),
            cortex=float(rng.uniform(0.8, 1.2)),
            fat_fraction=float(np.clip(fat_base + rng.normal(0, 0.06), 0.25, 0.85)),
            region="sacral" if labels[i] == "S1" else region,
        )

    origin = np.array([rng.uniform(-12, 12), rng.uniform(-5, 25), rng.uniform(-180, -120)])
    # a scoliotic column starts from an oblique sacrum, so the S-curve stays over the pelvis
    axes = turned(turned(np.eye(3), 0, -slope), 1, float(rng.normal(0, 0.8)) - cobb / 2)
    s1 = make_body(len(labels) - 1, Frame(origin, axes), 0.0)
    s1 = replace(s1, frame=Frame(origin - axes[2] * s1.height / 2, axes))
    bodies = [s1]
    discs: list[Disc] = []
    endplate, axes_top = origin, axes
    for k in range(len(levels)):  # bottom up
        i = len(labels) - 2 - k  # the upper body's index
        wedge, bend = disc_wedges[i], bends[k]
        condition = conditions[i]
        lower = bodies[-1]
        mid = turned(turned(axes_top, 0, wedge / 2), 1, bend / 2)
        if condition.rudimentary:
            height = float(rng.uniform(2.5, 4.0))
        else:
            height = (
                heights[i] * scale * (1.0 - condition.height_loss) * float(rng.uniform(0.93, 1.07))
            )
        disc_centre = endplate + mid[2] * height / 2
        upper_endplate = disc_centre + mid[2] * height / 2
        bottom = turned(turned(axes_top, 0, wedge), 1, bend)
        body_mid = turned(bottom, 0, body_wedges[i] / 2)
        twist = 0.25 * abs(cobb) * max(0.0, 1.0 - abs(i - apex) / 4.0) * np.sign(cobb)
        placeholder = make_body(i, Frame(upper_endplate, body_mid), body_wedges[i])
        if labels[i] in fractures:
            placeholder = _fractured(placeholder, fractures[labels[i]])
            body_mid = turned(bottom, 0, placeholder.wedge_deg / 2)
        centre = upper_endplate + body_mid[2] * placeholder.height / 2
        body = replace(placeholder, frame=Frame(centre, turned(body_mid, 2, float(twist))))
        discs.append(
            Disc(
                levels[i],
                Frame(disc_centre, mid),
                height,
                wedge,
                width=(lower.width + body.width) / 2,
                depth=(lower.depth + body.depth) / 2,
                condition=condition,
                concavity=max(lower.hollow(True), body.hollow(False)),
            )
        )
        bodies.append(body)
        endplate = centre + body_mid[2] * body.height / 2
        axes_top = turned(bottom, 0, body.wedge_deg)
    sacrum = _sacrum(rng, s1, scale, fat_base)
    parameters = {
        "lordosis_deg": round(lordosis, 2),
        "sacral_slope_deg": round(slope, 2),
        "scoliosis_cobb_deg": round(abs(cobb), 2),
        "size_scale": round(scale, 4),
    }
    return Column(tuple(reversed(bodies)), tuple(reversed(discs)), sacrum, parameters)


def _fractured(body: Body, spec: FractureSpec) -> Body:
    """``body`` lowered by the fracture ``spec`` (its frame is placed afterwards)."""
    (height, wedge, concavity), deformation = deform(
        spec, body.height, body.wedge_deg, body.concavity, body.width, body.depth
    )
    return replace(body, height=height, wedge_deg=wedge, concavity=concavity, fracture=deformation)


def _sacrum(rng: np.random.Generator, s1: Body, scale: float, fat_base: float) -> tuple[Body, ...]:
    """S2..S5 below S1, fused (the cortices of two segments meet: a thin dark remnant line),
    the column curving forward."""
    out: list[Body] = []
    axes = s1.frame.axes
    bottom = s1.centre - axes[2] * s1.height / 2
    for label, (h, w, d) in zip(SACRAL[1:], _SACRAL_SIZE[1:], strict=True):
        axes = turned(axes, 0, float(rng.uniform(6.0, 11.0)))
        h, w, d = h * scale, w * scale, d * scale
        centre = bottom - axes[2] * h / 2
        out.append(
            Body(
                label,
                Frame(centre, axes),
                h,
                w,
                d,
                0.0,
                0.5,
                0.8,
                float(np.clip(fat_base + 0.1, 0.3, 0.9)),
                "sacral",
            )
        )
        bottom = centre - axes[2] * h / 2
    return tuple(out)
