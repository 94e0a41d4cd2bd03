"""CT numbers (HU) of the evaluation generator's tissues, from its own table.

Unenhanced CT at 100-120 kVp, rounded literature values (they aim at realistic contrasts
between tissues, not at any one scanner): air -1000, fat about -100, CSF 8, spinal cord 35,
muscle about 50, blood 42, viscera 35, kidney 32, the annulus 95 and the nucleus 75-90 (denser
as it dries). Cortical bone is the compact bone itself (1100-1600 HU drawn per study; a cortex
of about 1 mm is shown lower by partial volume). Cancellous bone is marrow plus trabecular
mineral: ``mineral + f * fat + (1 - f) * 30`` for the vertebra's marrow fat fraction ``f``,
the mineral drawn per study and falling with age (a young adult's L1 is about 220 HU, an
osteoporotic one below 100). A table is a renderer contrast (:class:`~spineviewer.evaluation.
render.Contrast`) whose value is HU + 1000, so air, the unpainted background, is 0 and partial
volume mixes attenuation linearly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spineviewer.evaluation.tissues import Tissue

__all__ = ["AIR_HU", "CtTable", "draw_ct_table"]

AIR_HU = -1000.0
#: HU of the tissues that are the same in every study (by the tissue table's names).
_FIXED = {
    "csf": 8.0,
    "cord": 35.0,
    "flowing blood": 42.0,
    "viscera": 35.0,
    "kidney": 32.0,
    "annulus": 95.0,
}
_RED_MARROW_HU = 30.0


@dataclass(frozen=True)
class CtTable:
    """The drawn CT numbers of one study (HU)."""

    cortical_bone: float
    trabecular_mineral: float
    fat: float
    muscle: float

    def hu(self, tissue: Tissue) -> float:
        """The CT number of ``tissue``; a KeyError names a tissue the table does not know."""
        name = tissue.name
        kind, _, amount = name.rpartition(" ")
        if kind == "marrow":
            f = float(amount)
            return self.trabecular_mineral + f * self.fat + (1.0 - f) * _RED_MARROW_HU
        if kind == "nucleus":
            return 75.0 + 15.0 * float(amount)
        if kind == "herniated":
            return 0.7 * (75.0 + 15.0 * float(amount)) + 0.3 * _FIXED["annulus"]
        if name == "cortical bone":
            return self.cortical_bone
        if name == "fat":
            return self.fat
        if name == "muscle":
            return self.muscle
        return _FIXED[name]

    def value(self, tissue: Tissue) -> float:
        """The renderer's value: HU + 1000 (air 0)."""
        return self.hu(tissue) - AIR_HU


def draw_ct_table(rng: np.random.Generator, age: float) -> CtTable:
    """One study's table: bone density falls with ``age`` (years)."""
    mineral = float(np.clip(rng.uniform(170.0, 260.0) - 1.5 * (age - 20.0), 60.0, 260.0))
    return CtTable(
        cortical_bone=float(rng.uniform(1100.0, 1600.0)),
        trabecular_mineral=mineral,
        fat=float(rng.uniform(-115.0, -85.0)),
        muscle=float(rng.uniform(42.0, 60.0)),
    )
