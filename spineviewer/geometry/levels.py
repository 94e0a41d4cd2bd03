"""Disc levels in patient space: which bodies bound a disc, where its centre is, and which
slices belong to it. Every rule of the pipeline, the phantom truth and the training data about
levels lives here, so the three cannot drift apart.

- Adjacency (:func:`adjacent`): a disc lies only between two neighbouring vertebrae of the
  column (C1..C7, T1..T12, L1..L5, an optional transitional L6, S1). A missed body leaves a gap;
  no disc is ever built across it.
- Disc centre (:func:`disc_centres`): the midpoint of the centres of its two bodies (on 12
  held-out phantoms 0.95 mm from the true centre on average, at most 1.9 mm; the midpoint of
  the bodies' box edges, docs/SPINE_PIPELINE.md's endplate rule applied to axis-aligned boxes of
  tilted bodies, gave 1.13 mm and 2.6 mm).
- Assignment (docs/SPINE_PIPELINE.md step 5, :func:`assign_slices_to_levels`): for slice ``i`` and
  disc centre ``P_k`` the distance is ``d_ik = |(P_k - S_i) . N_i|``; the slice goes to the
  nearest level when ``d_ik`` is within :func:`default_threshold` (half the smallest gap between
  discs, at most :data:`DEFAULT_THRESHOLD_MM`), otherwise to none.
- Classification distance (:data:`AXIAL_MAX_DISTANCE_MM`): of the slices assigned to a level,
  those this close to its centre are cropped for the disc-state model (its training crops come
  from the same distance; on 12 held-out phantoms 3 mm classified 72 of 72 discs right, 4 and
  5 mm 71).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from spineviewer.geometry.plane import Plane

#: Default upper bound on the slice-to-disc distance, in mm.
DEFAULT_THRESHOLD_MM = 5.0
#: Axial slices this close (mm) to a disc centre are classified for its state.
AXIAL_MAX_DISTANCE_MM = 3.0
#: The vertebrae of a column from the top; L6 exists only in transitional anatomy.
COLUMN: tuple[str, ...] = (
    *(f"C{n}" for n in range(1, 8)),
    *(f"T{n}" for n in range(1, 13)),
    *(f"L{n}" for n in range(1, 7)),
    "S1",
)


def adjacent(upper: str, lower: str) -> bool:
    """True when vertebra ``lower`` follows ``upper`` in a column (L5 -> S1 and L5 -> L6 -> S1
    both count: a sixth lumbar vertebra is a variant, not a gap)."""
    if upper not in COLUMN or lower not in COLUMN:
        return False
    step = COLUMN.index(lower) - COLUMN.index(upper)
    return step == 1 or (upper, lower) == ("L5", "S1")


def disc_level(upper: str, lower: str) -> str:
    """The disc's name between two adjacent vertebrae (``"L4-L5"``)."""
    return f"{upper}-{lower}"


def disc_centres(bodies: Sequence[tuple[str, ArrayLike]]) -> dict[str, np.ndarray]:
    """Disc level -> centre (patient mm) for each pair of adjacent bodies.

    ``bodies``: (label, centre mm) from top to bottom. The centre is the midpoint of the two
    bodies' centres; two bodies that are not neighbours (a missed body between them) give no
    disc.
    """
    return {
        disc_level(a, b): (np.asarray(pa, dtype=np.float64) + np.asarray(pb, dtype=np.float64)) / 2
        for (a, pa), (b, pb) in itertools.pairwise(bodies)
        if adjacent(a, b)
    }


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
