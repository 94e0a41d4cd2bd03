"""The fixed case mix of the fracture studies (``lumbar-mr-fracture``), by arithmetic on the seed.

Everything but the fractures is the lumbar MR case of the same seed
(:func:`~spineviewer.evaluation.case_mix.case_for`: anatomy kind, field of view, contrasts,
pixels, axial series, noise). The fractures: slot ``seed % 20`` decides how many bodies break,

- 10 of any 20 consecutive seeds have fractures: one body in slots 0, 7, 9, 15, 17, two bodies
  in slots 1, 8, 10, 16, 18 (15 fractured bodies; the other 10 studies have none). Each field
  of view and anatomy kind is among them: T10-S1 (0, 9, 15: sacralised L5), L1-S1 (1, 10, 16),
  L2-S1 (8, 17), T10-L5 without the sacrum (7, 18); T1 sagittals in 1, 7, 17, STIR in 10, 17;
- the fractures of a block of 20 seeds (numbered in slot order, 0-14) take the code
  ``k = (i + 7 * block) % 15`` (``block = seed // 20``; 7 and 15 share no factor, so each block
  uses every code once and a slot's fractures change from block to block). Genant grade
  ``k % 3 + 1``, morphology ``(k + k // 3 + block) % 3`` of (wedge, biconcave, crush): in
  every block starting at a multiple of 20 each grade and each morphology 5 times, every grade
  with every morphology once or twice, and in three consecutive blocks (60 seeds) each of the
  nine pairs 5 times;
- acute (marrow oedema and a fracture line) when ``k % 5`` is 0 or 3: 6 of the 15, 2 of each
  grade; the other 9 chronic (no oedema).

Drawn from the study's fracture stream, not fixed here: which bodies (T11-L5 inside the field:
from L1 in an L1-S1 field, from L2 in an L2-S1 field; weighted to the thoracolumbar junction,
two fractures never the same body), the height loss within the grade's range
(:data:`~spineviewer.evaluation.fracture_shape.GRADE_LOSS`), an endplate step (half of them,
1-2.5 mm, superior three times in four), how much marrow the oedema replaces and how far it
reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spineviewer.evaluation.case_mix import SLOTS, Case, case_for
from spineviewer.evaluation.fracture_shape import GRADE_LOSS, MORPHOLOGIES, FractureSpec

__all__ = [
    "FRACTURED_SLOTS",
    "FractureCase",
    "draw_fractures",
    "fracture_case_for",
    "fracture_levels",
]

#: Slot -> number of fractured bodies (slots not listed: none).
FRACTURED_SLOTS: dict[int, int] = {0: 1, 1: 2, 7: 1, 8: 2, 9: 1, 10: 2, 15: 1, 16: 2, 17: 1, 18: 2}
_PER_BLOCK = sum(FRACTURED_SLOTS.values())
_ACUTE_CODES = frozenset({0, 3})
#: Bodies that may fracture, with weights (the thoracolumbar junction breaks most).
_LEVEL_WEIGHTS = {"T11": 1.0, "T12": 2.5, "L1": 2.5, "L2": 1.5, "L3": 1.0, "L4": 1.0, "L5": 0.5}
_FIRST_LEVEL = {"T10-S1": "T11", "T10-L5": "T11", "L1-S1": "L1", "L2-S1": "L2"}


@dataclass(frozen=True)
class FractureCase:
    """The lumbar MR case of the seed and the fractures the slot asks for: (grade,
    morphology, acute) each."""

    case: Case
    fractures: tuple[tuple[int, str, bool], ...]

    @property
    def seed(self) -> int:
        return self.case.seed


def _first_code(slot: int) -> int:
    """The index (in slot order) of the slot's first fracture within its block."""
    return sum(n for s, n in FRACTURED_SLOTS.items() if s < slot)


def fracture_case_for(seed: int) -> FractureCase:
    """The case of the fracture study of ``seed`` (see the module docstring)."""
    case = case_for(seed)
    count = FRACTURED_SLOTS.get(case.slot, 0)
    first = _first_code(case.slot)
    fractures = []
    for i in range(first, first + count):
        block = seed // SLOTS
        k = (i + 7 * block) % _PER_BLOCK
        morphology = MORPHOLOGIES[(k + k // 3 + block) % 3]
        fractures.append((k % 3 + 1, morphology, k % 5 in _ACUTE_CODES))
    return FractureCase(case, tuple(fractures))


def fracture_levels(case: Case) -> tuple[str, ...]:
    """The bodies that may fracture in ``case``'s field of view."""
    labels = list(_LEVEL_WEIGHTS)
    return tuple(labels[labels.index(_FIRST_LEVEL[case.fov]) :])


def draw_fractures(
    fracture_case: FractureCase, rng: np.random.Generator
) -> tuple[FractureSpec, ...]:
    """The fractures of the case, their bodies and sizes drawn from ``rng``."""
    if not fracture_case.fractures:
        return ()
    levels = fracture_levels(fracture_case.case)
    weights = np.array([_LEVEL_WEIGHTS[label] for label in levels])
    chosen = rng.choice(
        len(levels), size=len(fracture_case.fractures), replace=False, p=weights / weights.sum()
    )
    out = []
    for index, (grade, morphology, acute) in zip(chosen, fracture_case.fractures, strict=True):
        low, high = GRADE_LOSS[grade]
        loss = float(rng.uniform(low, high))
        stepped = rng.random() < 0.5
        step = float(rng.uniform(1.0, 2.5)) if stepped else 0.0
        superior = bool(rng.random() < 0.75)
        step_at = float(rng.uniform(-0.15, 0.15))
        share = float(rng.uniform(0.45, 0.7))
        oedema = float(rng.uniform(0.45, 0.75))
        reach = float(rng.choice([0.5, 0.7, 1.0]))
        depth = float(rng.uniform(3.0, 6.0))
        out.append(
            FractureSpec(
                label=levels[int(index)],
                grade=grade,
                morphology=morphology,
                height_loss=loss,
                acute=acute,
                step_mm=step,
                step_superior=superior,
                step_at=step_at,
                superior_share=share,
                oedema=oedema if acute else 0.0,
                oedema_reach=reach,
                line_depth_mm=depth,
            )
        )
    return tuple(sorted(out, key=lambda f: list(_LEVEL_WEIGHTS).index(f.label)))
