"""A 2D projection phantom of the thoracolumbar spine on an AP radiograph.

Shapes are superellipses in image millimetres (x = column * spacing towards the patient's left,
y = row * spacing towards the feet), each rotated by an angle; a shape adds attenuation
``mu * depth * sqrt(1 - f)`` (a solid seen edge-on thins towards its border) and optionally a
cortical rim. The detector value is proportional to the summed attenuation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spineviewer.phantom.solids import Superellipsoid

FloatImage = NDArray[np.float64]
_ENDLESS = 1e6


@dataclass(frozen=True)
class Blob:
    """A rotated superellipse: centre (x, y) mm, half sizes (along, across) mm, angle degrees.

    ``angle_deg`` is counter-clockwise as displayed (the ``along`` axis rises to the right).
    """

    centre: tuple[float, float]
    half: tuple[float, float]
    angle_deg: float = 0.0
    exponent: float = 2.0

    @property
    def shape(self) -> Superellipsoid:
        """The 2D shape as a z-endless superellipsoid."""
        return Superellipsoid((self.half[0], self.half[1], _ENDLESS), self.exponent, self.exponent)

    def field(self, spacing: float, shape: tuple[int, int]) -> tuple[slice, slice, FloatImage]:
        """The implicit function on the pixels of the blob's bounding window (``<= 1`` inside)."""
        reach = math.hypot(*self.half) / spacing + 1.0
        cx, cy = self.centre[0] / spacing, self.centre[1] / spacing
        r0, r1 = max(0, math.floor(cy - reach)), min(shape[0], math.ceil(cy + reach) + 1)
        c0, c1 = max(0, math.floor(cx - reach)), min(shape[1], math.ceil(cx + reach) + 1)
        rows = (np.arange(r0, r1, dtype=np.float64)[:, None] - cy) * spacing
        cols = (np.arange(c0, c1, dtype=np.float64)[None, :] - cx) * spacing
        a = math.radians(self.angle_deg)
        along = cols * math.cos(a) - rows * math.sin(a)
        across = -cols * math.sin(a) - rows * math.cos(a)
        value = self.shape.value_xyz(along, across, np.zeros(1))
        return slice(r0, r1), slice(c0, c1), np.broadcast_to(value, (r1 - r0, c1 - c0))

    def mask(self, spacing: float, shape: tuple[int, int]) -> NDArray[np.bool_]:
        """Full-size boolean image of the pixels whose centres lie inside."""
        out = np.zeros(shape, dtype=bool)
        rows, cols, value = self.field(spacing, shape)
        out[rows, cols] = value <= 1.0
        return out

    def point(self, along: float, across: float) -> tuple[float, float]:
        """Image mm of a point given in the blob's own axes (``across`` points up)."""
        a = math.radians(self.angle_deg)
        x = self.centre[0] + along * math.cos(a) - across * math.sin(a)
        y = self.centre[1] - along * math.sin(a) - across * math.cos(a)
        return x, y


def add_solid(
    image: FloatImage, blob: Blob, spacing: float, density: float, rim: float = 0.0
) -> None:
    """Add ``density * sqrt(1 - f)`` inside the blob, plus ``rim`` on its outer 20 %."""
    rows, cols, value = blob.field(spacing, image.shape)  # type: ignore[arg-type]
    inside = value <= 1.0
    contribution = density * np.sqrt(np.clip(1.0 - value, 0.0, 1.0))
    if rim:
        contribution = contribution + rim * (inside & (value > 0.6))
    image[rows, cols] += np.where(inside, contribution, 0.0)
