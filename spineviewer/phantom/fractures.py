"""Vertebral compression fractures: kinds, Genant grades and a seeded plan per study.

A fracture is a kind and a height-loss ratio ``1 - h_min / h_reference``:

``wedge``
    The anterior height is reduced; the endplates stay planes, tilted so that the height falls
    linearly from the intact posterior wall (the reference) to ``h * (1 - loss)`` at the
    anterior wall. The spine above turns forward by the wedge angle (local kyphosis).
``crush``
    The whole body is reduced to ``h * (1 - loss)`` (flat endplates); the spine shortens.
``biconcave``
    Both endplates are dished: the height is ``h * (1 - loss)`` at the centre and intact at the
    rim (beyond 80 % of the half depth and half width); the discs fill the hollows.

Genant semi-quantitative grades: 1 (mild) 20-25 %, 2 (moderate) 25-40 %, 3 (severe) > 40 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FRACTURE_KINDS: tuple[str, ...] = ("wedge", "crush", "biconcave")
#: Relative frequency of each kind when fractures are drawn at random (wedges are commonest).
_KIND_P = (0.5, 0.2, 0.3)
#: Random grades 1, 2, 3 with these probabilities.
_GRADE_P = (0.4, 0.35, 0.25)
#: Height-loss ranges drawn for each grade, kept clear of the grade boundaries.
GRADE_LOSS: dict[int, tuple[float, float]] = {1: (0.205, 0.245), 2: (0.26, 0.39), 3: (0.41, 0.55)}
#: Smallest and largest height loss accepted for an explicit fracture.
LOSS_LIMITS = (0.2, 0.7)
#: Biconcave endplates are intact beyond this fraction of the body's half sizes.
DISH_RADIUS = 0.8
#: Height loss of a normal shape variant (not a fracture: below Genant's 20 %): a mildly
#: wedged body (common at T11-L1) or mildly concave endplates.
VARIANT_LOSS = (0.03, 0.15)


def genant_grade(height_loss: float) -> int:
    """Genant grade of a height-loss ratio: 0 below 20 %, 1 to 25 %, 2 to 40 %, 3 above."""
    if height_loss < 0.2:
        return 0
    if height_loss <= 0.25:
        return 1
    if height_loss <= 0.4:
        return 2
    return 3


@dataclass(frozen=True)
class Fracture:
    """A compression fracture of one vertebral body: ``kind`` and ``height_loss`` (a ratio)."""

    kind: str
    height_loss: float
    #: A normal shape variant drawn like a fracture (:data:`VARIANT_LOSS`; wide profile):
    #: shaped as one, recorded as intact (not fractured) in the ground truth.
    normal_variant: bool = False

    def __post_init__(self) -> None:
        if self.kind not in FRACTURE_KINDS:
            raise ValueError(
                f"unknown fracture kind {self.kind!r}; choose one of {', '.join(FRACTURE_KINDS)}"
            )
        low, high = VARIANT_LOSS if self.normal_variant else LOSS_LIMITS
        if not low <= self.height_loss <= high:
            raise ValueError(f"height loss must lie in [{low}, {high}], got {self.height_loss}")

    @property
    def grade(self) -> int:
        """Genant grade (1-3)."""
        return genant_grade(self.height_loss)

    @property
    def centre_factor(self) -> float:
        """Height at the body's centre (on its axis) over the intact height."""
        if self.kind == "wedge":
            return 1.0 - self.height_loss / 2.0
        return 1.0 - self.height_loss

    @property
    def span_factor(self) -> float:
        """Distance between the endplate planes at the centre over the intact height.

        The rim of a biconcave body is intact, so its discs attach at the intact planes.
        """
        return 1.0 if self.kind == "biconcave" else self.centre_factor

    @property
    def posterior_factor(self) -> float:
        """Height of the posterior wall over the intact height."""
        return 1.0 - self.height_loss if self.kind == "crush" else 1.0


@dataclass(frozen=True)
class FractureRequest:
    """An explicit fracture: a vertebra, a kind and optionally a grade or an exact loss."""

    label: str
    kind: str
    grade: int | None = None
    height_loss: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FRACTURE_KINDS:
            raise ValueError(
                f"unknown fracture kind {self.kind!r}; choose one of {', '.join(FRACTURE_KINDS)}"
            )
        if self.grade is not None and self.grade not in GRADE_LOSS:
            raise ValueError(f"Genant grade must be 1, 2 or 3, got {self.grade}")
        if self.height_loss is not None:
            Fracture(self.kind, self.height_loss)  # validates the range


def parse_fracture(text: str) -> FractureRequest:
    """``LABEL:KIND[:GRADE]`` (e.g. ``L1:wedge:2``) or ``LABEL:KIND:LOSS`` (``L3:crush:0.33``)."""
    fields = text.strip().split(":")
    if len(fields) not in (2, 3) or not all(fields):
        raise ValueError(f"expected LABEL:KIND[:GRADE or LOSS], got {text!r}")
    label, kind = fields[0].upper(), fields[1].lower()
    if len(fields) == 2:
        return FractureRequest(label, kind)
    value = fields[2]
    try:
        number = float(value) if "." in value else int(value)
    except ValueError:
        raise ValueError(f"expected a grade (1-3) or a loss ratio, got {value!r}") from None
    if isinstance(number, int):
        return FractureRequest(label, kind, grade=number)
    return FractureRequest(label, kind, height_loss=number)


def _pick(probabilities: Sequence[float], u: float) -> int:
    """Index drawn by the uniform number ``u`` from (unnormalised) ``probabilities``."""
    edges = np.cumsum(probabilities) / float(np.sum(probabilities))
    return min(int(np.searchsorted(edges, u, side="right")), len(edges) - 1)


def plan_fractures(
    seed_key: Sequence[int],
    labels: Sequence[str],
    rate: float = 0.0,
    requests: Sequence[FractureRequest] = (),
    kinds: Sequence[str] = FRACTURE_KINDS,
) -> dict[str, Fracture]:
    """The fractures of one study, deterministic for ``seed_key``.

    Every vertebra of ``labels`` breaks with probability ``rate``; its kind (among ``kinds``),
    grade and loss are drawn from its own numbers, so a higher rate only adds fractures.
    ``requests`` name vertebrae explicitly and win over the draw (a missing grade or loss is
    drawn).
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"fracture rate must lie in [0, 1], got {rate}")
    wanted: dict[str, FractureRequest] = {}
    for request in requests:
        if request.label not in labels:
            choices = ", ".join(labels)
            raise ValueError(f"vertebra {request.label!r} cannot fracture here; choose {choices}")
        if request.kind not in kinds:
            raise ValueError(
                f"{request.kind} fractures are not drawn in this study kind; "
                f"choose one of {', '.join(kinds)}"
            )
        if request.label in wanted:
            raise ValueError(f"vertebra {request.label!r} is named twice")
        wanted[request.label] = request
    rng = np.random.default_rng([*seed_key, 404])
    p = [_KIND_P[FRACTURE_KINDS.index(k)] for k in kinds]
    plan: dict[str, Fracture] = {}
    for label in labels:
        u, u_kind, u_grade, u_loss = rng.random(4)
        kind = kinds[_pick(p, float(u_kind))]
        grade = 1 + _pick(_GRADE_P, float(u_grade))
        asked = wanted.get(label)
        if asked is None and u >= rate:
            continue
        if asked is not None:
            kind = asked.kind
            grade = asked.grade or grade
        if asked is not None and asked.height_loss is not None:
            loss = asked.height_loss
        else:
            low, high = GRADE_LOSS[grade]
            loss = low + float(u_loss) * (high - low)
        plan[label] = Fracture(kind, round(float(loss), 4))
    return plan


#: Vertebrae that may fracture in the 3D studies (both MR and CT image them whole).
SPINE_CANDIDATES: tuple[str, ...] = ("T12", "L1", "L2", "L3", "L4", "L5")


def study_fractures(
    seed_key: Sequence[int],
    labels: Sequence[str],
    rate: float,
    requests: Sequence[FractureRequest],
    kinds: Sequence[str] = FRACTURE_KINDS,
) -> tuple[dict[str, Fracture], dict[str, float]]:
    """The plan and the ``parameters`` entry of a study (both empty when none was asked for)."""
    if not rate and not requests:
        return {}, {}
    return plan_fractures(seed_key, labels, rate, requests, kinds), {"fracture_rate": rate}
