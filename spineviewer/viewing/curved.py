"""Curved planar reformat along the spine: the canal straightened into one image.

A :class:`CurvedGrid` lays output pixels along a :class:`~spineviewer.geometry.spine_curve.
CentreCurve` through ordered centre points (vertebra centres, or canal points): image rows
run down the curve at a fixed mm step, image columns across it at a fixed mm step, and
each slice of the reformat is the same sheet moved along the third direction::

    P(row, col, slice) = C(s_row) + (col - centre_col) * col_mm * A(s_row) + depth * D(s_row)

with ``C`` the curve, ``A`` the across direction (``coronal``: the patient's left made
perpendicular to the tangent, so a coronal straightened image has the patient's left on the
right as a coronal reformat does; ``sagittal``: posterior) and ``D`` the tangent x across.
Every centre point lies on the centre column of the depth-0 slice: a scoliotic canal reads
straight.

SimpleITK does the resampling, in physical space: the grid becomes a displacement field
over a reference image and ``sitk.Resample`` samples the volume (linear for images, nearest
neighbour for label maps), honouring the volume's spacing, origin and direction cosines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spineviewer.dicom import Volume, Window
from spineviewer.geometry.spine_curve import CentreCurve, CurveFrames, FloatArray
from spineviewer.viewing.source import SliceInfo

#: Per straightened plane: the patient direction (LPS) the columns run along.
ACROSS: dict[str, tuple[float, float, float]] = {
    "coronal": (1.0, 0.0, 0.0),
    "sagittal": (0.0, 1.0, 0.0),
}
INTERPOLATORS: tuple[str, ...] = ("linear", "nearest", "bspline")


@dataclass(frozen=True)
class CurvedGrid:
    """Where every output pixel of a curved reformat lies in the patient (LPS mm)."""

    curve: CentreCurve
    plane: str
    frames: CurveFrames
    row_mm: float
    col_mm: float
    columns: int
    depths_mm: FloatArray
    #: Arc length of the first row (negative: the image starts above the first point).
    start_s: float = field(default=0.0)

    @property
    def rows(self) -> int:
        return len(self.frames.s)

    @property
    def centre_col(self) -> float:
        """The column the curve runs down."""
        return (self.columns - 1) / 2.0

    @property
    def shape(self) -> tuple[int, int, int]:
        """(slices, rows, columns) of the reformat."""
        return len(self.depths_mm), self.rows, self.columns

    def to_patient(self, rows: ArrayLike, cols: ArrayLike, depth_mm: float = 0.0) -> FloatArray:
        """Patient points of (fractional) output pixels; rows between samples interpolate."""
        r = np.asarray(rows, dtype=np.float64)
        c = np.asarray(cols, dtype=np.float64)
        s = self.start_s + r * self.row_mm
        f = self.curve.frames(s.ravel(), ACROSS[self.plane])
        off = (c.ravel() - self.centre_col) * self.col_mm
        pts = f.points + off[:, None] * f.across + depth_mm * f.depth
        out: FloatArray = pts.reshape(*np.broadcast_shapes(r.shape, c.shape), 3)
        return out

    def to_output(self, points: ArrayLike) -> FloatArray:
        """(row, col, depth_mm) of patient points (n, 3): the nearest curve point gives the
        row, the offset across it the column, the offset along the depth direction the depth."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        s = self.curve.nearest_s(p)
        f = self.curve.frames(s, ACROSS[self.plane])
        d = p - f.points
        rows = (s - self.start_s) / self.row_mm
        cols = self.centre_col + np.einsum("ij,ij->i", d, f.across) / self.col_mm
        depth = np.einsum("ij,ij->i", d, f.depth)
        return np.stack([rows, cols, depth], axis=1)

    def sample_points(self) -> FloatArray:
        """Patient points of every output voxel, shape (slices, rows, columns, 3)."""
        f = self.frames
        off = (np.arange(self.columns) - self.centre_col) * self.col_mm
        sheet = f.points[:, None, :] + off[None, :, None] * f.across[:, None, :]
        out: FloatArray = sheet[None] + self.depths_mm[:, None, None, None] * f.depth[None, :, None]
        return out


def curved_grid(
    points: ArrayLike,
    *,
    plane: str = "coronal",
    row_mm: float = 1.0,
    col_mm: float = 1.0,
    width_mm: float = 120.0,
    margin_mm: float = 20.0,
    depths_mm: Sequence[float] = (0.0,),
) -> CurvedGrid:
    """The grid of a reformat along the curve through ``points`` (ordered, patient mm).

    Rows run from ``margin_mm`` before the first point to ``margin_mm`` past the last,
    ``width_mm`` across; one slice per entry of ``depths_mm`` (mm along the depth direction).
    """
    if plane not in ACROSS:
        raise ValueError(f"curved reformat plane {plane!r} unknown; choose one of {list(ACROSS)}")
    if row_mm <= 0 or col_mm <= 0 or width_mm <= 0 or margin_mm < 0:
        raise ValueError("the reformat's steps and width must be positive")
    if not len(depths_mm):
        raise ValueError("a curved reformat needs at least one depth")
    curve = CentreCurve.through(points)
    rows = int(np.floor((curve.length + 2.0 * margin_mm) / row_mm)) + 1
    s = -margin_mm + np.arange(rows) * row_mm
    columns = int(np.floor(width_mm / col_mm)) | 1  # odd: the curve is on a pixel centre
    return CurvedGrid(
        curve=curve,
        plane=plane,
        frames=curve.frames(s, ACROSS[plane]),
        row_mm=float(row_mm),
        col_mm=float(col_mm),
        columns=columns,
        depths_mm=np.asarray(depths_mm, dtype=np.float64),
        start_s=-float(margin_mm),
    )


def curved_reformat(
    volume: Volume, grid: CurvedGrid, *, interpolator: str = "linear", fill: float | None = None
) -> NDArray[np.float32]:
    """The volume sampled on ``grid``: (slices, rows, columns) in the volume's units.

    ``fill`` (outside the volume) defaults to the volume's minimum (air on CT).
    """
    import SimpleITK as sitk

    if interpolator not in INTERPOLATORS:
        raise ValueError(f"interpolator {interpolator!r} unknown; choose one of {INTERPOLATORS}")
    kinds = {
        "linear": sitk.sitkLinear,
        "nearest": sitk.sitkNearestNeighbor,
        "bspline": sitk.sitkBSpline,
    }
    image = sitk.Cast(volume.to_sitk(), sitk.sitkFloat32)
    slices, rows, cols = grid.shape
    reference = sitk.Image(cols, rows, slices, sitk.sitkFloat32)  # identity geometry
    index = np.stack(
        np.meshgrid(np.arange(cols), np.arange(rows), np.arange(slices), indexing="xy"), axis=-1
    )  # (rows, cols, slices, 3) of (x=col, y=row, z=slice)
    index = np.transpose(index, (2, 0, 1, 3)).astype(np.float64)
    displacement = grid.sample_points() - index
    field_image = sitk.GetImageFromArray(displacement, isVector=True)
    transform = sitk.DisplacementFieldTransform(sitk.Cast(field_image, sitk.sitkVectorFloat64))
    transform.SetInterpolator(sitk.sitkLinear)
    default = float(np.min(volume.array)) if fill is None else float(fill)
    out = sitk.Resample(image, reference, transform, kinds[interpolator], default)
    return np.asarray(sitk.GetArrayFromImage(out), dtype=np.float32)


class CurvedSource:
    """A curved reformat as a read-only slice source: one slice per depth along the curve.

    Slices have no plane (the sheet is curved), so no cross-reference lines are drawn from or
    onto them; pixel spacing is the grid's (row step along the curve, column step across).
    """

    plane_name = "oblique"

    def __init__(
        self,
        volume: Volume,
        grid: CurvedGrid,
        *,
        name: str = "Curved reformat",
        series_uid: str = "",
        modality: str = "",
        header_window: Window | None = None,
        interpolator: str = "linear",
    ) -> None:
        self.grid = grid
        self.name = name
        self.modality = modality
        self.frame_of_reference_uid = volume.frame_of_reference_uid
        self.series_uid = series_uid
        self.header_window = header_window
        self._array = curved_reformat(volume, grid, interpolator=interpolator)
        self._array.setflags(write=False)

    def __len__(self) -> int:
        return int(self._array.shape[0])

    def values(self, index: int) -> np.ndarray:
        if not 0 <= index < len(self):
            raise IndexError(f"{self.name}: slice {index} outside 0..{len(self) - 1}")
        return self._array[index]

    def info(self, index: int) -> SliceInfo:
        return SliceInfo(
            plane=None,
            pixel_spacing=(self.grid.row_mm, self.grid.col_mm),
            frame=None,
            header_window=self.header_window,
            position_mm=float(self.grid.depths_mm[index]),
        )
