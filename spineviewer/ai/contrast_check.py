"""Does a sagittal MR image look like the contrast its header names? (numpy only)

The header can be wrong (a T1 series described as "T2", timing fields stripped by an
anonymiser). Once the vertebral bodies are found, the image itself says something about its
weighting: on T1 the fatty marrow of the bodies is bright and the discs are darker than it;
on T2 and STIR a healthy nucleus is brighter than the marrow. :func:`looks_t1` compares the
median signal of small discs of tissue at the disc centres with that at the body centres on
the slice nearest the column's middle: when every disc is clearly darker than the marrow the
image looks T1-weighted.

This is a consistency check, not a classifier: degenerated discs are dark on T2 too, so a T2
spine whose every disc is degenerated looks T1-weighted here. The pipeline therefore only
marks the disc states "uncertain" with the reason; it never relabels the series.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from spineviewer.geometry import Plane

__all__ = ["DARK_DISC_RATIO", "disc_to_marrow", "looks_t1"]

#: Disc / marrow signal below this at every level looks T1-weighted.
DARK_DISC_RATIO = 0.75
#: Radius (mm) of the tissue sampled around each centre.
SAMPLE_MM = 4.0


def _median_near(values: np.ndarray, plane: Plane, point: ArrayLike) -> float | None:
    row, col = (float(v) for v in plane.to_pixel(point))
    dr, dc = plane.spacing
    rr = int(np.ceil(SAMPLE_MM / dr))
    rc = int(np.ceil(SAMPLE_MM / dc))
    r0, c0 = round(row), round(col)
    if not (0 <= r0 < values.shape[0] and 0 <= c0 < values.shape[1]):
        return None
    patch = values[max(r0 - rr, 0) : r0 + rr + 1, max(c0 - rc, 0) : c0 + rc + 1]
    return float(np.median(patch)) if patch.size else None


def disc_to_marrow(
    values: np.ndarray,
    plane: Plane,
    bodies: Mapping[str, ArrayLike],
    discs: Mapping[str, ArrayLike],
) -> list[float]:
    """Per disc, its median signal over the mean of its two bodies' (``discs`` named
    ``"UPPER-LOWER"``, centres in patient mm; ``bodies`` label -> centre)."""
    ratios = []
    for level, centre in discs.items():
        upper, lower = level.split("-")
        if upper not in bodies or lower not in bodies:
            continue
        disc = _median_near(values, plane, centre)
        marrow = [_median_near(values, plane, bodies[b]) for b in (upper, lower)]
        known = [m for m in marrow if m is not None and m > 0]
        if disc is None or not known:
            continue
        ratios.append(disc / float(np.mean(known)))
    return ratios


def looks_t1(ratios: Sequence[float], minimum: int = 3) -> bool:
    """True when at least ``minimum`` discs were measured and every one is darker than
    :data:`DARK_DISC_RATIO` times its marrow."""
    return len(ratios) >= minimum and max(ratios) < DARK_DISC_RATIO
