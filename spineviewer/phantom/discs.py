"""Disc degeneration and disc contour drawn separately, as in patients (the ``wide`` profile).

Degeneration (a Pfirrmann-like grade 1-5, a continuous ``degeneration`` 0-1 inside the grade's
band, the nucleus signal and the loss of disc height that follow from it) and contour (normal,
bulge or herniation with its side and size) are two draws. They are correlated the way they
are in patients, weakly: higher grades bulge and herniate more often, but bright herniated
discs of young patients and dark discs with a normal contour are both common. So the nucleus
signal tells little about the contour; a model has to look at the contour.

The standard profile keeps its old rule (a dark nucleus exactly when the contour is abnormal);
these draws replace it only in studies generated with ``MrOptions(profile="wide")``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from spineviewer.phantom.tissues import T2_SIGNAL, Tissue

#: Pfirrmann-like grades.
GRADES: tuple[int, ...] = (1, 2, 3, 4, 5)
#: ``degeneration`` (0 = healthy, 1 = black collapsed disc) band of each grade.
DEGENERATION_BAND: dict[int, tuple[float, float]] = {
    1: (0.0, 0.12),
    2: (0.12, 0.3),
    3: (0.3, 0.55),
    4: (0.55, 0.8),
    5: (0.8, 1.0),
}
#: Relative signal of a fully degenerated (black) nucleus per contrast (CSF = 1 on T2 and
#: STIR, fat = 1 on T1); the nucleus signal falls linearly with ``degeneration`` from the
#: healthy nucleus's (:mod:`spineviewer.phantom.tissues`) to this.
BLACK_NUCLEUS: dict[str, float] = {"T2": 0.14, "T1": 0.26, "STIR": 0.14}
#: Fraction of the disc height lost, by grade (uniform in the range).
HEIGHT_LOSS: dict[int, tuple[float, float]] = {
    1: (0.0, 0.03),
    2: (0.0, 0.08),
    3: (0.05, 0.2),
    4: (0.15, 0.4),
    5: (0.35, 0.6),
}
DISC_STATES: tuple[str, ...] = ("normal", "bulge", "herniation")
#: Contour given the grade: probabilities of normal, bulge, herniation. Abnormal contours grow
#: more likely with the grade (38 % at grade 1, 67 % at grade 5), bulge and herniation alike.
CONTOUR_P: dict[int, tuple[float, float, float]] = {
    1: (0.62, 0.18, 0.20),
    2: (0.55, 0.22, 0.23),
    3: (0.45, 0.27, 0.28),
    4: (0.38, 0.31, 0.31),
    5: (0.33, 0.34, 0.33),
}
#: Bulge beyond the normal disc margin and herniation size (protrusion), mm. A clinical bulge
#: is mostly under 3 mm; protrusions run from a few mm to extrusions of about a centimetre.
BULGE_MM: tuple[float, float] = (1.0, 4.0)
HERNIATION_MM: tuple[float, float] = (2.5, 9.0)
HERNIATION_SIDES: tuple[str, ...] = ("central", "left", "right")
_SIDE_P = (0.4, 0.3, 0.3)
#: Signal of herniated material as a fraction of its disc's nucleus signal.
HERNIATION_SIGNAL: tuple[float, float] = (0.55, 1.0)
#: The disc's outline in the axial plane: superellipse exponent (2 = oval, 4 = nearly a
#: rounded rectangle); each disc its own.
OUTLINE_N: tuple[float, float] = (2.0, 5.0)
#: Depth (mm) and half width (fraction of the disc's half width) of the concave posterior
#: margin (the "kidney" shape of upper lumbar discs; 0 mm: flat or convex). A bulge fills most
#: of it (its depth times BULGE_NOTCH); a herniation keeps it and pushes out of it.
POSTERIOR_NOTCH_MM: tuple[float, float] = (0.0, 3.5)
NOTCH_HALF_WIDTH: tuple[float, float] = (0.25, 0.6)
BULGE_NOTCH = 0.3
#: Nucleus half width as a fraction of the disc's (its depth follows, 0.05 less).
NUCLEUS_SIZE: tuple[float, float] = (0.42, 0.66)
#: The nucleus's outline in the axial plane (superellipse exponent: oval to rounded rectangle).
NUCLEUS_N: tuple[float, float] = (2.0, 4.0)
#: Fraction of a bulge that goes backwards rather than all round (0: even; a bulge is often
#: larger posteriorly and laterally, where the annulus is thinner).
BULGE_BACK: tuple[float, float] = (0.0, 0.6)
#: Herniation: half width (mm), off-centre position as a fraction of the disc's half width
#: (central, or paracentral on the drawn side), its height as a fraction of the disc's, and
#: its shift up or down (migration) as a fraction of the disc's height.
HERNIATION_HALF_WIDTH_MM: tuple[float, float] = (3.5, 9.0)
HERNIATION_OFFSET: dict[str, tuple[float, float]] = {
    "central": (-0.08, 0.08),
    "left": (0.12, 0.4),
    "right": (-0.4, -0.12),
}
HERNIATION_HEIGHT: tuple[float, float] = (0.5, 1.2)
HERNIATION_MIGRATION: tuple[float, float] = (-0.35, 0.35)
#: Patient age in years; it shifts every disc's grade (older, more degenerated).
AGE_YEARS: tuple[float, float] = (20.0, 80.0)
#: Latent degeneration: ``age term + level term + N(0, 0.8)``, cut into grades here.
_GRADE_CUTS = (-0.7, 0.1, 0.8, 1.5)
#: Lower discs degenerate more (L4-L5 and the lumbosacral disc most).
_LEVEL_TERM = {"L1-L2": -0.35, "L2-L3": -0.2, "L3-L4": 0.0, "L4-L5": 0.25}
_LOWEST_TERM = 0.3


@dataclass(frozen=True)
class DiscDraw:
    """Degeneration and contour of one disc."""

    level: str
    pfirrmann: int
    degeneration: float
    height_loss: float
    state: str
    bulge_mm: float
    herniation_mm: float
    herniation_side: str | None
    herniation_signal: float
    #: The shape (drawn for every disc, used where it applies).
    outline_n: float = 3.0
    bulge_back: float = 0.0
    herniation_half_width_mm: float = 6.5
    herniation_offset: float = 0.0
    herniation_height: float = 1.0
    herniation_migration: float = 0.0
    posterior_notch_mm: float = 0.0
    notch_half_width: float = 0.4
    nucleus_size: float = 0.55
    nucleus_n: float = 2.0

    def nucleus_ratio(self, contrast: str, healthy: float) -> float:
        """The nucleus signal over a healthy one's (``healthy``: its relative signal)."""
        return 1.0 + (BLACK_NUCLEUS[contrast] / healthy - 1.0) * self.degeneration

    @property
    def nucleus_t2(self) -> float:
        """Relative T2 signal of the nucleus (CSF = 1), before the study's tissue jitter."""
        healthy = T2_SIGNAL[Tissue.NUCLEUS]
        return healthy * self.nucleus_ratio("T2", healthy)

    def parameters(self) -> dict[str, Any]:
        """Every drawn value, for ``parameters["discs"]`` of ground_truth.json."""
        return {
            "pfirrmann": self.pfirrmann,
            "degeneration": self.degeneration,
            "nucleus_t2": self.nucleus_t2,
            "height_loss": self.height_loss,
            "state": self.state,
            "bulge_mm": self.bulge_mm,
            "herniation_size_mm": self.herniation_mm,
            "herniation_side": self.herniation_side,
            "herniation_signal": self.herniation_signal,
            "outline_n": self.outline_n,
            "bulge_back": self.bulge_back,
            "herniation_half_width_mm": self.herniation_half_width_mm,
            "herniation_offset": self.herniation_offset,
            "herniation_height": self.herniation_height,
            "herniation_migration": self.herniation_migration,
            "posterior_notch_mm": self.posterior_notch_mm,
            "notch_half_width": self.notch_half_width,
            "nucleus_size": self.nucleus_size,
            "nucleus_n": self.nucleus_n,
        }


def _grade(latent: float) -> int:
    return 1 + sum(latent > cut for cut in _GRADE_CUTS)


def draw_disc(rng: np.random.Generator, level: str, age_years: float, lowest: bool) -> DiscDraw:
    """One disc: grade from the age and the level, then the contour given the grade.

    Every disc draws the same numbers in the same order whatever its state (so one draw does
    not shift the next disc's).
    """
    term = _LOWEST_TERM if lowest else _LEVEL_TERM.get(level, _LOWEST_TERM)
    age = (age_years - AGE_YEARS[0]) / (AGE_YEARS[1] - AGE_YEARS[0])
    latent = -0.6 + 1.8 * age + term + float(rng.normal(0.0, 0.8))
    grade = _grade(latent)
    low, high = DEGENERATION_BAND[grade]
    degeneration = float(low + (high - low) * rng.random())
    loss_low, loss_high = HEIGHT_LOSS[grade]
    height_loss = float(rng.uniform(loss_low, loss_high))
    state = str(rng.choice(DISC_STATES, p=CONTOUR_P[grade]))
    bulge = float(rng.uniform(*BULGE_MM))
    size = float(rng.uniform(*HERNIATION_MM))
    side = str(rng.choice(HERNIATION_SIDES, p=_SIDE_P))
    signal = float(rng.uniform(*HERNIATION_SIGNAL))
    herniated = state == "herniation"
    outline_n = float(rng.uniform(*OUTLINE_N))
    back = float(rng.uniform(*BULGE_BACK))
    half_width = float(rng.uniform(*HERNIATION_HALF_WIDTH_MM))
    offset = float(rng.uniform(*HERNIATION_OFFSET[side]))
    tall = float(rng.uniform(*HERNIATION_HEIGHT))
    migration = float(rng.uniform(*HERNIATION_MIGRATION))
    notch = float(rng.uniform(*POSTERIOR_NOTCH_MM))
    notch_width = float(rng.uniform(*NOTCH_HALF_WIDTH))
    nucleus_size = float(rng.uniform(*NUCLEUS_SIZE))
    nucleus_n = float(rng.uniform(*NUCLEUS_N))
    return DiscDraw(
        level=level,
        pfirrmann=grade,
        degeneration=degeneration,
        height_loss=height_loss,
        state=state,
        bulge_mm=bulge if state == "bulge" else 0.0,
        herniation_mm=size if herniated else 0.0,
        herniation_side=side if herniated else None,
        herniation_signal=signal if herniated else 0.0,
        outline_n=outline_n,
        bulge_back=back if state == "bulge" else 0.0,
        herniation_half_width_mm=half_width if herniated else 0.0,
        herniation_offset=offset if herniated else 0.0,
        herniation_height=tall if herniated else 0.0,
        herniation_migration=migration if herniated else 0.0,
        posterior_notch_mm=notch * (BULGE_NOTCH if state == "bulge" else 1.0),
        notch_half_width=notch_width,
        nucleus_size=nucleus_size,
        nucleus_n=nucleus_n,
    )


def draw_discs(
    rng: np.random.Generator, levels: Sequence[str], age_years: float
) -> dict[str, DiscDraw]:
    """Draws of the graded discs ``levels`` (top to bottom; the last is the lumbosacral one)."""
    return {
        level: draw_disc(rng, level, age_years, i == len(levels) - 1)
        for i, level in enumerate(levels)
    }
