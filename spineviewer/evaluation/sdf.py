"""Signed distance functions (negative inside, millimetres) on arrays of points.

The evaluation generator describes every structure by a signed distance: the renderer turns
the distance into a coverage ``clip(0.5 - d / pixel, 0, 1)`` (an edge a pixel wide, so partial
volume in plane comes for free) and slab averaging adds it through the slice. Functions take
local coordinates ``(..., 3)`` (float32) in a :class:`Frame` and return ``(...)`` distances.
Exact where cheap (rounded rectangles, capsules, extrusions); the ellipse and ellipsoid forms are
first-order bounds, exact on the surface, which is all the coverage needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Array",
    "Frame",
    "capsule",
    "ellipse",
    "ellipsoid",
    "extrude",
    "rounded_box",
    "rounded_rect",
    "segment_box",
    "smooth_union",
]

#: Points or distances (float32 where the renderer makes them; any float type accepted).
Array = NDArray[np.floating[Any]]


@dataclass(frozen=True)
class Frame:
    """A local frame: ``origin`` (patient mm) and ``axes`` whose rows are the unit vectors of
    local x (patient left for a vertebra), y (posterior) and z (up the column)."""

    origin: NDArray[np.float64]
    axes: NDArray[np.float64]

    def local(self, points: Array) -> Array:
        """Patient points ``(..., 3)`` in this frame."""
        shifted = points - self.origin.astype(np.float32)
        return shifted @ self.axes.T.astype(np.float32)

    def to_patient(self, local: NDArray[np.float64]) -> NDArray[np.float64]:
        """A local point (or ``(n, 3)`` points) in patient mm."""
        return np.asarray(self.origin + np.asarray(local, dtype=np.float64) @ self.axes)

    def shifted(self, local: tuple[float, float, float]) -> Frame:
        """The same axes with the origin moved by ``local`` (frame coordinates)."""
        return Frame(self.to_patient(np.asarray(local)), self.axes)


def rounded_rect(x: Array, y: Array, half_x: float, half_y: float, radius: float) -> Array:
    """Exact 2D distance to a rectangle with rounded corners centred at the origin."""
    r = min(radius, half_x, half_y)
    qx = np.abs(x) - (half_x - r)
    qy = np.abs(y) - (half_y - r)
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    return outside + np.minimum(np.maximum(qx, qy), 0) - r


def ellipse(x: Array, y: Array, half_x: float | Array, half_y: float | Array) -> Array:
    """2D distance bound to an ellipse (exact on the curve, gradient length ~1 near it)."""
    k0 = np.hypot(x / half_x, y / half_y)
    k1 = np.hypot(x / half_x**2, y / half_y**2)
    return k0 * (k0 - 1.0) / np.maximum(k1, 1e-6)


def ellipsoid(p: Array, radii: tuple[float, float, float]) -> Array:
    """3D distance bound to an ellipsoid centred at the local origin."""
    a, b, c = radii
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    k0 = np.sqrt((x / a) ** 2 + (y / b) ** 2 + (z / c) ** 2)
    k1 = np.sqrt((x / a**2) ** 2 + (y / b**2) ** 2 + (z / c**2) ** 2)
    return k0 * (k0 - 1.0) / np.maximum(k1, 1e-6)


def extrude(d2: Array, dz: Array, radius: float = 0.0) -> Array:
    """A 2D shape ``d2`` extruded over the slab ``dz <= 0``, its edges rounded by ``radius``."""
    wx = d2 + radius
    wy = dz + radius
    outside = np.hypot(np.maximum(wx, 0), np.maximum(wy, 0))
    return outside + np.minimum(np.maximum(wx, wy), 0) - radius


def capsule(
    p: Array, a: tuple[float, float, float], b: tuple[float, float, float], r: float
) -> Array:
    """Exact distance to the segment ``a``-``b`` (local coordinates) thickened by ``r``."""
    pa = p - np.asarray(a, dtype=np.float32)
    ba = np.asarray(b, dtype=np.float32) - np.asarray(a, dtype=np.float32)
    h = np.clip((pa @ ba) / float(ba @ ba), 0.0, 1.0)
    return np.linalg.norm(pa - h[..., None] * ba, axis=-1) - r


def rounded_box(q: Array, half: tuple[float, float, float], radius: float) -> Array:
    """Exact distance to a box of half extents ``half`` centred at the origin, edges rounded."""
    r = min(radius, *half)
    d = np.abs(q) - (np.asarray(half, dtype=np.float32) - r)
    outside = np.linalg.norm(np.maximum(d, 0), axis=-1)
    return outside + np.minimum(np.max(d, axis=-1), 0) - r


def segment_box(
    p: Array,
    a: tuple[float, float, float],
    b: tuple[float, float, float],
    half_width: float,
    half_thickness: float,
    radius: float,
    width_dir: tuple[float, float, float] = (1.0, 0.0, 0.0),
) -> Array:
    """A rounded plate whose long axis runs from ``a`` to ``b``, ``half_width`` along
    ``width_dir`` (made perpendicular to the axis; local x, left-right, by default) and
    ``half_thickness`` across both."""
    start, end = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    axis = end - start
    length = float(np.linalg.norm(axis))
    axis /= length
    side = np.asarray(width_dir, dtype=np.float64)
    side = side - float(side @ axis) * axis
    side /= np.linalg.norm(side)
    across = np.cross(axis, side)
    basis = np.stack([axis, side, across]).T.astype(np.float32)
    q = (p - ((start + end) / 2).astype(np.float32)) @ basis
    return rounded_box(q, (length / 2, half_width, half_thickness), radius)


def smooth_union(d1: Array, d2: Array, k: float) -> Array:
    """The union of two shapes with their junction filleted over about ``k`` mm."""
    h = np.clip(0.5 + 0.5 * (d2 - d1) / k, 0.0, 1.0)
    return d2 + (d1 - d2) * h - k * h * (1.0 - h)
