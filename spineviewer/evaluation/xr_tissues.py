"""Linear attenuation coefficients (per mm) of the radiographs' materials, this generator's own
table.

Values at an effective energy of about 50 keV (an 80 kVp spine technique through a grid):
water-like soft tissue 0.0227, muscle 0.0235, fat 0.0190, lung 0.006 (aerated, 0.25 g/ml),
cortical bone 0.070-0.085 (less with age), cancellous bone a mineral part (0.020-0.032 at 30
years, 0.4 % less a year after) plus its marrow (water and fat by the fat fraction), titanium
0.50 and a titanium cage (porous) 0.30. Another tube voltage (drawn 70-90 kVp) moves the
effective energy: every coefficient is scaled by ``1 - k (kVp - 80)``, with ``k`` 0.004 for soft
tissue, 0.010 for bone and 0.018 for metal (bone and metal fall faster with energy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["XrTable", "draw_xr_table"]


@dataclass(frozen=True)
class XrTable:
    kvp: float
    soft: float
    muscle: float
    fat: float
    lung: float
    cortical: float
    mineral: float
    metal: float
    cage: float

    def cancellous(self, fat_fraction: float) -> float:
        """Cancellous bone: its mineral plus marrow (water and fat)."""
        marrow = (1.0 - fat_fraction) * self.soft + fat_fraction * self.fat
        return self.mineral + marrow

    def excess(self, mu: float) -> float:
        """What a structure adds to a ray over the soft tissue it displaces."""
        return mu - self.soft

    def as_dict(self) -> dict[str, float]:
        return {k: round(float(v), 5) for k, v in self.__dict__.items()}


def draw_xr_table(rng: np.random.Generator, age: float) -> XrTable:
    """The coefficients of one patient and technique."""
    kvp = float(rng.choice([70.0, 75.0, 77.0, 80.0, 81.0, 85.0, 90.0]))
    soft_k, bone_k, metal_k = (1.0 - k * (kvp - 80.0) for k in (0.004, 0.010, 0.018))
    ageing = max(0.0, age - 30.0)
    cortical = float(rng.uniform(0.078, 0.085)) * (1.0 - 0.002 * ageing)
    mineral = float(rng.uniform(0.020, 0.032)) * max(0.45, 1.0 - 0.004 * ageing)
    return XrTable(
        kvp=kvp,
        soft=0.0227 * soft_k,
        muscle=0.0235 * soft_k,
        fat=0.0190 * soft_k,
        lung=0.006 * soft_k,
        cortical=cortical * bone_k,
        mineral=mineral * bone_k,
        metal=0.50 * metal_k,
        cage=0.30 * metal_k,
    )
