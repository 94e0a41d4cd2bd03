"""Tissue classes of the phantom and what each looks like on T2, T1 and STIR MR and on CT."""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numpy.typing import NDArray


class Tissue(IntEnum):
    """Tissue class painted into label images (0 = air outside the body)."""

    AIR = 0
    FAT = 1
    VISCERA = 2
    MUSCLE = 3
    CORTEX = 4
    MARROW = 5
    ANNULUS = 6
    NUCLEUS = 7
    NUCLEUS_DEGENERATE = 8
    HERNIATION = 9
    CSF = 10
    CORD = 11
    CAUDA = 12
    METAL = 13


#: Relative T2-weighted fast spin echo signal (CSF = 1).
T2_SIGNAL: dict[Tissue, float] = {
    Tissue.AIR: 0.0,
    Tissue.FAT: 0.70,
    Tissue.VISCERA: 0.33,
    Tissue.MUSCLE: 0.20,
    Tissue.CORTEX: 0.05,
    Tissue.MARROW: 0.45,
    Tissue.ANNULUS: 0.13,
    Tissue.NUCLEUS: 0.88,
    Tissue.NUCLEUS_DEGENERATE: 0.36,
    Tissue.HERNIATION: 0.30,
    Tissue.CSF: 1.0,
    Tissue.CORD: 0.42,
    Tissue.CAUDA: 0.55,
    Tissue.METAL: 0.0,
}

#: Relative T1-weighted spin echo signal (fat = 1): fat and fatty marrow bright, fluid dark,
#: discs intermediate to dark (darker than marrow), muscle intermediate.
T1_SIGNAL: dict[Tissue, float] = {
    Tissue.AIR: 0.0,
    Tissue.FAT: 1.0,
    Tissue.VISCERA: 0.42,
    Tissue.MUSCLE: 0.36,
    Tissue.CORTEX: 0.04,
    Tissue.MARROW: 0.78,
    Tissue.ANNULUS: 0.24,
    Tissue.NUCLEUS: 0.36,
    Tissue.NUCLEUS_DEGENERATE: 0.30,
    Tissue.HERNIATION: 0.32,
    Tissue.CSF: 0.13,
    Tissue.CORD: 0.46,
    Tissue.CAUDA: 0.40,
    Tissue.METAL: 0.0,
}

#: Relative STIR signal (short tau inversion recovery, CSF = 1): fat nulled, so fat and fatty
#: marrow are dark; fluid (CSF, a healthy nucleus) bright; muscle dark.
STIR_SIGNAL: dict[Tissue, float] = {
    Tissue.AIR: 0.0,
    Tissue.FAT: 0.05,
    Tissue.VISCERA: 0.38,
    Tissue.MUSCLE: 0.14,
    Tissue.CORTEX: 0.03,
    Tissue.MARROW: 0.10,
    Tissue.ANNULUS: 0.12,
    Tissue.NUCLEUS: 0.80,
    Tissue.NUCLEUS_DEGENERATE: 0.30,
    Tissue.HERNIATION: 0.34,
    Tissue.CSF: 1.0,
    Tissue.CORD: 0.40,
    Tissue.CAUDA: 0.52,
    Tissue.METAL: 0.0,
}

#: CT numbers in Hounsfield units; cortex and cancellous bone are varied per seed.
CT_HU: dict[Tissue, float] = {
    Tissue.AIR: -1000.0,
    Tissue.FAT: -100.0,
    Tissue.VISCERA: 40.0,
    Tissue.MUSCLE: 50.0,
    Tissue.CORTEX: 850.0,
    Tissue.MARROW: 250.0,
    Tissue.ANNULUS: 90.0,
    Tissue.NUCLEUS: 75.0,
    Tissue.NUCLEUS_DEGENERATE: 80.0,
    Tissue.HERNIATION: 85.0,
    Tissue.CSF: 10.0,
    Tissue.CORD: 35.0,
    Tissue.CAUDA: 25.0,
    Tissue.METAL: 3000.0,
}


def lookup_table(values: dict[Tissue, float]) -> NDArray[np.float64]:
    """A dense array indexed by tissue value (use as ``table[label_image]``)."""
    table = np.zeros(max(Tissue) + 1, dtype=np.float64)
    for tissue, value in values.items():
        table[int(tissue)] = value
    return table
