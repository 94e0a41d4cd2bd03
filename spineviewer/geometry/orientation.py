"""Orientation letters (A/P/S/I/L/R) for image edges, from direction cosines (DICOM LPS)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

#: Letters for the positive and negative direction of each patient axis (LPS).
_AXIS_LETTERS = (("L", "R"), ("P", "A"), ("S", "I"))


def direction_letters(vector: ArrayLike, threshold: float = 0.25, most: int = 3) -> str:
    """Letters of a patient direction, strongest component first ('L', 'AI', ...).

    Components weaker than ``threshold`` (of the unit vector) are left out.
    """
    v = np.asarray(vector, dtype=np.float64).reshape(3)
    norm = float(np.linalg.norm(v))
    if norm == 0.0:
        return ""
    v = v / norm
    order = np.argsort(-np.abs(v), kind="stable")
    letters = []
    for axis in order[:most]:
        value = float(v[axis])
        if abs(value) >= threshold:
            pos, neg = _AXIS_LETTERS[int(axis)]
            letters.append(pos if value > 0 else neg)
    return "".join(letters)


def edge_letters(row_dir: ArrayLike, col_dir: ArrayLike) -> dict[str, str]:
    """Letters at each edge of an image drawn rows down, columns right.

    ``row_dir`` is the patient direction of increasing column (screen right), ``col_dir`` that of
    increasing row (screen down).
    """
    right = np.asarray(row_dir, dtype=np.float64)
    down = np.asarray(col_dir, dtype=np.float64)
    return {
        "left": direction_letters(-right),
        "right": direction_letters(right),
        "top": direction_letters(-down),
        "bottom": direction_letters(down),
    }
