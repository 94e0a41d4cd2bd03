"""Rendering a stack of parallel slices from the painted primitives.

Each slice is integrated over its slice profile: :data:`PROFILE` places four sub-planes across
the slice thickness (the outer two, near the nominal edges, weighted less: a profile with soft
shoulders and a full width at half maximum of about the thickness), each sub-plane is
painted, and the slice is their weighted mean. On a sub-plane every primitive covers each pixel
by ``clip(0.5 - d / e, 0, 1)`` (``d`` its signed distance at the pixel centre, ``e`` the pixel
size or the primitive's own softer edge) and its signal replaces that share of what was there,
so boundaries are partial-volume mixtures in plane and through the slice. Primitives are
evaluated only inside their bounding box, projected into the grid. Several contrasts of the
same geometry (sagittal T1 / T2 / STIR) are painted together as channels. A contrast is
anything with ``value(tissue)``: an MR sequence (its signal equation) or a CT table
(:mod:`spineviewer.evaluation.ct_tissues`: HU + 1000, so that air, the unpainted background,
is 0 and partial volume mixes attenuation linearly); a CT stack passes its own thinner
``profile``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from spineviewer.evaluation.scene import Primitive
from spineviewer.evaluation.sdf import Array
from spineviewer.evaluation.tissues import Tissue

__all__ = ["PROFILE", "Contrast", "StackGeometry", "label_stack", "render_stack"]

#: (offset as a fraction of the slice thickness, weight) of the sub-planes of one slice.
Profile = tuple[tuple[float, float], ...]
PROFILE: Profile = ((-0.45, 0.6), (-0.15, 1.0), (0.15, 1.0), (0.45, 0.6))


class Contrast(Protocol):
    """What a tissue looks like on one series."""

    def value(self, tissue: Tissue) -> float: ...


#: Slices painted together (bounds memory: slices x sub-planes x rows x columns x contrasts).
_CHUNK = 4
#: Slices labelled together (one plane each).
_LABEL_CHUNK = 16


@dataclass(frozen=True)
class StackGeometry:
    """Parallel, aligned slices: slice ``i``'s pixel (0, 0) is at ``origin + i * step * normal``.

    ``row_dir`` / ``col_dir`` are IOP[0:3] / IOP[3:6] (the directions of increasing column and
    row index), ``spacing`` is PixelSpacing (between rows, between columns), ``shape`` (rows,
    columns).
    """

    origin: NDArray[np.float64]
    row_dir: NDArray[np.float64]
    col_dir: NDArray[np.float64]
    spacing: tuple[float, float]
    shape: tuple[int, int]
    count: int
    step: float
    thickness: float

    @property
    def normal(self) -> NDArray[np.float64]:
        return np.cross(self.row_dir, self.col_dir)

    def part(self, first: int, count: int) -> StackGeometry:
        """Slices ``first`` .. ``first + count - 1`` as a stack of their own."""
        return replace(self, origin=self.position(first), count=count)

    def position(self, index: int) -> NDArray[np.float64]:
        """ImagePositionPatient of slice ``index``."""
        return self.origin + index * self.step * self.normal

    def pixel_points(self, index: int) -> NDArray[np.float64]:
        """Patient mm of every pixel centre of slice ``index``: (rows, columns, 3)."""
        rows, cols = self.shape
        r = np.arange(rows)[:, None, None] * self.spacing[0] * self.col_dir
        c = np.arange(cols)[None, :, None] * self.spacing[1] * self.row_dir
        return np.asarray(self.position(index) + r + c)


def _ranges(geometry: StackGeometry, primitive: Primitive) -> tuple[slice, slice] | None:
    """The rows and columns the primitive's box can reach."""
    lo, hi = primitive.lo, primitive.hi
    corners = (
        np.array(
            [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
        )
        - geometry.origin
    )
    rows = corners @ geometry.col_dir / geometry.spacing[0]
    cols = corners @ geometry.row_dir / geometry.spacing[1]
    r0, r1 = (
        max(int(np.floor(rows.min())) - 1, 0),
        min(int(np.ceil(rows.max())) + 2, geometry.shape[0]),
    )
    c0, c1 = (
        max(int(np.floor(cols.min())) - 1, 0),
        min(int(np.ceil(cols.max())) + 2, geometry.shape[1]),
    )
    if r0 >= r1 or c0 >= c1:
        return None
    return slice(r0, r1), slice(c0, c1)


def _depth_range(geometry: StackGeometry, primitive: Primitive) -> tuple[float, float]:
    lo, hi = primitive.lo, primitive.hi
    corners = (
        np.array(
            [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
        )
        - geometry.origin
    )
    depth = corners @ geometry.normal
    return float(depth.min()), float(depth.max())


def _points(geometry: StackGeometry, depths: NDArray[np.float64]) -> Array:
    """Patient mm of every pixel centre on the sub-planes at ``depths``: (sub-planes, rows,
    columns, 3), float32."""
    rows, cols = geometry.shape
    t = (depths[:, None] * geometry.normal + geometry.origin).astype(np.float32)
    r = (np.arange(rows)[:, None] * geometry.spacing[0] * geometry.col_dir).astype(np.float32)
    c = (np.arange(cols)[:, None] * geometry.spacing[1] * geometry.row_dir).astype(np.float32)
    return t[:, None, None, :] + r[None, :, None, :] + c[None, None, :, :]


def _head_foot_axes(geometry: StackGeometry) -> tuple[bool, bool, bool]:
    """Which grid axes (sub-plane, row, column) run head-foot: an upright primitive is the
    same all along them."""
    steps = (geometry.normal, geometry.col_dir, geometry.row_dir)
    return tuple(abs(float(v[2])) > 0.999 for v in steps)  # type: ignore[return-value]


def _coarse(field: Callable[[Array], Array], points: Array) -> Array:
    """A slowly varying field (a texture: wavelengths of 9 mm and more) evaluated on every
    fourth sub-plane and every second pixel, and repeated to the full grid."""
    sub = field(points[::4, ::2, ::2])
    full = np.repeat(np.repeat(np.repeat(sub, 4, axis=0), 2, axis=1), 2, axis=2)
    return full[: points.shape[0], : points.shape[1], : points.shape[2]]


def render_stack(
    geometry: StackGeometry,
    primitives: Sequence[Primitive],
    sequences: Sequence[Contrast],
    profile: Profile = PROFILE,
) -> NDArray[np.float32]:
    """The noise-free signal of every slice on every contrast: (contrasts, slices, rows, cols)."""
    cache: dict[Tissue, NDArray[np.float32]] = {}

    def signals(tissue: Tissue) -> NDArray[np.float32]:
        if tissue not in cache:
            cache[tissue] = np.array([s.value(tissue) for s in sequences], dtype=np.float32)
        return cache[tissue]

    rows, cols = geometry.shape
    pixel = float(np.mean(geometry.spacing))
    out = np.zeros((len(sequences), geometry.count, rows, cols), dtype=np.float32)
    weights = np.array([w for _, w in profile], dtype=np.float32)
    boxes = [(_depth_range(geometry, p), _ranges(geometry, p)) for p in primitives]
    upright = _head_foot_axes(geometry)
    for first in range(0, geometry.count, _CHUNK):
        slices = range(first, min(first + _CHUNK, geometry.count))
        depths = np.array(
            [i * geometry.step + f * geometry.thickness for i in slices for f, _ in profile]
        )
        order = np.argsort(depths, kind="stable")
        depths = depths[order]
        values = np.zeros((len(sequences), len(depths), rows, cols), dtype=np.float32)
        grid = _points(geometry, depths)
        for primitive, ((d0, d1), box) in zip(primitives, boxes, strict=True):
            if box is None:
                continue
            m0, m1 = (
                int(np.searchsorted(depths, d0, "left")),
                int(np.searchsorted(depths, d1, "right")),
            )
            if m0 >= m1:
                continue
            rs, cs = box
            points = grid[m0:m1, rs, cs]
            if primitive.upright:
                points = points[tuple(slice(0, 1) if a else slice(None) for a in upright)]
            distance = primitive.distance(points)
            edge = max(pixel, primitive.edge_mm)
            if float(distance.min()) >= 0.5 * edge:
                continue
            shape = (m1 - m0, rs.stop - rs.start, cs.stop - cs.start)
            cover = np.broadcast_to(np.clip(0.5 - distance / edge, 0.0, 1.0), shape)
            level: Array = signals(primitive.tissue)[:, None, None, None]
            if primitive.texture is not None:
                level = level * _coarse(primitive.texture, points)[None]
            target = values[:, m0:m1, rs, cs]
            target += cover[None] * (level - target)
        unsorted = np.empty_like(values)
        unsorted[:, order] = values
        per_slice = unsorted.reshape(len(sequences), len(slices), len(profile), rows, cols)
        out[:, first : first + len(slices)] = (
            np.tensordot(per_slice, weights, axes=([2], [0])) / weights.sum()
        )
    return out


def label_stack(
    geometry: StackGeometry, shapes: Sequence[tuple[int, Primitive]]
) -> NDArray[np.uint8]:
    """A label map on the stack's grid: each voxel holds the value of the last of ``shapes``
    whose signed distance is negative at the voxel's centre (on the slice's centre plane, not
    integrated over the profile), 0 where none is. (slices, rows, columns), uint8."""
    rows, cols = geometry.shape
    out = np.zeros((geometry.count, rows, cols), dtype=np.uint8)
    boxes = [(_depth_range(geometry, p), _ranges(geometry, p)) for _, p in shapes]
    upright = _head_foot_axes(geometry)
    for first in range(0, geometry.count, _LABEL_CHUNK):
        slices = np.arange(first, min(first + _LABEL_CHUNK, geometry.count), dtype=np.float64)
        depths: NDArray[np.float64] = slices * geometry.step
        grid = _points(geometry, depths)
        for (value, primitive), ((d0, d1), box) in zip(shapes, boxes, strict=True):
            m0 = int(np.searchsorted(depths, d0, "left"))
            m1 = int(np.searchsorted(depths, d1, "right"))
            if box is None or m0 >= m1:
                continue
            rs, cs = box
            points = grid[m0:m1, rs, cs]
            if primitive.upright:
                points = points[tuple(slice(0, 1) if a else slice(None) for a in upright)]
            inside = primitive.distance(points) < 0
            if not inside.any():
                continue
            shape = (m1 - m0, rs.stop - rs.start, cs.stop - cs.start)
            target = out[first + m0 : first + m1, rs, cs]
            target[np.broadcast_to(inside, shape)] = value
    return out
