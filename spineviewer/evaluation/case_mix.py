"""The fixed case mix: what each seed's study is, decided by arithmetic on the seed, not drawn.

Slot ``seed % 20`` fixes the anatomy, the sagittal field of view, the extra sagittal contrasts,
square or non-square pixels and the axial series. The noise level ``(7 * seed + 3 * (seed //
20)) % 20`` picks one of 20 geometric steps from 0.5x to 4x a reference: 7 and 20 share no
factor, so the 20 seeds of a block starting at a multiple of 20 hold every level once, and the
block term moves each slot to another level from block to block (the noise is not tied to the
anatomy or the contrasts). Any 20 consecutive seeds hold exactly:

- 4 studies without the sacrum in view (20 %: slots 3, 7, 12, 18; field T10-L5);
- 1 with six lumbar vertebrae (slot 5, truth label L6) and 1 with a sacralised L5 (slot 15);
- 5 with a T1 or STIR sagittal beside the T2 (25 %: T1 in slots 1, 7, 14; STIR in 10; both
  in 17);
- 4 with non-square pixels (20 %: slots 2, 9, 12, 16);
- axial series: angled stacks parallel to the discs, a continuous stack, or both (slot % 3).

The study *kind* the scorer groups by is the anatomy: ``standard``, ``no-sacrum``,
``six-lumbar``, ``sacralised-L5``.
"""

from __future__ import annotations

from dataclasses import dataclass

from spineviewer.evaluation.column import ColumnPlan

__all__ = ["KINDS", "SLOTS", "Case", "case_for"]

SLOTS = 20
KINDS: tuple[str, ...] = ("standard", "no-sacrum", "six-lumbar", "sacralised-L5")
_NO_SACRUM = frozenset({3, 7, 12, 18})
_T1 = frozenset({1, 7, 14, 17})
_STIR = frozenset({10, 17})
_NON_SQUARE = frozenset({2, 9, 12, 16})
_WITH_SACRUM_FOVS = ("T10-S1", "L1-S1", "L2-S1")
_AXIAL = ("both", "angled", "continuous")


@dataclass(frozen=True)
class Case:
    """What one seed's study is (see the module docstring)."""

    seed: int
    slot: int
    kind: str
    fov: str
    sagittal_contrasts: tuple[str, ...]
    non_square: bool
    axial: str
    noise_factor: float

    @property
    def plan(self) -> ColumnPlan:
        return ColumnPlan(
            lumbar=6 if self.kind == "six-lumbar" else 5,
            sacralised_l5=self.kind == "sacralised-L5",
        )

    @property
    def sacrum_in_view(self) -> bool:
        return self.fov != "T10-L5"

    @property
    def tags(self) -> tuple[str, ...]:
        """Conditions besides the kind, for grouping results."""
        tags = [c.lower() for c in self.sagittal_contrasts[1:]]
        if self.non_square:
            tags.append("non-square")
        if self.noise_factor >= 2.0:
            tags.append("noise>=2x")
        return tuple(tags)


def case_for(seed: int) -> Case:
    """The case of ``seed`` (any integer >= 0)."""
    if seed < 0:
        raise ValueError(f"seed must be 0 or more, got {seed}")
    slot = seed % SLOTS
    if slot in _NO_SACRUM:
        kind = "no-sacrum"
    elif slot == 5:
        kind = "six-lumbar"
    elif slot == 15:
        kind = "sacralised-L5"
    else:
        kind = "standard"
    fov = "T10-L5" if kind == "no-sacrum" else _WITH_SACRUM_FOVS[slot % 3]
    contrasts = ("T2", *(["T1"] if slot in _T1 else []), *(["STIR"] if slot in _STIR else []))
    noise = 0.5 * 8.0 ** (((7 * seed + 3 * (seed // SLOTS)) % SLOTS) / (SLOTS - 1))
    return Case(
        seed=seed,
        slot=slot,
        kind=kind,
        fov=fov,
        sagittal_contrasts=contrasts,
        non_square=slot in _NON_SQUARE,
        axial=_AXIAL[slot % 3],
        noise_factor=round(noise, 4),
    )
