"""The projection of an AP radiograph: line integrals of attenuation along a diverging beam.

Geometry (:class:`XrGeometry`): the source in front of the patient (``y`` negative: patient
LPS, ``y`` posterior), the detector behind, parallel to the coronal plane. A point ``p`` lands
on the detector at ``u = (p_x - x_c) SID / D``, ``w = (p_z - z_c) SID / D`` (``D = p_y -
y_source``), so structures nearer the detector are magnified less; the magnification in the
spine's mid-plane is ``SID / (SID - OID)``. Image columns run toward the patient's left (the
patient's right on the image's left, as an AP film is read) and rows toward the feet.

The projection is computed on a coarser *work* grid of detector points: for each solid
(:class:`Solid`: one bone made of overlapping pieces, or one implant), the pieces' signed
distances are evaluated at points along each ray (every ``step`` mm in depth, only inside each
piece's box), joined (the minimum), turned into coverage ``clip(0.5 - d / e, 0, 1)`` (``e`` the
larger of the sample step and the work pixel: partial volume at every edge) and summed with
the solid's attenuation, less the marrow's where the solid shrunk by its cortex covers the
point (a cortical shell round a cancellous core). Rays are treated as parallel within a
sample's width and lengthened by their obliquity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spineviewer.evaluation.sdf import Array

__all__ = ["Piece", "Solid", "XrGeometry", "project_solids"]

Distance = Callable[[Array], Array]
#: Points evaluated at once (bounds memory).
_CHUNK_POINTS = 3_000_000


@dataclass(frozen=True)
class Piece:
    """A signed distance over patient points and the patient box outside which it is > 0."""

    distance: Distance
    lo: NDArray[np.float64]
    hi: NDArray[np.float64]


@dataclass(frozen=True)
class Solid:
    """A structure of constant attenuation ``mu`` (per mm), its pieces joined; with ``inner_mu``
    the part deeper than ``inset`` mm has that attenuation instead (bone: cortex and marrow)."""

    name: str
    pieces: tuple[Piece, ...]
    mu: float
    inner_mu: float | None = None
    inset: float = 0.0

    @property
    def lo(self) -> NDArray[np.float64]:
        return np.min([p.lo for p in self.pieces], axis=0)

    @property
    def hi(self) -> NDArray[np.float64]:
        return np.max([p.hi for p in self.pieces], axis=0)


@dataclass(frozen=True)
class XrGeometry:
    """Source, patient and detector (mm), the detector grid and the work grid."""

    sid: float
    #: Source to the spine's mid-plane (the plane ``y = y_ref``).
    sod: float
    y_ref: float
    #: The central ray's patient x and z.
    x_c: float
    z_c: float
    rows: int
    cols: int
    #: Detector pixel (ImagerPixelSpacing, square) and work pixel, mm at the detector.
    spacing: float
    work: float

    @property
    def magnification(self) -> float:
        return self.sid / self.sod

    @property
    def y_source(self) -> float:
        return self.y_ref - self.sod

    @property
    def work_shape(self) -> tuple[int, int]:
        scale = self.spacing / self.work
        return max(int(np.ceil(self.rows * scale)), 2), max(int(np.ceil(self.cols * scale)), 2)

    def to_pixel(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """Image ``(row, col)`` of patient points ``(..., 3)``."""
        p = np.asarray(points, dtype=np.float64)
        depth = p[..., 1] - self.y_source
        u = (p[..., 0] - self.x_c) * self.sid / depth
        w = (p[..., 2] - self.z_c) * self.sid / depth
        col = u / self.spacing + (self.cols - 1) / 2
        row = (self.rows - 1) / 2 - w / self.spacing
        return np.stack([row, col], axis=-1)

    def work_uw(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Detector mm of the work grid's pixel centres (u per column, w per row); the work grid
        spans the detector's outer pixel edges."""
        rows, cols = self.work_shape
        half_w, half_h = self.cols * self.spacing / 2, self.rows * self.spacing / 2
        u = -half_w + (np.arange(cols) + 0.5) * (2 * half_w / cols)
        w = half_h - (np.arange(rows) + 0.5) * (2 * half_h / rows)
        return np.asarray(u, dtype=np.float64), np.asarray(w, dtype=np.float64)


def _index_range(values: NDArray[np.float64], lo: float, hi: float) -> tuple[int, int]:
    """The indices of sorted-or-reversed ``values`` within [lo, hi] (a half-open range)."""
    inside = np.flatnonzero((values >= lo) & (values <= hi))
    if inside.size == 0:
        return 0, 0
    return int(inside[0]), int(inside[-1]) + 1


def _footprint(
    geometry: XrGeometry, lo: NDArray[np.float64], hi: NDArray[np.float64], pad: float
) -> tuple[float, float, float, float]:
    """The detector (u, w) range of a patient box, widened by ``pad`` mm."""
    corners = np.array(
        [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
    )
    depth = corners[:, 1] - geometry.y_source
    u = (corners[:, 0] - geometry.x_c) * geometry.sid / depth
    w = (corners[:, 2] - geometry.z_c) * geometry.sid / depth
    return u.min() - pad, u.max() + pad, w.min() - pad, w.max() + pad


def project_solids(
    geometry: XrGeometry, solids: Sequence[Solid], step: float
) -> dict[str, NDArray[np.float32]]:
    """Each solid's line integral of attenuation on the work grid (rows, cols), by name (solids
    of one name add up)."""
    u_axis, w_axis = geometry.work_uw()
    pixel = float(u_axis[1] - u_axis[0]) if u_axis.size > 1 else geometry.work
    edge = max(pixel / geometry.magnification, step)
    out: dict[str, NDArray[np.float32]] = {}
    for solid in solids:
        total = out.setdefault(solid.name, np.zeros((w_axis.size, u_axis.size), np.float32))
        _project_one(geometry, solid, step, edge, u_axis, w_axis, total)
    return out


def _project_one(
    geometry: XrGeometry,
    solid: Solid,
    step: float,
    edge: float,
    u_axis: NDArray[np.float64],
    w_axis: NDArray[np.float64],
    total: NDArray[np.float32],
) -> None:
    lo, hi = solid.lo, solid.hi
    u0, u1, w0, w1 = _footprint(geometry, lo, hi, 2 * edge)
    c0, c1 = _index_range(u_axis, u0, u1)
    r0, r1 = _index_range(w_axis, w0, w1)
    if c1 <= c0 or r1 <= r0:
        return
    ys = np.arange(lo[1] - edge, hi[1] + edge, step)
    depth = (ys - geometry.y_source) / geometry.sid  # D / SID per sample
    us, ny = u_axis[c0:c1], ys.size
    chunk = max(1, _CHUNK_POINTS // max(1, us.size * ny))
    for a in range(r0, r1, chunk):
        ws = w_axis[a : min(a + chunk, r1)]
        d = np.full((ws.size, us.size, ny), np.inf, dtype=np.float32)
        for piece in solid.pieces:
            pu0, pu1, pw0, pw1 = _footprint(geometry, piece.lo, piece.hi, 2 * edge)
            i0, i1 = _index_range(ws, pw0, pw1)
            j0, j1 = _index_range(us, pu0, pu1)
            k0, k1 = _index_range(ys, piece.lo[1] - edge, piece.hi[1] + edge)
            if i1 <= i0 or j1 <= j0 or k1 <= k0:
                continue
            scale = depth[k0:k1]
            points = np.empty((i1 - i0, j1 - j0, k1 - k0, 3), dtype=np.float32)
            points[..., 0] = geometry.x_c + us[None, j0:j1, None] * scale[None, None, :]
            points[..., 1] = ys[None, None, k0:k1]
            points[..., 2] = geometry.z_c + ws[i0:i1, None, None] * scale[None, None, :]
            sub = d[i0:i1, j0:j1, k0:k1]
            np.minimum(sub, piece.distance(points).astype(np.float32), out=sub)
        cover = np.clip(0.5 - d / edge, 0.0, 1.0)
        line = solid.mu * cover.sum(axis=2)
        if solid.inner_mu is not None:
            inner = np.clip(0.5 - (d + solid.inset) / edge, 0.0, 1.0)
            line += (solid.inner_mu - solid.mu) * inner.sum(axis=2)
        oblique = np.sqrt(1.0 + (us[None, :] ** 2 + ws[:, None] ** 2) / geometry.sid**2)
        total[a : a + ws.size, c0:c1] += (line * step * oblique).astype(np.float32)
