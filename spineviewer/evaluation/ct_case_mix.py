"""The fixed case mix of the lumbar CT studies: arithmetic on the seed, as for MR.

The anatomy comes from the MR case of the same slot (:func:`~spineviewer.evaluation.case_mix.
case_for`), so any 20 consecutive seeds hold 4 studies without the sacrum in view (slots 3, 7,
12, 18: the volume ends above S1), 1 with six lumbar vertebrae (slot 5, truth label L6) and 1
with a sacralised L5 (slot 15). The top of the volume is T11 in odd slots, T12 in even ones.
The noise level is the MR case's factor (0.5x-4x in 20 geometric steps, every level once in a
block of 20 seeds starting at a multiple of 20) times :data:`REFERENCE_NOISE_HU` at 3 mm slices;
thinner slices are noisier (``sqrt(3 / thickness)``) and a bone kernel adds half again
(:mod:`~spineviewer.evaluation.ct_protocol`). The study kinds the scorer groups by are the
MR ones: ``standard``, ``no-sacrum``, ``six-lumbar``, ``sacralised-L5``.
"""

from __future__ import annotations

from dataclasses import dataclass

from spineviewer.evaluation.case_mix import case_for
from spineviewer.evaluation.column import ColumnPlan

__all__ = ["REFERENCE_NOISE_HU", "CtCase", "ct_case_for"]

#: Noise standard deviation (HU) at the noise factor 1, 3 mm slices and a soft kernel.
REFERENCE_NOISE_HU = 10.0


@dataclass(frozen=True)
class CtCase:
    """What one seed's CT study is (see the module docstring)."""

    seed: int
    slot: int
    kind: str
    plan: ColumnPlan
    top: str
    noise_factor: float

    @property
    def sacrum_in_view(self) -> bool:
        return self.kind != "no-sacrum"

    @property
    def fov(self) -> str:
        """The levels of the volume, as the truth's ``fov_levels``."""
        return f"{self.top}-{'S2' if self.sacrum_in_view else 'L5'}"

    @property
    def tags(self) -> tuple[str, ...]:
        tags = [self.top]
        if self.noise_factor >= 2.0:
            tags.append("noise>=2x")
        return tuple(tags)


def ct_case_for(seed: int) -> CtCase:
    """The CT case of ``seed`` (any integer >= 0)."""
    mr = case_for(seed)
    return CtCase(
        seed=seed,
        slot=mr.slot,
        kind=mr.kind,
        plan=mr.plan,
        top="T11" if mr.slot % 2 else "T12",
        noise_factor=mr.noise_factor,
    )
