"""Assign image slices to the nearest of a set of named points (disc centres).

SPINE_PIPELINE.md step 5: for slice ``i`` and disc centre ``P_k`` the distance is
``d_ik = |(P_k - S_i) . N_i|``; the slice goes to the nearest level when ``d_ik`` is under a
threshold, otherwise to none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from spineviewer.geometry.plane import Plane

#: Default upper bound on the slice-to-disc distance, in mm.
DEFAULT_THRESHOLD_MM = 5.0


@dataclass(frozen=True)
class LevelAssignment:
    """Which level one slice was assigned to, and how far it lay from each candidate."""

    slice_index: int
    level: str | None
    distance_mm: float | None
    distances_mm: dict[str, float]


def default_threshold(centres: Mapping[str, ArrayLike]) -> float:
    """Half the smallest gap between consecutive centres, capped at ``DEFAULT_THRESHOLD_MM``."""
    points = [np.asarray(p, dtype=np.float64) for p in centres.values()]
    if len(points) < 2:
        return DEFAULT_THRESHOLD_MM
    gaps = [float(np.linalg.norm(p - q)) for i, p in enumerate(points) for q in points[i + 1 :]]
    return min(DEFAULT_THRESHOLD_MM, 0.5 * min(gaps))


def assign_slices_to_levels(
    planes: Sequence[Plane],
    centres: Mapping[str, ArrayLike],
    threshold_mm: float | None = None,
) -> list[LevelAssignment]:
    """Assign each plane to the nearest named centre within ``threshold_mm``.

    Parameters
    ----------
    planes
        The slices (e.g. axial images), in any order; ``slice_index`` is the position here.
    centres
        Level name (``"L4-L5"``) -> patient position in mm.
    threshold_mm
        Largest accepted distance; ``None`` uses :func:`default_threshold`.
    """
    limit = default_threshold(centres) if threshold_mm is None else float(threshold_mm)
    names = list(centres)
    points = np.array([np.asarray(centres[n], dtype=np.float64) for n in names]).reshape(-1, 3)
    result: list[LevelAssignment] = []
    for index, plane in enumerate(planes):
        if not names:
            result.append(LevelAssignment(index, None, None, {}))
            continue
        dist = np.abs(plane.distance(points))
        best = int(np.argmin(dist))
        distances = {n: float(d) for n, d in zip(names, dist, strict=True)}
        within = float(dist[best]) <= limit
        result.append(
            LevelAssignment(
                slice_index=index,
                level=names[best] if within else None,
                distance_mm=float(dist[best]),
                distances_mm=distances,
            )
        )
    return result
