"""How far a lumbar disc's posterior margin reaches beyond its vertebral bodies, in patient mm.

The clinical nomenclature (Fardon et al. 2014, NASS / ASSR / ASNR) names a disc by where its
tissue lies against the ring apophyses of the bodies above and below: *normal* when it stays
within them; a *bulge* when it extends beyond them over more than a quarter of the
circumference, diffusely, typically 1-3 mm; a *herniation* when the displacement is focal
(under a quarter of the circumference), protrusion or extrusion, usually more than 2-3 mm.
A radiologist reads it on the sagittal images against the line joining the posterior margins
of the two bodies, and on the axial ones.

:func:`measure_disc` reads one disc on each sagittal slice near its centre (the slices of a
fluid-bright contrast, T2 or STIR, where the canal is brighter than everything in front of it):

1. The column's axis between the two bodies is the direction from the lower body's centre to
   the upper one's (projected into the slice); the antero-posterior direction is perpendicular
   to it in the slice, posterior positive (+y in DICOM's LPS).
2. The slice is resampled on a grid in those two directions (:data:`STEP_MM`), lightly
   smoothed. The marrow level is the median of the bodies' centres; the canal level the
   bright end (:data:`CANAL_PERCENTILE`) of what lies behind the bodies. A row's posterior
   margin is where its signal first rises above the midway point (:data:`CANAL_FRACTION`)
   for :data:`RUN_MM`, after the first dark sample (a bright nucleus in front of a dark
   annulus is passed): the disc's tissue, annulus or herniated material, is darker than the
   canal's fluid and fat on T2 and STIR.
3. The reference is the line joining the two bodies' posterior corners, as a radiologist
   draws it: each body's most posterior margin over its half next to the disc (the ring
   apophysis; a posterior wall concave at mid-height does not move it). The disc's extension
   on this slice is the largest distance its rows' margins reach beyond that line (rows within
   :data:`DISC_ROWS` of the spacing from the disc centre; every margin the median over three
   rows, so one noisy row does not count).

Over the slices: ``posterior_extension_mm`` is the largest extension, ``extension_width_mm``
the left-right extent of the slices whose extension is at least :data:`EXTENDS_MM` (each slice
stands for the slices' spacing, so it is coarse), ``measured_width_mm`` the extent of all
slices measured; a bulge extends over the whole measured extent, a herniation over part of it.
No Qt, no torch, no scipy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spineviewer.geometry.plane import Plane

__all__ = [
    "CANAL_FRACTION",
    "EXTENDS_MM",
    "DiscContour",
    "SliceExtension",
    "first_margin",
    "measure_disc",
    "sample_plane",
    "slice_extension",
    "smoothed_rows",
]

#: Grid step (mm) of the resampled slice, and the Gaussian smoothing (mm) applied to it along
#: the antero-posterior direction only (a thin disc's dark margin would fade into the canal
#: above and below it; across rows a median of three margins is taken instead).
STEP_MM = 0.5
SMOOTH_MM = 0.5
#: The canal begins where the signal passes this fraction of the way from the marrow level to
#: the canal level.
CANAL_FRACTION = 0.5
#: The canal level: this percentile of the signal behind the bodies' centres.
CANAL_PERCENTILE = 90.0
#: A contrast whose canal is not at least this much brighter than the marrow is not
#: fluid-bright (T1): the margin cannot be told from the canal there.
MIN_CANAL_TO_MARROW = 1.4
#: The margin must stay above the midway point for this long (mm).
RUN_MM = 1.0
#: Rows within this fraction of the body spacing around a body's centre give its marrow and
#: the canal's level behind it.
WALL_ROWS = 0.12
#: A body's posterior corner: the most posterior margin over the rows from this fraction of
#: the spacing from its centre to that one, toward the disc (a body is about 0.7 of the
#: spacing high, so this is the half of it next to the disc, short of the endplate's rounded
#: edge).
CORNER_ROWS = (0.05, 0.28)
#: Rows within this fraction of the spacing of the disc centre are the disc's.
DISC_ROWS = 0.2
#: How far behind the body centres' line the grid reaches (mm), and in front of it.
BEHIND_MM = 40.0
AHEAD_MM = 5.0
#: An extension of at least this (mm) counts toward ``extension_width_mm``.
EXTENDS_MM = 0.5
_POSTERIOR = np.array([0.0, 1.0, 0.0])


@dataclass(frozen=True)
class SliceExtension:
    """One sagittal slice's reading: its left-right offset from the disc centre (mm, signed
    along the slice normal) and how far the disc's margin reaches beyond the line of the
    bodies' posterior corners."""

    offset_mm: float
    extension_mm: float


@dataclass(frozen=True)
class DiscContour:
    """A disc's posterior margin against its bodies' (mm), over the slices measured."""

    posterior_extension_mm: float
    #: Left-right extent of the slices whose extension is at least :data:`EXTENDS_MM` (each
    #: slice stands for the slices' spacing).
    extension_width_mm: float
    #: Left-right extent of all slices measured.
    measured_width_mm: float
    slices: tuple[SliceExtension, ...]

    @property
    def diffuse(self) -> bool:
        """The margin extends on at least half the extent measured: a bulge's pattern (more
        than a quarter of the circumference, Fardon's line between bulge and herniation, is
        about half the posterior arc the slices span); a herniation extends on less."""
        return self.extension_width_mm >= 0.5 * self.measured_width_mm > 0


def measure_disc(
    images: Sequence[tuple[NDArray[np.floating] | NDArray[np.integer], Plane]],
    upper_mm: ArrayLike,
    lower_mm: ArrayLike,
    thickness_mm: float,
) -> DiscContour | None:
    """The disc between the bodies centred at ``upper_mm`` and ``lower_mm`` (patient mm), read
    on ``images`` (sagittal slices near it: values and plane); ``thickness_mm`` is the extent
    (left-right) each slice stands for. None when no slice could be measured."""
    upper = np.asarray(upper_mm, dtype=np.float64)
    lower = np.asarray(lower_mm, dtype=np.float64)
    centre = (upper + lower) / 2
    found = []
    for values, plane in images:
        extension = slice_extension(values, plane, upper, lower)
        if extension is not None:
            found.append(SliceExtension(round(float(plane.distance(centre)), 2), extension))
    if not found:
        return None
    found.sort(key=lambda s: s.offset_mm)
    extending = sum(s.extension_mm >= EXTENDS_MM for s in found)
    return DiscContour(
        posterior_extension_mm=round(max(s.extension_mm for s in found), 2),
        extension_width_mm=round(extending * thickness_mm, 1),
        measured_width_mm=round(len(found) * thickness_mm, 1),
        slices=tuple(found),
    )


def slice_extension(
    values: NDArray[np.floating] | NDArray[np.integer],
    plane: Plane,
    upper_mm: NDArray[np.float64],
    lower_mm: NDArray[np.float64],
) -> float | None:
    """How far (mm) the disc between the two bodies reaches beyond the line of their posterior
    corners on this slice (negative: it stays in front of it); None when the slice cannot be
    measured (a body off the image, a contrast without a bright canal, a corner not found)."""
    lower = lower_mm - plane.normal * plane.distance(lower_mm)
    upper = upper_mm - plane.normal * plane.distance(upper_mm)
    span = float(np.linalg.norm(upper - lower))
    if span < 5.0:
        return None
    axis = (upper - lower) / span
    ap = np.cross(plane.normal, axis)
    if float(ap @ _POSTERIOR) < 0:
        ap = -ap
    rows = np.arange(-0.1 * span, 1.1 * span + STEP_MM / 2, STEP_MM)
    cols = np.arange(-AHEAD_MM, BEHIND_MM + STEP_MM / 2, STEP_MM)
    points = lower + rows[:, None, None] * axis + cols[None, :, None] * ap
    grid = sample_plane(np.asarray(values, dtype=np.float64), plane, points.reshape(-1, 3))
    grid = grid.reshape(len(rows), len(cols))
    if np.isnan(grid).any():
        return None
    grid = smoothed_rows(grid, SMOOTH_MM / STEP_MM)
    at_lower = np.abs(rows) <= WALL_ROWS * span
    at_upper = np.abs(rows - span) <= WALL_ROWS * span
    bodies = at_lower | at_upper
    inside = (cols >= 0) & (cols <= 5.0)
    marrow = float(np.median(grid[np.ix_(bodies, inside)]))
    canal = float(np.percentile(grid[np.ix_(bodies, cols > 5.0)], CANAL_PERCENTILE))
    if marrow <= 0 or canal < MIN_CANAL_TO_MARROW * marrow:
        return None
    threshold = marrow + CANAL_FRACTION * (canal - marrow)
    start = int(np.argmin(np.abs(cols)))
    margins = np.array([first_margin(row[start:], threshold) for row in grid]) + cols[start]
    padded = np.pad(margins, 1, mode="edge")  # a margin: the median of three rows
    margins = np.median(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)
    corners = []
    for near in (CORNER_ROWS, (1.0 - CORNER_ROWS[1], 1.0 - CORNER_ROWS[0])):
        half = (rows >= near[0] * span) & (rows <= near[1] * span)
        if np.isnan(margins[half]).all():
            return None
        at = int(np.flatnonzero(half)[np.nanargmax(margins[half])])
        corners.append((float(rows[at]), float(margins[at])))
    (r0, m0), (r1, m1) = corners
    line = m0 + (m1 - m0) * (rows - r0) / (r1 - r0)
    beyond = (margins - line)[np.abs(rows - span / 2) <= DISC_ROWS * span]
    if np.isnan(beyond).all():
        return None
    return round(float(np.nanmax(beyond)), 2)


def first_margin(
    profile: NDArray[np.float64], threshold: float, step_mm: float = STEP_MM, run_mm: float = RUN_MM
) -> float:
    """Where (mm from the profile's start, samples ``step_mm`` apart) the signal first stays
    above ``threshold`` for ``run_mm``, after the first sample below it; NaN when it never
    does."""
    below = np.flatnonzero(profile < threshold)
    if not len(below):
        return float("nan")
    run = max(1, round(run_mm / step_mm))
    above = profile > threshold
    for i in range(int(below[0]), len(profile) - run + 1):
        if above[i : i + run].all():
            return i * step_mm
    return float("nan")


def smoothed_rows(grid: NDArray[np.float64], sigma: float) -> NDArray[np.float64]:
    """Each row of ``grid`` convolved with a Gaussian of ``sigma`` samples (ends repeated)."""
    reach = max(1, int(np.ceil(3 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-reach, reach + 1) / sigma) ** 2)
    taps /= taps.sum()
    padded = np.pad(grid, [(0, 0), (reach, reach)], mode="edge")
    return np.apply_along_axis(np.convolve, 1, padded, taps, mode="valid")


def sample_plane(
    image: NDArray[np.float64], plane: Plane, points: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Bilinear samples of ``image`` at patient ``points``, NaN off the image."""
    rows, cols = plane.to_pixel(points)
    height, width = image.shape
    off = (rows < 0) | (cols < 0) | (rows > height - 1) | (cols > width - 1)
    r = np.clip(rows, 0, height - 1)
    c = np.clip(cols, 0, width - 1)
    r0 = np.minimum(r.astype(np.intp), max(height - 2, 0))
    c0 = np.minimum(c.astype(np.intp), max(width - 2, 0))
    dr, dc = r - r0, c - c0
    corners = image[r0, c0], image[r0, c0 + 1], image[r0 + 1, c0], image[r0 + 1, c0 + 1]
    weights = (1 - dr) * (1 - dc), (1 - dr) * dc, dr * (1 - dc), dr * dc
    found = sum(w * v for w, v in zip(weights, corners, strict=True))
    return np.where(off, np.nan, found)
