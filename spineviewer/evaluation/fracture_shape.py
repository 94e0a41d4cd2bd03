"""Vertebral compression fractures of the evaluation generator: the deformed body's shape.

A fracture is asked for as a :class:`FractureSpec` (a body, a Genant grade, a morphology, the
drawn height loss, acute or chronic, an optional endplate step) and turned by
:func:`deform` into the body's new height, wedge and endplate concavity plus a
:class:`Deformation` the signed distance reads (:func:`endplate_limits`). The body stays an
extruded footprint (:func:`spineviewer.evaluation.bones.body_distance`); only where its two
endplates lie changes. In the body's frame (y posterior, z up the column):

- ``wedge``: the anterior height falls, the posterior wall stays: the endplates tilt toward each
  other in front, the body's wedge angle turns kyphotic and the column above follows it;
- ``crush``: the whole body is lower (heights, wedge and the endplates' normal dish scaled
  alike); the column above comes down;
- ``biconcave``: both endplates are pressed in at the centre (a depression over the central
  :data:`DEPRESSION_RADIUS` of the half width and depth, a share of it on each endplate), the
  rims stay; the discs' material fills the hollows.

An endplate step (some fractures, either morphology) lowers the superior (or inferior)
endplate in front of a line across the body by 1-2.5 mm, with a ramp of :data:`STEP_RAMP_MM`.

**Height loss** is Genant's: the heights at the anterior, middle and posterior measuring points
(:func:`measure_points`, on the body's mid-sagittal line a few mm inside the cortex) are compared
with the same body's intact heights at the same points; the loss is the largest of the three
relative reductions. :func:`deform` finds the morphology's amount by bisection so that the loss
(step included) is the drawn one, to 1e-4.
"""

# pylint: disable=duplicate-code  # Genant's grades written again on purpose: this generator may
# import nothing of spineviewer.phantom (the independence contract in pyproject.toml)

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from spineviewer.evaluation.sdf import Array

__all__ = [
    "DEPRESSION_RADIUS",
    "GRADE_LOSS",
    "MORPHOLOGIES",
    "STEP_RAMP_MM",
    "Deformation",
    "FractureSpec",
    "deform",
    "endplate_limits",
    "genant_grade",
    "measure_points",
    "profile_heights",
]

MORPHOLOGIES: tuple[str, ...] = ("wedge", "biconcave", "crush")
#: Height loss drawn for each Genant grade (1: 20-25 %, 2: 25-40 %, 3: > 40 %), kept clear of
#: the grade boundaries so that a measurement a pixel off still reads the same grade.
GRADE_LOSS: dict[int, tuple[float, float]] = {1: (0.21, 0.24), 2: (0.28, 0.37), 3: (0.43, 0.55)}
#: A biconcave depression covers this fraction of the half width and half depth.
DEPRESSION_RADIUS = 0.34
#: The endplate step's ramp (mm, front to back).
STEP_RAMP_MM = 0.8
#: The normal endplate dish covers this fraction of the half sizes (as ``bones`` draws it).
_DISH_RADIUS = 0.42
#: Measuring points (mm inside the anterior cortex; inside the posterior wall at the midline,
#: which the canal notch moves forward by up to 2.5 mm).
_ANTERIOR_INSET_MM = 3.0
_POSTERIOR_INSET_MM = 5.5


def genant_grade(height_loss: float) -> int:
    """Genant's semi-quantitative grade of a height loss (a ratio): 0 below 20 %, 1 to 25 %,
    2 to 40 %, 3 above."""
    if height_loss < 0.2:
        return 0
    if height_loss <= 0.25:
        return 1
    if height_loss <= 0.4:
        return 2
    return 3


@dataclass(frozen=True)
class FractureSpec:
    """One fracture as the case mix and its draws ask for it (before the anatomy exists)."""

    label: str
    grade: int
    morphology: str
    #: The drawn height loss (a ratio within :data:`GRADE_LOSS` of the grade).
    height_loss: float
    acute: bool
    #: Depth of the endplate step (0: none), which endplate, and where across the body the
    #: step's edge lies (a fraction of the depth, negative in front of the centre).
    step_mm: float = 0.0
    step_superior: bool = True
    step_at: float = 0.0
    #: Biconcave: the share of the central depression on the superior endplate.
    superior_share: float = 0.5
    #: Acute: the share of marrow replaced by oedema, how far (fraction of the height) it
    #: reaches from the fractured endplate, and the fracture line's depth below it (mm).
    oedema: float = 0.0
    oedema_reach: float = 1.0
    line_depth_mm: float = 4.0

    def __post_init__(self) -> None:
        if self.morphology not in MORPHOLOGIES:
            raise ValueError(
                f"unknown fracture morphology {self.morphology!r}; known: {', '.join(MORPHOLOGIES)}"
            )
        if genant_grade(self.height_loss) != self.grade:
            raise ValueError(f"height loss {self.height_loss} is not Genant grade {self.grade}")


@dataclass(frozen=True)
class Deformation:
    """What :func:`deform` made of a :class:`FractureSpec` for one body (mm, body frame)."""

    spec: FractureSpec
    top_depression: float
    bottom_depression: float
    step_y: float
    #: The body before the fracture: height, wedge (degrees), endplate concavity.
    intact: tuple[float, float, float]
    #: Anterior, middle, posterior heights (mm) before and after.
    intact_heights: tuple[float, float, float]
    heights: tuple[float, float, float]

    @property
    def losses(self) -> tuple[float, float, float]:
        """Relative height loss at the anterior, middle and posterior points."""
        a, m, p = (1.0 - h / h0 for h, h0 in zip(self.heights, self.intact_heights, strict=True))
        return a, m, p

    @property
    def height_loss(self) -> float:
        return max(self.losses)

    def truth(self) -> dict[str, Any]:
        """The entries of this fracture in the ground truth's vertebra."""
        s = self.spec
        return {
            "fracture": s.morphology,
            "genant_grade": s.grade,
            "height_loss": round(self.height_loss, 4),
            "fracture_acute": s.acute,
            "endplate_step_mm": round(s.step_mm, 3),
            "endplate_step": None
            if s.step_mm <= 0
            else ("superior" if s.step_superior else "inferior"),
            "marrow_oedema": round(s.oedema, 3) if s.acute else 0.0,
            "oedema_reach": round(s.oedema_reach, 3) if s.acute else None,
            "fracture_line_depth_mm": round(s.line_depth_mm, 3) if s.acute else None,
            "body_heights_mm": [round(h, 3) for h in self.heights],
            "intact_heights_mm": [round(h, 3) for h in self.intact_heights],
        }


def measure_points(depth: float) -> tuple[float, float, float]:
    """Local y (mm) of the anterior, middle and posterior measuring points."""
    return (-depth / 2 + _ANTERIOR_INSET_MM, 0.0, depth / 2 - _POSTERIOR_INSET_MM)


def _bump(x: Array, y: Array, radius_x: float, radius_y: float) -> Array:
    return np.clip(1 - (x / radius_x) ** 2 - (y / radius_y) ** 2, 0, 1)


def endplate_limits(
    deformation: Deformation,
    x: Array,
    y: Array,
    half: Array,
    dish: Array,
    width: float,
    depth: float,
) -> tuple[Array, Array]:
    """The superior and inferior endplates' heights above and below the body's centre plane
    (positive, mm) at local ``x``, ``y``: ``half`` (the wedged half height) less the normal
    ``dish``, the depressions and the step."""
    central = _bump(x, y, DEPRESSION_RADIUS * width, DEPRESSION_RADIUS * depth)
    spec = deformation.spec
    step = spec.step_mm * np.clip((deformation.step_y - y) / STEP_RAMP_MM + 0.5, 0, 1)
    top = half - dish - deformation.top_depression * central
    bottom = half - dish - deformation.bottom_depression * central
    if spec.step_superior:
        top = top - step
    else:
        bottom = bottom - step
    return top, bottom


def _heights(
    height: float,
    wedge_deg: float,
    concavity: float,
    width: float,
    depth: float,
    deformation: Deformation | None,
) -> tuple[float, float, float]:
    ys = np.array(measure_points(depth), dtype=np.float64)
    xs = np.zeros_like(ys)
    half = height / 2 - ys * math.tan(math.radians(wedge_deg) / 2)
    dish = concavity * _bump(xs, ys, _DISH_RADIUS * width, _DISH_RADIUS * depth)
    if deformation is None:
        total = 2 * (half - dish)
    else:
        top, bottom = endplate_limits(deformation, xs, ys, half, dish, width, depth)
        total = top + bottom
    a, m, p = (float(v) for v in total)
    return a, m, p


def profile_heights(
    height: float,
    wedge_deg: float,
    concavity: float,
    width: float,
    depth: float,
    deformation: Deformation | None = None,
) -> tuple[float, float, float]:
    """Anterior, middle and posterior heights (mm) of a body drawn with these sizes."""
    return _heights(height, wedge_deg, concavity, width, depth, deformation)


def _shape(
    spec: FractureSpec,
    amount: float,
    intact: tuple[float, float, float],
    width: float,
    depth: float,
) -> tuple[tuple[float, float, float], Deformation]:
    """(height, wedge, concavity) and the deformation of ``amount`` (0: intact)."""
    height, wedge, concavity = intact
    heights0 = _heights(height, wedge, concavity, width, depth, None)
    top = bottom = 0.0
    if spec.morphology == "crush":
        height, concavity = height * (1 - amount), concavity * (1 - amount)
        wedge = math.degrees(2 * math.atan(math.tan(math.radians(wedge) / 2) * (1 - amount)))
    elif spec.morphology == "wedge":
        ya, _, yp = measure_points(depth)
        dish = [concavity * max(0.0, 1 - (y / (_DISH_RADIUS * depth)) ** 2) for y in (ya, yp)]
        front = heights0[0] * (1 - amount) + 2 * dish[0]
        back = heights0[2] + 2 * dish[1]
        slope = (front - back) / (2 * (yp - ya))
        height = front + 2 * ya * slope
        wedge = math.degrees(2 * math.atan(slope))
    else:
        central = amount * heights0[1]
        top, bottom = central * spec.superior_share, central * (1 - spec.superior_share)
    deformation = Deformation(spec, top, bottom, spec.step_at * depth, intact, heights0, heights0)
    heights = _heights(height, wedge, concavity, width, depth, deformation)
    return (height, wedge, concavity), Deformation(
        spec, top, bottom, spec.step_at * depth, intact, heights0, heights
    )


def deform(
    spec: FractureSpec,
    height: float,
    wedge_deg: float,
    concavity: float,
    width: float,
    depth: float,
) -> tuple[tuple[float, float, float], Deformation]:
    """The fractured body's (height, wedge in degrees, concavity) and its deformation, with the
    morphology's amount found so that the height loss is ``spec.height_loss``."""
    intact = (height, wedge_deg, concavity)
    lo, hi = 0.0, 0.9
    if _shape(spec, lo, intact, width, depth)[1].height_loss > spec.height_loss:
        raise ValueError(f"{spec.label}: the endplate step alone exceeds the height loss")
    for _ in range(50):
        mid = (lo + hi) / 2
        if _shape(spec, mid, intact, width, depth)[1].height_loss < spec.height_loss:
            lo = mid
        else:
            hi = mid
    return _shape(spec, (lo + hi) / 2, intact, width, depth)
