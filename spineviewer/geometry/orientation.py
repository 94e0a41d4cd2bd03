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


#: PatientOrientation letters as LPS unit vectors (H = head = S, F = feet = I).
_CODE_VECTORS = {
    "L": (1.0, 0.0, 0.0),
    "R": (-1.0, 0.0, 0.0),
    "P": (0.0, 1.0, 0.0),
    "A": (0.0, -1.0, 0.0),
    "H": (0.0, 0.0, 1.0),
    "F": (0.0, 0.0, -1.0),
}


def orientation_code_vector(code: str) -> np.ndarray:
    """LPS direction of a PatientOrientation code ("L", "FP", ...), normalised.

    Each letter adds its axis (the first letter is the main direction in DICOM, but the
    relative weights are not given, so they count alike); "" or unknown letters give zeros.
    """
    v = np.zeros(3)
    for letter in code.upper():
        v += _CODE_VECTORS.get(letter, (0.0, 0.0, 0.0))
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v
