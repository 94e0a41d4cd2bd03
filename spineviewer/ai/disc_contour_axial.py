"""A lumbar disc's posterior outline on its axial T2 slices: how far a focal part of it reaches
beyond the smooth outline of the rest, in patient mm, and over how wide an arc.

The axial plane is where a reader tells a herniation from a bulge (Fardon et al. 2014): a
herniation is disc material displaced *focally*, over less than a quarter of the circumference
(protrusion, extrusion; usually more than 2 mm, often paracentral, where the sagittal slices
beside the midline may miss it); a bulge extends the whole outline evenly over a wide arc.
On the axial slice the disc's outline is smooth (oval to a rounded rectangle, its posterior
margin flat, slightly concave or convex); a herniation is a bump on it.

:func:`measure_axial_slice` reads one axial slice through the disc:

1. The slice is resampled on a grid centred on the disc centre (its projection into the
   slice), :data:`STEP_MM` apart, rows in the antero-posterior direction (posterior positive,
   +y of DICOM's LPS projected into the slice), columns left-right, and smoothed
   (:data:`SMOOTH_MM`).
2. The disc's level is the dark end (:data:`DISC_PERCENTILE`) of the grid around its centre
   (the annulus is the darkest tissue there on T2), the canal's the bright end
   (:data:`CANAL_PERCENTILE`) of what lies behind it (epidural fat, cerebrospinal fluid).
   A contrast whose canal is not :data:`MIN_CANAL_TO_DISC` times brighter is not measured.
3. Each column within :data:`HALF_WIDTH_MM` of the centre has a posterior margin: going back
   from the centre, after the signal stayed below the midway point (:data:`CANAL_FRACTION`)
   for :data:`ANNULUS_MM` (the annulus's posterior wall; a bright nucleus is passed), where it
   first rises above it for :data:`RUN_MM`: disc and herniated material are darker than the
   canal's fluid and fat. Each margin is the median over :data:`SMOOTH_COLS` columns; one far
   in front of the others (:data:`AHEAD_OUTLIER_MM`, noise inside the disc) is left out.
4. The smooth outline is an even quartic in the left-right position (a normal disc's posterior
   margin is symmetric about its centre: flat, concave or convex, curving forward toward the
   sides) fitted to the margins from below (:data:`FIT_ROUNDS` rounds, each dropping the
   margins more than :data:`FIT_KEEP_MM` behind the last fit): a herniation, narrower than
   the arc fitted, lies behind it and is left out.
5. ``focal_mm`` is the most the margins stay behind the fit over :data:`FOCAL_MIN_WIDTH_MM`
   side by side (a noisy margin or a facet joint's edge is narrower than a herniation), its
   peak within :data:`FOCAL_HALF_WIDTH_MM` of the centre; ``focal_width_mm`` is the
   left-right extent of the columns around the peak reaching at least half of it (and
   :data:`FOCAL_MIN_MM`), ``focal_arc_deg`` the arc that extent spans seen from the disc
   centre (a herniation's is well under a quarter of the circumference, 90 degrees),
   ``focal_offset_mm`` where the peak lies (patient left positive).

A bulge extends the whole outline evenly: its axial outline stays smooth (``focal_mm`` near
zero), so it is not read as a herniation; how far it reaches beyond the bodies is the sagittal
measurement's (:mod:`spineviewer.ai.disc_contour`; on an axial slice through the disc the
bodies' ring apophyses are not seen).

:func:`measure_axial` keeps the slice whose reading has the largest ``focal_mm`` of those
given (the slices the pipeline assigned to the disc; a herniation may sit above or below its
disc's middle). No Qt, no torch, no scipy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spineviewer.ai.disc_contour import first_margin, sample_plane, smoothed_rows
from spineviewer.geometry.plane import Plane

__all__ = [
    "CANAL_FRACTION",
    "FOCAL_MIN_MM",
    "AxialContour",
    "measure_axial",
    "measure_axial_slice",
]

#: Grid step (mm), and the Gaussian smoothing (mm) applied to the grid in both directions
#: (noise in a bright nucleus must not pass for its dark annulus).
STEP_MM = 0.5
SMOOTH_MM = 1.0
#: Columns this far (mm) either side of the disc centre are read (a lumbar disc is 40-50 mm
#: wide; the posterior arc within this stays in front of the facet joints and off the
#: outline's lateral curve, and holds paracentral herniations).
HALF_WIDTH_MM = 16.0
#: How far behind the centre the grid reaches (mm), and in front of it.
BEHIND_MM = 35.0
AHEAD_MM = 6.0
#: The disc's level: this percentile of the grid within 12 mm of its centre (the annulus).
DISC_PERCENTILE = 10.0
#: The canal's level: this percentile of what lies 5 mm or more behind the disc centre (within
#: 10 mm of it left-right).
CANAL_PERCENTILE = 90.0
#: A contrast whose canal is not this much brighter than the disc's dark annulus is not
#: fluid-bright (T1): the margin cannot be told from the canal there.
MIN_CANAL_TO_DISC = 1.6
#: The margin is where the signal passes this fraction of the way from the disc's level to
#: the canal's, and stays above it for :data:`RUN_MM`.
CANAL_FRACTION = 0.5
RUN_MM = 1.0
#: The annulus's posterior wall: the margin is looked for after the signal stayed below the
#: midway point this long (mm).
ANNULUS_MM = 1.5
#: The smooth outline's fit: rounds, and how far behind the last fit (mm) a margin may lie
#: and stay in the next round.
FIT_ROUNDS = 6
FIT_KEEP_MM = 0.5
#: The fit's powers of the left-right position (even: symmetric about the disc centre).
FIT_POWERS = (0, 2, 4)
#: Each margin is the median over this many columns (an odd number; :data:`STEP_MM` apart):
#: a herniation is 7 mm wide or more, a margin lost to noise on one or two columns is not.
SMOOTH_COLS = 7
#: A focal extension's peak is looked for this far (mm) either side of the centre: the
#: training generator draws paracentral herniations up to about 9 mm off the centre, and on
#: its held-out phantoms the normal discs' largest readings lay 11-13 mm off it (the
#: outline's curve toward the sides, the facet joints).
FOCAL_HALF_WIDTH_MM = 10.0
#: A focal extension is how far the margin stays behind the fit over this width (mm): a
#: herniation is 7 mm wide or more at its base, a noisy margin or a facet joint's edge
#: narrower.
FOCAL_MIN_WIDTH_MM = 4.0
#: A margin this far (mm) in front of the median one lies inside the disc (noise in its
#: nucleus): left out.
AHEAD_OUTLIER_MM = 6.0
#: A focal extension's extent counts the columns reaching at least this (mm) behind the fit.
FOCAL_MIN_MM = 1.0
_POSTERIOR = np.array([0.0, 1.0, 0.0])
_LEFT = np.array([1.0, 0.0, 0.0])


@dataclass(frozen=True)
class AxialContour:
    """A disc's posterior outline on one axial slice (mm, degrees)."""

    #: How far the most displaced part of the posterior margin lies behind the smooth outline.
    focal_mm: float
    #: Left-right extent of that displacement (columns reaching half of it, at least
    #: :data:`FOCAL_MIN_MM`), and the arc it spans seen from the disc centre (0: none).
    focal_width_mm: float
    focal_arc_deg: float
    #: Where its peak lies: left-right from the disc centre (patient left positive).
    focal_offset_mm: float
    #: The slice's distance from the disc centre (mm).
    slice_distance_mm: float
    #: Left-right extent of the columns measured.
    measured_width_mm: float

    @property
    def side(self) -> str:
        """ "central", "left" or "right" (patient sides) of the displacement's peak."""
        if abs(self.focal_offset_mm) < 4.0:
            return "central"
        return "left" if self.focal_offset_mm > 0 else "right"


def measure_axial(
    images: Sequence[tuple[NDArray[np.floating] | NDArray[np.integer], Plane]],
    centre_mm: ArrayLike,
) -> AxialContour | None:
    """The disc centred at ``centre_mm`` (patient mm) read on each of ``images`` (its axial
    slices: values and plane); the reading with the largest ``focal_mm``. None when no slice
    could be measured."""
    centre = np.asarray(centre_mm, dtype=np.float64)
    found = [r for v, p in images if (r := measure_axial_slice(v, p, centre)) is not None]
    return max(found, key=lambda r: r.focal_mm) if found else None


def measure_axial_slice(
    values: NDArray[np.floating] | NDArray[np.integer], plane: Plane, centre_mm: ArrayLike
) -> AxialContour | None:
    """The disc centred at ``centre_mm`` on this axial slice; None when it cannot be measured
    (off the image, a contrast without a bright canal, too few margins found)."""
    found = posterior_margins(values, plane, centre_mm)
    if found is None:
        return None
    cols, margins, distance = found
    ahead = margins < np.nanmedian(margins) - AHEAD_OUTLIER_MM  # inside the disc
    margins = np.where(ahead, np.nan, margins)
    ok = np.isfinite(margins)
    if ok.sum() < 0.6 * len(cols):
        return None
    beyond = np.full(len(cols), np.nan)
    beyond[ok] = margins[ok] - _lower_fit(cols[ok], margins[ok])
    # how far the margin stays behind the fit over FOCAL_MIN_WIDTH_MM (a wider stretch than a
    # noisy margin or the edge of a facet joint)
    reach = round(FOCAL_MIN_WIDTH_MM / STEP_MM / 2)
    padded = np.pad(np.where(ok, beyond, -np.inf), reach, mode="edge")
    held = np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1).min(axis=1)
    held[~np.isfinite(held) | (np.abs(cols) > FOCAL_HALF_WIDTH_MM)] = np.nan
    if np.isnan(held).all():
        return None
    peak = int(np.nanargmax(held))
    focal = float(held[peak])
    width, arc = 0.0, 0.0
    if focal >= FOCAL_MIN_MM:
        level = max(FOCAL_MIN_MM, 0.5 * focal)
        lo, hi = peak, peak
        while lo > 0 and beyond[lo - 1] >= level:
            lo -= 1
        while hi < len(cols) - 1 and beyond[hi + 1] >= level:
            hi += 1
        width = float(cols[hi] - cols[lo] + STEP_MM)
        ends = [math.atan2(float(cols[j]), float(margins[j])) for j in (lo, hi)]
        arc = math.degrees(abs(ends[1] - ends[0]))
    return AxialContour(
        focal_mm=round(focal, 2),
        focal_width_mm=round(width, 1),
        focal_arc_deg=round(arc, 1),
        focal_offset_mm=round(float(cols[peak]), 1),
        slice_distance_mm=round(distance, 2),
        measured_width_mm=round(float(ok.sum() * STEP_MM), 1),
    )


def posterior_margins(
    values: NDArray[np.floating] | NDArray[np.integer], plane: Plane, centre_mm: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], float] | None:
    """The disc's posterior margin on this axial slice: the columns' left-right positions
    (mm from the disc centre, patient left positive), each one's margin (mm behind the centre;
    NaN where none was found) and the slice's distance from the centre; None when the slice
    cannot be read (off the image, not axial, a contrast without a bright canal)."""
    centre = np.asarray(centre_mm, dtype=np.float64)
    normal = plane.normal
    back = _POSTERIOR - normal * float(normal @ _POSTERIOR)
    if np.linalg.norm(back) < 0.5:
        return None  # not an axial slice
    back /= np.linalg.norm(back)
    left = np.cross(normal, back)
    if float(left @ _LEFT) < 0:
        left = -left
    distance = float(plane.distance(centre))
    middle = centre - normal * distance
    rows = np.arange(-AHEAD_MM, BEHIND_MM + STEP_MM / 2, STEP_MM)
    cols = np.arange(-HALF_WIDTH_MM, HALF_WIDTH_MM + STEP_MM / 2, STEP_MM)
    points = middle + rows[:, None, None] * back + cols[None, :, None] * left
    image = np.asarray(values, dtype=np.float64)
    grid = sample_plane(image, plane, points.reshape(-1, 3)).reshape(len(rows), len(cols))
    if np.isnan(grid).any():
        return None
    sigma = SMOOTH_MM / STEP_MM
    grid = smoothed_rows(smoothed_rows(grid, sigma).T, sigma).T
    near = (np.abs(rows) <= 12.0)[:, None] & (np.abs(cols) <= 12.0)[None, :]
    disc = float(np.percentile(grid[near], DISC_PERCENTILE))
    behind = (rows >= 5.0)[:, None] & (np.abs(cols) <= 10.0)[None, :]
    canal = float(np.percentile(grid[behind], CANAL_PERCENTILE))
    if canal <= 0 or canal < MIN_CANAL_TO_DISC * max(disc, 1e-6):
        return None
    threshold = disc + CANAL_FRACTION * (canal - disc)
    start = int(np.argmin(np.abs(rows)))
    margins = np.array([_margin(grid[start:, j], threshold) for j in range(len(cols))])
    margins += rows[start]
    reach = SMOOTH_COLS // 2
    padded = np.pad(margins, reach, mode="edge")
    margins = np.median(np.lib.stride_tricks.sliding_window_view(padded, SMOOTH_COLS), axis=1)
    return cols, margins, distance


def _lower_fit(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """The smooth outline through ``(x, y)``, fitted from below: even in ``x`` (a normal
    disc's posterior margin is symmetric about its centre: flat, concave or convex, curving
    forward toward the sides), each round dropping the points more than :data:`FIT_KEEP_MM`
    behind the last fit. Returns the fit's values at ``x``."""
    basis = np.stack([x**p for p in FIT_POWERS], axis=1)
    keep = np.ones(len(x), dtype=bool)
    fitted = basis @ np.linalg.lstsq(basis, y, rcond=None)[0]
    for _ in range(FIT_ROUNDS):
        nxt = y - fitted <= FIT_KEEP_MM
        if nxt.sum() < max(8, 0.3 * len(x)) or (nxt == keep).all():
            break
        keep = nxt
        fitted = basis @ np.linalg.lstsq(basis[keep], y[keep], rcond=None)[0]
    return np.asarray(fitted, dtype=np.float64)


def _margin(profile: NDArray[np.float64], threshold: float) -> float:
    """Where (mm from the profile's start) the signal, after staying below ``threshold`` for
    :data:`ANNULUS_MM` (the annulus's posterior wall: a bright nucleus, or a noisy sample in
    it, is passed), first stays above it for :data:`RUN_MM`; NaN when it never does."""
    dark = max(1, round(ANNULUS_MM / STEP_MM))
    below = np.convolve(profile < threshold, np.ones(dark), mode="valid") >= dark
    if not below.any():
        return float("nan")
    wall = int(np.argmax(below))
    return first_margin(profile[wall:], threshold, STEP_MM, RUN_MM) + wall * STEP_MM
