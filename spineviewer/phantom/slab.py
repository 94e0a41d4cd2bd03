"""Slices with a thickness, acquired coarser than written: how the wide profile renders MR.

A slice of thickness ``t`` is the mean of ``n`` sub-slices at the centres of ``n`` equal
sub-slabs (offsets ``(k - (n - 1) / 2) * t / n`` along the normal): partial volume across the
slice, as a real slab integrates it. The sub-slices are rendered on the *acquired* grid (the
same field of view, pixels at least the acquired resolution); the signal is then linearly
interpolated to the written grid, as a scanner's reconstruction matrix does, before the bias
field and the noise. The owner and tissue labels of the written grid (what ground-truth boxes
are read from) are those of the central sub-slice, nearest-neighbour interpolated.

Per-disc signals: the nucleus and any herniation of a disc with a degeneration draw take the
signal of that disc (:func:`disc_signals`), not the tissue table's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spineviewer.geometry import Plane
from spineviewer.phantom.anatomy import SpineAnatomy
from spineviewer.phantom.imaging import rician, smooth, to_uint16
from spineviewer.phantom.mr_look import MrLook
from spineviewer.phantom.painted_volume import Rendered, SpineModel
from spineviewer.phantom.series import PixelFunction
from spineviewer.phantom.solids import FloatArray
from spineviewer.phantom.tissues import Tissue

IntArray = NDArray[np.intp]
#: Tissues whose signal a disc's draw sets.
DISC_TISSUES: tuple[Tissue, ...] = (Tissue.NUCLEUS, Tissue.HERNIATION)


@dataclass(frozen=True)
class Axis:
    """Linear interpolation from ``n`` acquired pixels to the written ones along one axis."""

    low: IntArray
    high: IntArray
    fraction: FloatArray
    nearest: IntArray

    @classmethod
    def between(cls, written: int, spacing: float, acquired: int, acquired_spacing: float) -> Axis:
        """Both grids span the same length; pixel centres half a pixel in from its ends."""
        u = (np.arange(written) + 0.5) * (spacing / acquired_spacing) - 0.5
        u = np.clip(u, 0.0, acquired - 1.0)
        low = np.floor(u).astype(np.intp)
        return cls(
            low=low,
            high=np.minimum(low + 1, acquired - 1),
            fraction=(u - low).astype(np.float32),
            nearest=np.rint(u).astype(np.intp),
        )

    @property
    def identity(self) -> bool:
        """The acquired pixels are the written ones."""
        return bool(np.all(self.fraction < 1e-9)) and bool(
            np.array_equal(self.low, np.arange(len(self.low)))
        )


def acquired_plane(plane: Plane, acquired: tuple[float, float]) -> Plane:
    """The plane's field of view with pixels of about ``acquired`` mm (never finer)."""
    assert plane.shape is not None
    rows, cols = plane.shape
    dr, dc = plane.spacing
    n_rows = max(2, min(rows, round(rows * dr / acquired[0])))
    n_cols = max(2, min(cols, round(cols * dc / acquired[1])))
    ar, ac = rows * dr / n_rows, cols * dc / n_cols
    edge = plane.origin - 0.5 * dr * plane.col_dir - 0.5 * dc * plane.row_dir
    origin = edge + 0.5 * ar * plane.col_dir + 0.5 * ac * plane.row_dir
    return Plane(origin, plane.row_dir, plane.col_dir, (ar, ac), (n_rows, n_cols))


@dataclass(frozen=True)
class SlabRendered(Rendered):
    """A written plane: central labels on its own grid, the sub-slices on the acquired one."""

    slab: tuple[Rendered, ...] = ()
    rows: Axis | None = None
    cols: Axis | None = None

    def upsample(self, acquired: FloatArray) -> FloatArray:
        """An acquired-grid image linearly interpolated to the written grid."""
        assert self.rows is not None and self.cols is not None
        r, c = self.rows, self.cols
        if r.identity and c.identity:
            return acquired
        fr = r.fraction[:, None]
        along_rows = acquired[r.low] * (1.0 - fr) + acquired[r.high] * fr
        fc = c.fraction[None, :]
        return along_rows[:, c.low] * (1.0 - fc) + along_rows[:, c.high] * fc


def render_slab(
    model: SpineModel,
    plane: Plane,
    thickness: float,
    sub_slices: int,
    acquired: tuple[float, float],
) -> SlabRendered:
    """Render ``sub_slices`` (odd) sub-slices of ``plane`` on the acquired grid."""
    if sub_slices < 1 or sub_slices % 2 == 0:
        raise ValueError(f"sub-slices must be an odd count, got {sub_slices}")
    assert plane.shape is not None
    coarse = acquired_plane(plane, acquired)
    offsets = (np.arange(sub_slices) - (sub_slices - 1) / 2.0) * thickness / sub_slices
    assert coarse.shape is not None
    slab = tuple(
        model.render(
            Plane(
                coarse.origin + o * coarse.normal,
                coarse.row_dir,
                coarse.col_dir,
                coarse.spacing,
                coarse.shape,
            )
        )
        for o in offsets
    )
    rows = Axis.between(plane.shape[0], plane.spacing[0], coarse.shape[0], coarse.spacing[0])
    cols = Axis.between(plane.shape[1], plane.spacing[1], coarse.shape[1], coarse.spacing[1])
    central = slab[sub_slices // 2]
    pick = np.ix_(rows.nearest, cols.nearest)
    return SlabRendered(plane, central.tissue[pick], central.owner[pick], slab, rows, cols)


@dataclass(frozen=True)
class CoilField:
    """A posterior coil's sensitivity: ``exp((y - y_ref) / falloff)``, clipped to 0.2-2.

    Patient y grows posteriorly, so tissue near the coil (the back) is brighter than the
    abdomen; ``y_ref`` (L3's canal) has 1.
    """

    y_ref: float
    falloff_mm: float

    @classmethod
    def of(cls, anatomy: SpineAnatomy, falloff_mm: float) -> CoilField:
        """Referenced to the canal behind L3."""
        l3 = anatomy.vertebra("L3")
        canal = l3.frame.to_world((0.0, anatomy.canal_offset(l3.depth), 0.0))
        return cls(float(canal[1]), falloff_mm)

    def on_plane(self, plane: Plane) -> FloatArray:
        """Field value at every pixel of a plane with a shape."""
        assert plane.shape is not None
        rows = np.arange(plane.shape[0], dtype=np.float64)[:, None]
        cols = np.arange(plane.shape[1], dtype=np.float64)[None, :]
        corners = plane.to_patient([0.0, 0.0, 1.0], [0.0, 1.0, 0.0])
        start, per_col, per_row = corners[0], corners[1] - corners[0], corners[2] - corners[0]
        y = start[1] + per_col[1] * cols + per_row[1] * rows
        return np.clip(np.exp((y - self.y_ref) / self.falloff_mm), 0.2, 2.0)


def disc_signals(
    model: SpineModel, look: MrLook, ratios: Mapping[str, tuple[float, float]]
) -> dict[Tissue, FloatArray]:
    """Per tissue of :data:`DISC_TISSUES`, its signal by owner id (the table's by default).

    ``ratios``: per disc level, (nucleus, herniation) signals over the table's healthy
    nucleus.
    """
    count = len(model.structures)
    out = {t: np.full(count, float(look.table[int(t)])) for t in DISC_TISSUES}
    nucleus = float(look.table[int(Tissue.NUCLEUS)])
    for level, (core, herniated) in ratios.items():
        out[Tissue.NUCLEUS][model.structure_id(level)] = nucleus * core
        name = f"{level}/herniation"
        if name in model.structures:
            out[Tissue.HERNIATION][model.structure_id(name)] = nucleus * herniated
    return out


def slab_pixels(
    look: MrLook,
    series_number: int,
    by_owner: Mapping[Tissue, FloatArray],
    coil: CoilField,
) -> PixelFunction:
    """``(index, rendered) -> uint16`` for :class:`SlabRendered` planes of one series."""

    def signal_of(sub: Rendered) -> FloatArray:
        signal = look.table[sub.tissue]
        for tissue, values in by_owner.items():
            where = sub.tissue == int(tissue)
            signal[where] = values[sub.owner[where]]
        return signal

    def pixels(index: int, rendered: Rendered) -> NDArray[np.uint16]:
        if not isinstance(rendered, SlabRendered):
            raise TypeError("slab pixels need planes rendered by render_slab")
        slab = rendered.slab
        coarse = slab[len(slab) // 2].plane
        mean = sum(signal_of(sub) for sub in slab) / len(slab)
        # The bias and coil fields are smooth: applied on the acquired grid, then interpolated.
        field = look.bias.on_plane(coarse) * coil.on_plane(coarse)
        signal = smooth(np.asarray(mean, dtype=np.float64)) * field
        fine = rendered.upsample(signal.astype(np.float32))
        rng = np.random.default_rng([look.seed, series_number, index])
        return to_uint16(rician(fine, look.sigma, rng))

    return pixels
