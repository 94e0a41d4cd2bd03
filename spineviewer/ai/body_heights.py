"""Vertebral body heights measured on a sagittal image, and Genant's height loss.

A radiologist grades a compression fracture by its heights, not by its look (Genant's
semi-quantitative method): the anterior, middle and posterior heights of the body, compared
with each other and with the neighbours. Grade 1 (mild) is a 20-25 % loss, grade 2 25-40 %,
grade 3 more than 40 %; below 20 % the body is not called fractured.

:func:`measure_body` reads one body on the sagittal slice nearest its centre, in patient
millimetres (so non-square pixels and any in-plane rotation measure alike):

1. The column's axis at the body is the direction from the body below to the body above
   (projected into the slice); the antero-posterior direction is perpendicular to it in the
   slice, its sign from the patient's anterior (-y in DICOM's LPS).
2. The marrow level is the median of a small patch at the body's centre. Walking out from the
   centre along a profile (averaged over a 3 mm wide band), the body ends where the signal
   leaves the marrow level by more than :data:`EDGE_CONTRAST` of it, or four times the noise
   when that is more (the dark cortex of an endplate or wall, a bright or dark disc, CSF, fat),
   for 1 mm: every contrast (T1, T2, STIR) and both directions of change are the same rule.
3. The walls are found at mid-height along the antero-posterior direction; the heights are
   measured along the axis at 15 %, 50 % and 85 % of the depth from the anterior wall.

:func:`height_loss` turns heights into Genant's loss: ``1 - Ha / Hp`` (wedge), ``1 - Hm /
max(Ha, Hp)`` (biconcave) and ``1 - max(H) / reference`` (crush, the reference the median of
the neighbours' highest heights), the largest of the three.

The pipeline uses the loss to check the fracture model (:func:`spineviewer.ai.pipelines.
lumbar_mr.classify_fractures`): a "fractured" whose body shows no loss, or a "normal" whose body
shows a clear one, is reported as "uncertain" with both numbers, for the reader to measure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spineviewer.geometry.plane import Plane

__all__ = [
    "EDGE_CONTRAST",
    "BodyHeights",
    "genant_grade",
    "height_loss",
    "measure_body",
]

#: A body ends where the signal leaves the marrow level by this fraction of the marrow level
#: (or by :data:`_NOISE_FACTOR` times the noise, when more) for :data:`_EDGE_RUN_MM`.
EDGE_CONTRAST = 0.3
_NOISE_FACTOR = 4.0
_EDGE_RUN_MM = 1.0
#: Step along a profile, and the half width of the band averaged across it (mm).
_STEP_MM = 0.5
_BAND_HALF_MM = 1.5
#: The marrow patch at the centre: this fraction of the expected body height, each way.
_PATCH_FRACTION = 0.15
#: A profile searches this fraction of the centre-to-centre spacing each way (a body is about
#: 0.7 of the spacing high; a disc fills the rest).
_SEARCH_FRACTION = 0.75
#: Where the three heights are measured, as fractions of the depth from the anterior wall.
_HEIGHT_AT = (0.15, 0.5, 0.85)
_ANTERIOR = np.array([0.0, -1.0, 0.0])


@dataclass(frozen=True)
class BodyHeights:
    """Anterior, middle and posterior heights and the antero-posterior depth (mm)."""

    anterior_mm: float
    middle_mm: float
    posterior_mm: float
    depth_mm: float

    @property
    def highest_mm(self) -> float:
        return max(self.anterior_mm, self.middle_mm, self.posterior_mm)

    def as_tuple(self) -> tuple[float, float, float]:
        return (round(self.anterior_mm, 1), round(self.middle_mm, 1), round(self.posterior_mm, 1))


def genant_grade(loss: float) -> int:
    """Genant's grade of a height loss (a ratio): 0 below 0.20, 1 to 0.25, 2 to 0.40, 3 above."""
    if loss < 0.2:
        return 0
    if loss <= 0.25:
        return 1
    if loss <= 0.4:
        return 2
    return 3


def height_loss(heights: BodyHeights, neighbours: Sequence[BodyHeights] = ()) -> float:
    """Genant's loss of ``heights`` (0 when intact): the largest of the wedge, biconcave and
    (with ``neighbours``) crush ratios described in the module docstring."""
    a, m, p = heights.anterior_mm, heights.middle_mm, heights.posterior_mm
    losses = [1.0 - a / p if p > 0 else 0.0]
    rim = max(a, p)
    losses.append(1.0 - m / rim if rim > 0 else 0.0)
    if neighbours:
        reference = float(np.median([n.highest_mm for n in neighbours]))
        if reference > 0:
            losses.append(1.0 - heights.highest_mm / reference)
    return max(0.0, max(losses))


def measure_body(
    values: NDArray[np.floating] | NDArray[np.integer],
    plane: Plane,
    centre_mm: ArrayLike,
    axis_mm: ArrayLike,
    spacing_mm: float,
) -> BodyHeights | None:
    """The heights of the body centred at ``centre_mm`` (patient mm) on one sagittal image.

    ``axis_mm`` is the column's cranial direction at the body (patient space, any length);
    ``spacing_mm`` the distance between neighbouring body centres. None when the body cannot
    be measured (the centre off the image, no wall or endplate found within reach)."""
    image = np.asarray(values, dtype=np.float64)
    centre = np.asarray(centre_mm, dtype=np.float64) - plane.normal * plane.distance(centre_mm)
    axis = _in_plane(np.asarray(axis_mm, dtype=np.float64), plane)
    if axis is None or spacing_mm <= 0:
        return None
    ap = np.cross(plane.normal, axis)
    if float(ap @ _ANTERIOR) < 0:
        ap = -ap
    sampler = _Sampler(image, plane)
    patch = _PATCH_FRACTION * 0.7 * spacing_mm
    offsets = np.arange(-patch, patch + _STEP_MM / 2, _STEP_MM)
    grid = centre + offsets[:, None, None] * axis + offsets[None, :, None] * ap
    marrow_values = sampler(grid.reshape(-1, 3))
    if marrow_values is None:
        return None
    marrow = float(np.median(marrow_values))
    threshold = max(
        EDGE_CONTRAST * abs(marrow), _NOISE_FACTOR * _noise(marrow_values, len(offsets))
    )
    if threshold <= 0:
        return None
    walker = _Walker(sampler, marrow, threshold, _SEARCH_FRACTION * spacing_mm)
    walls = walker.both_ways(centre, ap, axis)
    if walls is None:
        return None
    anterior, posterior = walls
    depth = anterior + posterior
    heights = []
    for fraction in _HEIGHT_AT:
        ends = walker.both_ways(centre + (anterior - fraction * depth) * ap, axis, ap)
        if ends is None:
            return None
        heights.append(ends[0] + ends[1])
    return BodyHeights(heights[0], heights[1], heights[2], depth)


def _in_plane(vector: NDArray[np.float64], plane: Plane) -> NDArray[np.float64] | None:
    v = vector - plane.normal * float(vector @ plane.normal)
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 1e-6 else None


def _noise(patch: NDArray[np.float64], width: int) -> float:
    """The noise's standard deviation in a square patch (``width`` samples a side), from the
    median absolute difference of neighbouring samples (smooth structure cancels)."""
    square = patch.reshape(-1, width)
    steps = np.concatenate([np.diff(square, axis=0).ravel(), np.diff(square, axis=1).ravel()])
    return float(1.4826 * np.median(np.abs(steps - np.median(steps))) / np.sqrt(2.0))


@dataclass(frozen=True)
class _Walker:
    """Walks profiles out of a body: ``marrow`` its level, ``threshold`` the change that ends
    it, ``reach`` how far to look (mm)."""

    sampler: _Sampler
    marrow: float
    threshold: float
    reach: float

    def both_ways(
        self, start: NDArray[np.float64], direction: NDArray[np.float64], side: NDArray[np.float64]
    ) -> tuple[float, float] | None:
        """The body's extent from ``start`` along ``direction`` and against it (mm), the
        profiles averaged across ``side``; None when either end is not found."""
        ahead = self.extent(start, direction, side)
        behind = self.extent(start, -direction, side)
        return None if ahead is None or behind is None else (ahead, behind)

    def extent(
        self, start: NDArray[np.float64], direction: NDArray[np.float64], side: NDArray[np.float64]
    ) -> float | None:
        """How far from ``start`` along ``direction`` the signal stays near the marrow level
        (mm): the first point where it leaves by the threshold for :data:`_EDGE_RUN_MM`; None
        if it never does within reach or the image ends first."""
        steps = np.arange(0.0, self.reach + _STEP_MM / 2, _STEP_MM)
        band = np.arange(-_BAND_HALF_MM, _BAND_HALF_MM + 1e-9, _STEP_MM)
        points = start + steps[:, None, None] * direction + band[None, :, None] * side
        profile = self.sampler.values(points.reshape(-1, 3))
        profile = profile.reshape(len(steps), len(band)).mean(axis=1)
        away = np.abs(profile - self.marrow) > self.threshold
        run = max(1, round(_EDGE_RUN_MM / _STEP_MM))
        for i in range(len(away) - run + 1):
            if np.isnan(profile[i : i + run]).any():
                return None  # the image ends before the body does
            if away[i : i + run].all():
                return float(steps[i])
        return None


class _Sampler:
    """Bilinear samples of an image at patient points."""

    def __init__(self, image: NDArray[np.float64], plane: Plane) -> None:
        self.image = image
        self.plane = plane

    def __call__(self, points: NDArray[np.float64]) -> NDArray[np.float64] | None:
        """The samples, or None when any point falls off the image."""
        found = self.values(points)
        return None if np.isnan(found).any() else found

    def values(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """The samples, NaN where a point falls off the image."""
        rows, cols = self.plane.to_pixel(points)
        height, width = self.image.shape
        inside = (rows >= 0) & (cols >= 0) & (rows <= height - 1) & (cols <= width - 1)
        r0 = np.clip(np.floor(rows).astype(np.intp), 0, max(height - 2, 0))
        c0 = np.clip(np.floor(cols).astype(np.intp), 0, max(width - 2, 0))
        r1, c1 = np.minimum(r0 + 1, height - 1), np.minimum(c0 + 1, width - 1)
        fr, fc = np.clip(rows - r0, 0, 1), np.clip(cols - c0, 0, 1)
        img = self.image
        top = img[r0, c0] * (1 - fc) + img[r0, c1] * fc
        bottom = img[r1, c0] * (1 - fc) + img[r1, c1] * fc
        return np.where(inside, top * (1 - fr) + bottom * fr, np.nan)
