"""The spinal canal's centre line in a class label map, and the bone that belongs to the column
around it (no torch; SimpleITK for the connected parts).

A vertebra surrounds the spinal canal: its body lies in front of the canal, its arch and
processes beside and behind it. Bone that the network marks as vertebra or sacrum far from the
canal (ribs, the pelvis, anything else a field of view holds around the spine) is not part of
a vertebra, and must neither seed one nor be counted as one. So:

1. **The centre line** (:func:`canal_line`): the largest connected part of the canal class
   gives the slice to start from (its fullest); from there, up and down, each axial slice's
   centre is the centroid of the largest part of the canal on that slice within
   :data:`CANAL_STEP_MM` of the previous slice's centre. Slices without such a part (the
   canal missed there, or beyond its ends) take the centre interpolated between their
   neighbours (the nearest end's beyond the ends); the line is then smoothed along k over
   :data:`SMOOTH_MM`.
2. **The column's bone** (:func:`column_bone`): a voxel of the vertebra class is kept within
   :data:`VERTEBRA_RADIUS_MM` of the line on its slice, one of the sacrum class within
   :data:`SACRUM_RADIUS_MM`; of those, only the connected parts that come within
   :data:`NEAR_CANAL_MM` of the line are kept (a vertebra's pedicles and the back of its
   body border the canal; a piece of rib or pelvis cut by the radius does not).

The distances are anatomical, checked against the training generator's held-out phantoms
(seeds 9000-9009: vertebra voxels at most 56 mm from the canal's centre, 56 mm in front,
45 mm behind and 38 mm to the side; the sacrum's alae 70 mm to the side): an adult lumbar
body is 30-35 mm deep in front of a canal 15-20 mm across (its front 50-60 mm from the
canal's centre), a transverse process reaches 40-50 mm to the side and a spinous process
40-50 mm back; the sacral alae 60-70 mm to the side, and the sacroiliac joints and the ilium
beyond. Without a canal in the map nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CANAL_STEP_MM",
    "MIN_CANAL_ML",
    "NEAR_CANAL_MM",
    "SACRUM_RADIUS_MM",
    "SMOOTH_MM",
    "VERTEBRA_RADIUS_MM",
    "CanalLine",
    "canal_line",
    "column_bone",
    "components",
]

#: A slice's canal centre is at most this far (in plane) from the previous slice's.
CANAL_STEP_MM = 10.0
#: The centre line is a moving average over this length along k.
SMOOTH_MM = 10.0
#: The canal class needs a part this large (mL) for a centre line; else nothing is dropped.
MIN_CANAL_ML = 1.0
#: Vertebra voxels further than this (in plane) from the line on their slice are not a
#: vertebra's (body front and processes: phantoms at most 56 mm).
VERTEBRA_RADIUS_MM = 60.0
#: Sacrum voxels further than this are not the sacrum's (its alae: phantoms at most 70 mm).
SACRUM_RADIUS_MM = 75.0
#: A connected part of the column's bone must come this close to the line (the canal's radius
#: and the pedicles or the back of a body around it).
NEAR_CANAL_MM = 20.0

IntArray = NDArray[np.int32]


def components(mask: NDArray[np.bool_]) -> IntArray:
    """The connected parts of ``mask`` (2D or 3D; face, edge and corner neighbours) as 1, 2,
    ... (0 elsewhere)."""
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(mask.astype(np.uint8))
    return sitk.GetArrayFromImage(sitk.ConnectedComponent(image, False)).astype(np.int32)


@dataclass(frozen=True)
class CanalLine:
    """The canal's centre (row j, column i, in voxels) on every slice k, and which slices had
    the canal itself (the others interpolated)."""

    centres: NDArray[np.float64]
    tracked: NDArray[np.bool_]

    def flipped(self) -> CanalLine:
        """The line of the same map with k reversed."""
        return CanalLine(self.centres[::-1].copy(), self.tracked[::-1].copy())

    @property
    def lowest(self) -> int:
        """The lowest slice that had the canal."""
        return int(np.flatnonzero(self.tracked)[0])


def canal_line(canal: NDArray[np.bool_], spacing: Sequence[float]) -> CanalLine | None:
    """The centre line of the canal mask ``canal`` (k, j, i; voxel ``spacing`` in mm), or None
    when it holds no part of :data:`MIN_CANAL_ML`."""
    if not canal.any():
        return None
    sk, sj, si = (float(s) for s in spacing)
    parts = components(canal)
    sizes = np.bincount(parts.ravel())
    sizes[0] = 0
    largest = int(np.argmax(sizes))
    if sizes[largest] * sk * sj * si / 1000.0 < MIN_CANAL_ML:
        return None
    slices = canal.shape[0]
    centres = np.full((slices, 2), np.nan)
    start = int(np.argmax(np.count_nonzero(parts == largest, axis=(1, 2))))
    for order in (range(start, slices), range(start, -1, -1)):
        previous = None
        for k in order:
            here = _slice_centre(canal[k], previous, (sj, si))
            if here is not None:
                centres[k] = previous = here
    tracked = ~np.isnan(centres[:, 0])
    known = np.flatnonzero(tracked)
    every = np.arange(slices)
    for axis in (0, 1):
        centres[:, axis] = np.interp(every, known, centres[known, axis])
    half = round(SMOOTH_MM / 2.0 / sk)
    if half > 0:
        padded = np.pad(centres, ((half, half), (0, 0)), mode="edge")
        kernel = np.ones(2 * half + 1) / (2 * half + 1)
        centres = np.stack([np.convolve(padded[:, a], kernel, "valid") for a in (0, 1)], axis=1)
    return CanalLine(centres, tracked)


def _slice_centre(
    plane: NDArray[np.bool_], previous: NDArray[np.float64] | None, spacing: tuple[float, float]
) -> NDArray[np.float64] | None:
    """The centroid (j, i) of the largest canal part on one slice within
    :data:`CANAL_STEP_MM` of ``previous`` (any, on the first slice)."""
    if not plane.any():
        return None
    parts = components(plane)
    count = int(parts.max())
    rows, cols = np.nonzero(parts)
    values = parts[rows, cols]
    sizes = np.bincount(values, minlength=count + 1).astype(np.float64)
    sizes[0] = 1.0
    cj = np.bincount(values, rows, minlength=count + 1) / sizes
    ci = np.bincount(values, cols, minlength=count + 1) / sizes
    sizes[0] = 0.0
    if previous is not None:
        far = np.hypot((cj - previous[0]) * spacing[0], (ci - previous[1]) * spacing[1])
        sizes[far > CANAL_STEP_MM] = 0.0
    best = int(np.argmax(sizes))
    return None if sizes[best] == 0 else np.array([cj[best], ci[best]])


def column_bone(
    vertebra: NDArray[np.bool_],
    sacrum: NDArray[np.bool_],
    line: CanalLine,
    spacing: Sequence[float],
) -> NDArray[np.bool_]:
    """Which voxels of the ``vertebra`` and ``sacrum`` class masks belong to the column around
    the canal's centre ``line`` (see the module's rule)."""
    sj, si = float(spacing[1]), float(spacing[2])
    shape = vertebra.shape
    rows = (np.arange(shape[1], dtype=np.float64) * sj)[:, None]
    cols = (np.arange(shape[2], dtype=np.float64) * si)[None, :]
    inside = np.zeros(shape, dtype=bool)
    near = np.zeros(shape, dtype=bool)
    for k in range(shape[0]):
        if not (vertebra[k].any() or sacrum[k].any()):
            continue
        cj, ci = line.centres[k]
        distance = np.hypot(rows - cj * sj, cols - ci * si)
        inside[k] = (vertebra[k] & (distance <= VERTEBRA_RADIUS_MM)) | (
            sacrum[k] & (distance <= SACRUM_RADIUS_MM)
        )
        near[k] = distance <= NEAR_CANAL_MM
    parts = components(inside)
    touching = np.zeros(int(parts.max(initial=0)) + 1, dtype=bool)
    touching[np.unique(parts[near & inside])] = True
    touching[0] = False
    return touching[parts]
