"""Discs as signed distances: annulus, nucleus, intranuclear cleft, bulge and herniation.

In the disc's frame (z along its normal, y posterior) the annulus is the bodies' footprint a
little enlarged, extruded between the endplate planes (wedged front to back) and reaching into
the endplate hollows. A bulge pushes the whole margin out (most at the back, most at
mid-height); a herniation is an ellipsoid on the posterior margin at the drawn angle (0 =
central, positive toward patient left), smoothly joined to the annulus, migrating up or down by
``extent_mm``. Inside: the nucleus (its signal, size and edge sharpness from the degeneration),
a thin dark cleft across it in degenerated discs, and nucleus material in the herniation (so a
young herniation is bright and an old one dark: the contour never decides the signal).

The disc is painted before the bodies (which cover it except in their hollows); its posterior
part (behind the back margin less 3 mm, within the endplate planes, plus any herniation) is
painted again after the canal, so a bulge or herniation indents the epidural fat and the sac.
"""

from __future__ import annotations

import math

import numpy as np

from spineviewer.evaluation.bones import footprint
from spineviewer.evaluation.column import Disc
from spineviewer.evaluation.scene import Distance, Primitive, frame_bounds
from spineviewer.evaluation.sdf import Array, ellipsoid, extrude, rounded_rect, smooth_union
from spineviewer.evaluation.tissues import ANNULUS, herniated_material, nucleus

__all__ = ["disc_primitives", "herniation_centre", "protrusion_primitives"]


def _margin(disc: Disc, angle_deg: float) -> float:
    """Distance from the disc centre to its footprint margin along the in-plane direction
    ``angle_deg`` from the posterior midline (bisection on the footprint distance)."""
    a = math.radians(angle_deg)
    ux, uy = math.sin(a), math.cos(a)
    lo, hi = 0.0, max(disc.width, disc.depth)
    for _ in range(40):
        mid = (lo + hi) / 2
        x = np.array([ux * mid], dtype=np.float32)
        y = np.array([uy * mid], dtype=np.float32)
        inside = float(footprint(x, y, disc.width + 1.0, disc.depth + 1.0, 2.0)[0]) < 0
        lo, hi = (mid, hi) if inside else (lo, mid)
    return lo


def herniation_centre(disc: Disc) -> tuple[float, float, float]:
    """The herniation's centre in the disc frame (x left, y posterior, z up)."""
    c = disc.condition
    r = _margin(disc, c.angle_deg) + c.herniation_mm / 2 - 1.0
    a = math.radians(c.angle_deg)
    return (r * math.sin(a), r * math.cos(a), c.extent_mm / 2)


def _herniation(disc: Disc, shrink: float) -> Distance:
    c = disc.condition
    centre = np.asarray(herniation_centre(disc), dtype=np.float32)
    a = math.radians(c.angle_deg)
    radial = np.array([math.sin(a), math.cos(a), 0.0], dtype=np.float32)
    tangential = np.array([math.cos(a), -math.sin(a), 0.0], dtype=np.float32)
    basis = np.stack([radial, tangential, np.array([0, 0, 1], dtype=np.float32)]).T
    radii = (
        max(c.herniation_mm / 2 + 1.5 - shrink, 0.8),
        max(6.5 - shrink, 0.8),
        max(disc.height / 2 + abs(c.extent_mm) / 2 - shrink, 0.8),
    )

    def distance(q: Array) -> Array:
        return ellipsoid((q - centre) @ basis, radii)

    return distance


def _annulus(disc: Disc, posterior_only: bool) -> Distance:
    c = disc.condition
    slope = math.tan(math.radians(disc.wedge_deg) / 2)
    w, d = disc.width, disc.depth
    hernia = _herniation(disc, 0.0) if c.state == "herniation" else None

    def distance(points: Array) -> Array:
        q = disc.frame.local(points)
        x, y, z = q[..., 0], q[..., 1], q[..., 2]
        half = np.maximum(disc.height / 2 - y * slope, 0.5)
        d2 = footprint(x, y, w + 1.0, d + 1.0, 2.0)
        if c.bulge_mm > 0:
            reach = 0.75 + 0.25 * np.clip(y / (d / 2), -1, 1)
            d2 = d2 - c.bulge_mm * reach * np.clip(1 - (z / half) ** 2, 0, 1)
        if posterior_only:
            out = extrude(d2, np.abs(z) - half, 0.8)
            out = np.maximum(out, (d / 2 - 3.0) - y)
        else:
            fill = (disc.concavity + 0.3) * np.clip(
                1 - (x / (0.45 * w)) ** 2 - (y / (0.45 * d)) ** 2, 0, 1
            )
            out = extrude(d2, np.abs(z) - (half + fill), 0.8)
        if hernia is not None:
            out = smooth_union(out, hernia(q), 2.0)
        return out

    return distance


def _nucleus(disc: Disc) -> Distance:
    g = disc.condition.degeneration
    slope = math.tan(math.radians(disc.wedge_deg) / 2)
    half_x = (0.62 - 0.15 * g) * disc.width / 2
    half_y = (0.55 - 0.12 * g) * disc.depth / 2

    def distance(points: Array) -> Array:
        q = disc.frame.local(points)
        x, y, z = q[..., 0], q[..., 1], q[..., 2]
        half = np.maximum(disc.height / 2 - y * slope, 0.5)
        d2 = rounded_rect(x, y - 0.04 * disc.depth, half_x, half_y, 0.8 * min(half_x, half_y))
        return extrude(d2, np.abs(z) - (0.6 * half + 0.8 * disc.concavity), 2.0)

    return distance


def _local(disc: Disc, shape: Distance) -> Distance:
    def distance(points: Array) -> Array:
        return shape(disc.frame.local(points))

    return distance


def _bounds(disc: Disc) -> tuple[np.ndarray, np.ndarray]:
    c = disc.condition
    reach = c.bulge_mm + c.herniation_mm + 4.0
    half = (
        disc.width / 2 + reach,
        disc.depth / 2 + reach,
        disc.height / 2 + abs(c.extent_mm) + disc.concavity + 7.0,
    )
    return frame_bounds(disc.frame, [-v for v in half], half)


def disc_primitives(disc: Disc) -> list[Primitive]:
    """The whole disc, painted before the bodies."""
    c = disc.condition
    lo, hi = _bounds(disc)
    out = [Primitive(f"{disc.level} annulus", ANNULUS, _annulus(disc, False), lo, hi)]
    if c.rudimentary:
        return out
    soft = 1.5 + 2.5 * c.degeneration
    out.append(
        Primitive(
            f"{disc.level} nucleus", nucleus(c.degeneration), _nucleus(disc), lo, hi, edge_mm=soft
        )
    )
    if c.degeneration > 0.25:
        cleft = (0.3 * disc.width, 0.25 * disc.depth, 0.5 + 0.3 * c.degeneration)

        def crack(q: Array) -> Array:
            return ellipsoid(q, cleft)

        out.append(
            Primitive(f"{disc.level} cleft", ANNULUS, _local(disc, crack), lo, hi, edge_mm=1.0)
        )
    if c.state == "herniation":
        out.append(_herniated(disc, lo, hi))
    return out


def _herniated(disc: Disc, lo: np.ndarray, hi: np.ndarray) -> Primitive:
    c = disc.condition
    return Primitive(
        f"{disc.level} herniated nucleus",
        herniated_material(c.degeneration),
        _local(disc, _herniation(disc, 1.8)),
        lo,
        hi,
        edge_mm=1.5,
    )


def protrusion_primitives(disc: Disc) -> list[Primitive]:
    """The posterior disc margin again, after the canal: only discs that bulge or herniate."""
    c = disc.condition
    if c.state == "normal":
        return []
    lo, hi = _bounds(disc)
    out = [Primitive(f"{disc.level} protrusion", ANNULUS, _annulus(disc, True), lo, hi)]
    if c.state == "herniation":
        out.append(_herniated(disc, lo, hi))
    return out
