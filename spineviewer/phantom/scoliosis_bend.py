"""A scoliotic spine: the drawn anatomy bent into a lateral (coronal) curve with axial rotation.

The bend is applied to a finished :class:`~spineviewer.phantom.anatomy.SpineAnatomy`, so a
seed's other draws do not move. S1 stays where it was (the pelvis); every body turns about the
patient's antero-posterior axis by its coronal tilt and about its own long axis by its axial
rotation, and the column is rebuilt upwards (and downwards to the sacrum) from S1 with each
centre-to-centre step turned by the tilt half-way between the two bodies. Discs follow the
bodies (their frames come from the endplates), and so do the canal and posterior elements.

Along the arc length ``s`` of the body centres, with ``u = (s - s_apex) / h`` (``h`` the arc
from the apex to the upper, resp. lower, end vertebra):

- coronal tilt ``tilt(u) = side * cobb / 2 * sin(pi * u / 2)`` for ``|u| <= 2``, else 0: the
  end vertebrae (``u = -1, +1``) are the most tilted, so the Cobb angle between them is
  ``cobb`` exactly, and the column is straight again two end-to-apex spans away;
- axial rotation ``rot(u) = side * rotation * cos(pi * u / 4)`` for ``|u| <= 2``, else 0: the
  apex turns most, its body's front towards the convex side.

``side`` is +1 for a curve convex to the patient's left, -1 to the right.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from spineviewer.phantom.anatomy import SpineAnatomy, Vertebra
from spineviewer.phantom.solids import FloatArray, Frame, rotation

CONVEX_SIDES: tuple[str, ...] = ("left", "right")
#: The patient axis the coronal tilt turns about (posterior, LPS).
_AP_AXIS = np.array([0.0, 1.0, 0.0])


@dataclass(frozen=True)
class Scoliosis:
    """A single (C-shaped) lateral curve of the lumbar spine."""

    #: Angle between the end vertebrae's endplates in the coronal plane (degrees, 0-80).
    cobb_deg: float = 30.0
    #: The apical vertebra (the most displaced and most rotated).
    apex: str = "L2"
    #: Levels from the apex to each end vertebra (1-4).
    half_span: int = 2
    #: Axial rotation of the apical body (degrees, 0-45), its front towards the convex side.
    rotation_deg: float = 10.0
    #: The side of the convexity (patient left or right).
    convex: str = "left"

    def __post_init__(self) -> None:
        if not 0.0 <= self.cobb_deg <= 80.0:
            raise ValueError(f"a Cobb angle of 0-80 degrees, not {self.cobb_deg}")
        if not 0.0 <= self.rotation_deg <= 45.0:
            raise ValueError(f"an apical rotation of 0-45 degrees, not {self.rotation_deg}")
        if self.half_span not in (1, 2, 3, 4):
            raise ValueError(
                f"1 to 4 levels from the apex to an end vertebra, not {self.half_span}"
            )
        if self.convex not in CONVEX_SIDES:
            raise ValueError(f"convex to the left or the right, not {self.convex!r}")

    @classmethod
    def parse(cls, text: str) -> Scoliosis:
        """``COBB[:APEX[:left|right[:ROTATION]]]`` (e.g. ``35:L1:right:15``); the rest default.

        ValueError names the part that is wrong; an apex the spine lacks is refused when the
        spine is bent (:func:`bend_spine`)."""
        parts = text.split(":")
        if not 1 <= len(parts) <= 4 or not all(parts):
            raise ValueError(f"COBB[:APEX[:left|right[:ROTATION]]], not {text!r}")
        values: dict[str, Any] = {}
        for name, part in zip(("cobb_deg", "apex", "convex", "rotation_deg"), parts, strict=False):
            if name in ("cobb_deg", "rotation_deg"):
                try:
                    values[name] = float(part)
                except ValueError:
                    what = name.split("_")[0]
                    raise ValueError(f"{what}: a number of degrees, not {part!r}") from None
            else:
                values[name] = part
        return cls(**values)

    @property
    def side(self) -> float:
        return 1.0 if self.convex == "left" else -1.0

    @property
    def variant(self) -> str:
        """Names the study variant (its UIDs are its own)."""
        return (
            f"scoliosis-{self.cobb_deg:g}-{self.apex}-{self.half_span}-"
            f"{self.rotation_deg:g}-{self.convex}"
        )

    def tilt_deg(self, u: FloatArray) -> FloatArray:
        """Coronal tilt at normalised arc positions ``u`` (degrees, + turns the top left)."""
        inside = np.abs(u) <= 2.0
        return np.where(inside, self.side * self.cobb_deg / 2.0 * np.sin(np.pi * u / 2.0), 0.0)

    def rotation_at(self, u: FloatArray) -> FloatArray:
        """Axial rotation at normalised arc positions ``u`` (degrees, right-handed about S)."""
        inside = np.abs(u) <= 2.0
        return np.where(inside, self.side * self.rotation_deg * np.cos(np.pi * u / 4.0), 0.0)


@dataclass(frozen=True)
class BentSpine:
    """The bent anatomy and, per body (vertebrae then sacral segments), what the bend did."""

    anatomy: SpineAnatomy
    labels: tuple[str, ...]
    tilt_deg: tuple[float, ...]
    rotation_deg: tuple[float, ...]
    upper_end: str
    lower_end: str

    def truth(self, scoliosis: Scoliosis) -> dict[str, Any]:
        """The ``parameters["scoliosis"]`` record of ground_truth.json: the curve's settings,
        the end vertebrae, per labelled vertebra the coronal tilt and axial rotation, and the
        canal's centre line (one point per vertebra, behind its body centre)."""
        a = self.anatomy
        per = {
            lab: (t, r)
            for lab, t, r in zip(self.labels, self.tilt_deg, self.rotation_deg, strict=True)
        }
        canal = [
            [float(c) for c in v.centre + a.canal_offset(v.depth) * v.frame.axes[1]]
            for v in a.vertebrae
        ]
        return {
            "cobb_deg": scoliosis.cobb_deg,
            "apex": scoliosis.apex,
            "half_span": scoliosis.half_span,
            "rotation_deg": scoliosis.rotation_deg,
            "convex": scoliosis.convex,
            "upper_end_vertebra": self.upper_end,
            "lower_end_vertebra": self.lower_end,
            "vertebrae": [v.label for v in a.vertebrae],
            "coronal_tilt_deg": [per[v.label][0] for v in a.vertebrae],
            "axial_rotation_deg": [per[v.label][1] for v in a.vertebrae],
            "centres_mm": [[float(c) for c in v.centre] for v in a.vertebrae],
            "canal_mm": canal,
        }


def bend_spine(anatomy: SpineAnatomy, scoliosis: Scoliosis) -> BentSpine:
    """``anatomy`` with the lateral curve and rotation of ``scoliosis`` (S1 stays in place)."""
    chain = anatomy.vertebrae + anatomy.sacral
    labels = tuple(v.label for v in chain)
    if scoliosis.apex not in labels or scoliosis.apex.startswith("S"):
        movable = [lab for lab in labels if not lab.startswith("S")]
        raise ValueError(f"no apex {scoliosis.apex!r} in this spine; choose one of {movable}")
    centres = np.array([v.centre for v in chain])
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(centres, axis=0), axis=1))])
    apex = labels.index(scoliosis.apex)
    upper = max(apex - scoliosis.half_span, 0)
    lower = min(apex + scoliosis.half_span, labels.index("S1"))
    if upper == apex or lower == apex:
        raise ValueError(
            f"apex {scoliosis.apex} needs {scoliosis.half_span} levels above and below it"
        )
    h_up, h_low = arc[apex] - arc[upper], arc[lower] - arc[apex]

    def u_of(s: FloatArray) -> FloatArray:
        d = s - arc[apex]
        return np.where(d < 0.0, d / h_up, d / h_low)

    tilts = scoliosis.tilt_deg(u_of(arc))
    turns = scoliosis.rotation_at(u_of(arc))
    mid_tilts = scoliosis.tilt_deg(u_of((arc[1:] + arc[:-1]) / 2.0))
    anchor = labels.index("S1")
    new_centres = centres.copy()
    for i in range(anchor - 1, -1, -1):  # upwards from S1
        step = rotation(_AP_AXIS, float(mid_tilts[i])) @ (centres[i] - centres[i + 1])
        new_centres[i] = new_centres[i + 1] + step
    for i in range(anchor + 1, len(chain)):  # downwards to the sacral tip
        step = rotation(_AP_AXIS, float(mid_tilts[i - 1])) @ (centres[i] - centres[i - 1])
        new_centres[i] = new_centres[i - 1] + step
    bent: dict[str, Vertebra] = {}
    for v, centre, tilt, turn in zip(chain, new_centres, tilts, turns, strict=True):
        turned = rotation(_AP_AXIS, float(tilt)) @ rotation(v.frame.superior, float(turn))
        bent[v.label] = dataclasses.replace(v, frame=Frame(centre, v.frame.axes @ turned.T))
    discs = tuple(
        dataclasses.replace(d, upper=bent[d.upper.label], lower=bent[d.lower.label])
        for d in anatomy.discs
    )
    new = dataclasses.replace(
        anatomy,
        vertebrae=tuple(bent[v.label] for v in anatomy.vertebrae),
        sacral=tuple(bent[v.label] for v in anatomy.sacral),
        discs=discs,
    )
    return BentSpine(
        new,
        labels,
        tuple(float(t) for t in tilts),
        tuple(float(r) for r in turns),
        labels[upper],
        labels[lower],
    )


def measured_cobb_deg(anatomy: SpineAnatomy, upper: str, lower: str) -> float:
    """Angle between two bodies' superior axes projected on the coronal (x, z) plane."""

    def angle(v: Vertebra) -> float:
        sup = v.frame.superior
        return math.degrees(math.atan2(float(sup[0]), float(sup[2])))

    return abs(angle(anatomy.vertebra(upper)) - angle(anatomy.vertebra(lower)))
