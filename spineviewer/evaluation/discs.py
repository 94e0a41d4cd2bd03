"""Each lumbar disc's condition: degeneration and contour, drawn separately.

In patients, degeneration (a dark, desiccated nucleus, lost height, the Pfirrmann grade) and
contour (normal, bulge, herniation) are correlated but neither decides the other: old
normal-contour discs are often dark, young herniations are often bright. So the draws here are
two: first the degeneration from the patient's age and the level (lower discs degenerate
earlier), then the contour from probabilities that *rise* with degeneration (a bulge more than a
herniation) without ever reaching 0 or 1. The nucleus signal, the disc height and the contour
all follow from these two draws, and both go into the ground truth.

Probabilities (``d`` = degeneration 0..1): bulge ``0.08 + 0.40 d``, herniation ``0.20 +
0.12 d``, normal the rest (0.72 at d = 0, 0.20 at d = 1). Pfirrmann grade: I below 0.2, II
below 0.4, III below 0.6, IV below 0.8, V above. Height loss: none up to d = 0.5, then linear to
45 % at d = 1 (grades IV-V lose height, I-III keep it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "CONTOURS",
    "SIDES",
    "DiscCondition",
    "contour_probabilities",
    "draw_condition",
    "pfirrmann",
]

CONTOURS: tuple[str, ...] = ("normal", "bulge", "herniation")
#: Patient sides of a herniation (``left`` is patient left, +x in LPS).
SIDES: tuple[str, ...] = ("central", "left", "right")

#: Degeneration the lower discs carry extra (L4-L5 and L5-S1 wear first).
_LEVEL_EXTRA = {"L4-L5": 0.12, "L5-S1": 0.15, "L5-L6": 0.12, "L6-S1": 0.15, "L3-L4": 0.05}


@dataclass(frozen=True)
class DiscCondition:
    """What was drawn for one disc.

    ``degeneration`` 0..1 (nucleus water loss), ``pfirrmann`` 1-5 from it, ``height_loss`` the
    fraction of height lost, ``state`` one of :data:`CONTOURS`, ``bulge_mm`` the circumferential
    bulge beyond the body margins, ``herniation_mm`` the focal protrusion beyond the posterior
    margin, ``side`` and ``angle_deg`` (0 central, positive toward patient left), and
    ``extent_mm`` how far a herniation migrates up (positive) or down from the disc mid-plane.
    """

    degeneration: float
    state: str
    bulge_mm: float = 0.0
    herniation_mm: float = 0.0
    side: str | None = None
    angle_deg: float = 0.0
    extent_mm: float = 0.0
    rudimentary: bool = False

    @property
    def pfirrmann(self) -> int:
        return pfirrmann(self.degeneration)

    @property
    def height_loss(self) -> float:
        return 0.45 * max(0.0, (self.degeneration - 0.5) / 0.5)


def pfirrmann(degeneration: float) -> int:
    """The Pfirrmann-like grade 1-5 of a degeneration 0..1."""
    return 1 + min(4, int(max(degeneration, 0.0) / 0.2))


def contour_probabilities(degeneration: float) -> tuple[float, float, float]:
    """P(normal), P(bulge), P(herniation) given the degeneration."""
    d = min(max(degeneration, 0.0), 1.0)
    bulge = 0.08 + 0.40 * d
    herniation = 0.20 + 0.12 * d
    return 1.0 - bulge - herniation, bulge, herniation


def draw_condition(rng: np.random.Generator, level: str, age: float) -> DiscCondition:
    """Degeneration from age and level, then the contour given the degeneration."""
    base = 0.75 * (age - 20.0) / 60.0 + _LEVEL_EXTRA.get(level, 0.0)
    degeneration = float(np.clip(base + rng.normal(0.0, 0.22), 0.0, 1.0))
    state = CONTOURS[int(rng.choice(3, p=contour_probabilities(degeneration)))]
    if state == "bulge":
        return DiscCondition(degeneration, state, bulge_mm=float(rng.uniform(1.5, 4.0)))
    if state == "herniation":
        side = SIDES[int(rng.choice(3, p=(0.4, 0.3, 0.3)))]
        sign = {"central": 0.0, "left": 1.0, "right": -1.0}[side]
        return DiscCondition(
            degeneration,
            state,
            herniation_mm=float(rng.uniform(3.0, 8.5)),
            side=side,
            angle_deg=sign * float(rng.uniform(18.0, 34.0)) + float(rng.normal(0.0, 3.0)),
            extent_mm=float(rng.uniform(-5.0, 5.0)),
        )
    return DiscCondition(degeneration, state)
