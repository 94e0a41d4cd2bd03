"""A label map as a read-only viewer layer, without Qt: its labels on any image plane.

A segmentation (:class:`~spineviewer.ai.sliding_window.LabelMap`, a DICOM SEG read back, a
phantom's truth) labels the voxels of one series. :class:`SeriesLabelMap` places it in the
patient: the labels ``(k, j, i)`` with the series' affine (index -> patient LPS mm), its
frame of reference and what each value stands for. :meth:`SeriesLabelMap.on_plane` gives the
labels an image plane crosses as a label image on that plane's own pixel grid, by nearest
neighbour: every pixel centre ``P(r, c)`` (:class:`~spineviewer.geometry.Plane`) is taken to
the label map's index space by the inverse affine and rounded; a pixel whose nearest voxel is
outside the map is 0. The same rule serves every view:

- the segmented series' own slices (the index is a whole voxel: the slice ``k`` exactly);
- reformats (:mod:`spineviewer.viewing.mpr`: their slices carry their exact planes), oblique
  ones included;
- other series of the same frame of reference (the sagittal and the axial series of one study
  show one map where their planes cross it); a series of another frame shows nothing.

:func:`rgba` colours a label image (each label's colour; filled at half the layer's opacity,
or only its outline, the pixels next to another value, at the full opacity).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import product
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from spineviewer.ai.manifest_model import ModelLabel
from spineviewer.geometry import Plane

if TYPE_CHECKING:
    from spineviewer.ai.sliding_window import LabelMap
    from spineviewer.dicom import Volume

__all__ = [
    "FILL_ALPHA",
    "LabelImage",
    "SeriesLabelMap",
    "colour_table",
    "grid_plane",
    "labels_present",
    "on_grid",
    "outline",
    "rgba",
]

LabelImage = NDArray[np.unsignedinteger]
FloatArray = NDArray[np.float64]
#: A filled label is drawn at this fraction of the layer's opacity (the image shows through).
FILL_ALPHA = 0.5


@dataclass(frozen=True, eq=False)
class SeriesLabelMap:
    """A label map of one series, placed in the patient."""

    #: (slices k, rows j, columns i): 0 background, else a key of :attr:`values`.
    labels: LabelImage
    #: 4x4: homogeneous index (k, j, i, 1) -> patient (x, y, z, 1), LPS mm (the series').
    affine: FloatArray
    #: What each non-zero value stands for (name, display name, colour, code).
    values: Mapping[int, ModelLabel]
    frame_of_reference_uid: str
    #: The series the map labels (its grid).
    series_uid: str
    #: The model that made it ("" for a map that is no model's, such as a phantom's truth).
    model_id: str = ""
    model_version: str = ""
    #: Where it came from, for a person ("spine-ct-segmentation 1.0", "phantom truth").
    description: str = ""
    #: Made by a demonstration model (trained on phantoms): its volumes say so wherever shown.
    not_for_clinical_use: bool = False
    _inverse: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.labels.ndim != 3:
            raise ValueError(f"a label map is (k, j, i), got shape {self.labels.shape}")
        affine = np.asarray(self.affine, dtype=np.float64)
        if affine.shape != (4, 4):
            raise ValueError(f"the label map's affine must be 4x4, got {affine.shape}")
        object.__setattr__(self, "affine", affine)
        object.__setattr__(self, "_inverse", np.linalg.inv(affine))

    @classmethod
    def from_label_map(cls, label_map: LabelMap, volume: Volume, series_uid: str) -> SeriesLabelMap:
        """A model's label map of the series ``volume`` was read from (same grid)."""
        if tuple(label_map.labels.shape) != tuple(volume.shape):
            raise ValueError(
                f"label map {label_map.labels.shape} is not on the series' grid {volume.shape}"
            )
        return cls(
            label_map.labels,
            volume.affine,
            dict(label_map.values),
            volume.frame_of_reference_uid,
            series_uid,
            label_map.model_id,
            label_map.model_version,
            f"{label_map.model_id} {label_map.model_version}".strip(),
        )

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size along (k, j, i), mm."""
        norms = np.linalg.norm(self.affine[:3, :3], axis=0)
        return float(norms[0]), float(norms[1]), float(norms[2])

    @property
    def voxel_mm3(self) -> float:
        """The volume of one voxel, mm³."""
        return float(abs(np.linalg.det(self.affine[:3, :3])))

    def label(self, value: int) -> ModelLabel | None:
        """What ``value`` stands for (None for 0 and unknown values)."""
        return self.values.get(int(value))

    def index_of(self, point: FloatArray) -> FloatArray:
        """Fractional (k, j, i) of patient point(s) ``(..., 3)``."""
        p = np.asarray(point, dtype=np.float64)
        return p @ self._inverse[:3, :3].T + self._inverse[:3, 3]

    def crosses(self, plane: Plane) -> bool:
        """Whether ``plane`` may cross a voxel of the map: False when the map's box (voxel
        edges) lies wholly on one side of it."""
        extent = [(-0.5, n - 0.5) for n in self.labels.shape]
        corners = np.array(list(product(*extent)), dtype=np.float64)
        d = plane.distance(corners @ self.affine[:3, :3].T + self.affine[:3, 3])
        return bool(d.min() <= 0.0 <= d.max())

    def on_plane(self, plane: Plane, shape: tuple[int, int] | None = None) -> LabelImage:
        """The labels on ``plane``'s pixel grid (``shape`` rows x columns, default the plane's),
        nearest voxel; 0 where the nearest voxel is outside the map."""
        rows, cols = shape if shape is not None else (plane.shape or (0, 0))
        out = np.zeros((rows, cols), dtype=self.labels.dtype)
        if rows == 0 or cols == 0 or not self.crosses(plane):
            return out
        dr, dc = plane.spacing
        m = self._inverse[:3, :3]
        base = m @ plane.origin + self._inverse[:3, 3]
        down = m @ (plane.col_dir * dr)  # index step per image row
        right = m @ (plane.row_dir * dc)  # index step per image column
        r = np.arange(rows, dtype=np.float64)[:, None]
        c = np.arange(cols, dtype=np.float64)[None, :]
        inside = np.ones((rows, cols), dtype=bool)
        index = []
        for axis, n in enumerate(self.labels.shape):
            # the nearest voxel centre (voxel centres are at whole indices)
            at = np.floor(base[axis] + r * down[axis] + c * right[axis] + 0.5)
            inside &= (at >= 0) & (at < n)
            index.append(at)
        if not inside.any():
            return out
        k, j, i = (a[inside].astype(np.intp) for a in index)
        out[inside] = self.labels[k, j, i]
        return out


def grid_plane(affine: FloatArray, k: int, shape: tuple[int, int]) -> Plane:
    """The plane of slice ``k`` of a grid whose index (k, j, i) -> patient map is ``affine``
    (rows along j, columns along i) with ``shape`` (rows, columns)."""
    a = np.asarray(affine, dtype=np.float64)
    down, right = a[:3, 1], a[:3, 2]
    return Plane(
        origin=a[:3, 0] * k + a[:3, 3],
        row_dir=right,
        col_dir=down,
        spacing=(float(np.linalg.norm(down)), float(np.linalg.norm(right))),
        shape=shape,
    )


def on_grid(
    label_map: SeriesLabelMap, affine: FloatArray, shape: tuple[int, int, int]
) -> LabelImage:
    """``label_map`` resampled (nearest voxel) onto another grid of the same frame of
    reference: ``affine`` (k, j, i) -> patient, ``shape`` (k, j, i); the map itself where the
    grids are the same voxels in another order (a NIfTI's slices reversed)."""
    out = np.zeros(shape, dtype=label_map.labels.dtype)
    for k in range(shape[0]):
        out[k] = label_map.on_plane(grid_plane(affine, k, (shape[1], shape[2])))
    return out


def labels_present(image: LabelImage) -> list[int]:
    """The non-zero values of a label image, ascending."""
    found = np.unique(image)
    return [int(v) for v in found if v != 0]


def colour_table(values: Mapping[int, ModelLabel]) -> NDArray[np.uint8]:
    """RGBA per value (0 .. the largest value): each label's colour, opaque; 0 and values
    without a label transparent."""
    top = max(values, default=0)
    table = np.zeros((top + 1, 4), dtype=np.uint8)
    for value, label in values.items():
        if value <= 0:
            continue
        table[value, :3] = _rgb(label.color)
        table[value, 3] = 255
    return table


def _rgb(color: str) -> tuple[int, int, int]:
    text = color.lstrip("#")
    if len(text) != 6:
        return (230, 225, 197)  # the vocabulary's neutral colour
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def outline(image: NDArray[np.integer]) -> NDArray[np.bool_]:
    """Labelled pixels with a 4-neighbour of another value (or the image edge): the labels'
    outlines, one pixel wide, inside each label."""
    labelled = image != 0
    edge = np.zeros_like(labelled)
    edge[0, :] = edge[-1, :] = True
    edge[:, 0] = edge[:, -1] = True
    differs = edge.copy()
    differs[1:, :] |= image[1:, :] != image[:-1, :]
    differs[:-1, :] |= image[:-1, :] != image[1:, :]
    differs[:, 1:] |= image[:, 1:] != image[:, :-1]
    differs[:, :-1] |= image[:, :-1] != image[:, 1:]
    return labelled & differs


def rgba(
    image: LabelImage,
    table: NDArray[np.uint8],
    *,
    outline_only: bool = False,
    opacity: float = 1.0,
    hidden: frozenset[int] = frozenset(),
) -> NDArray[np.uint8]:
    """``image`` coloured by ``table`` (:func:`colour_table`) as (rows, cols, 4) RGBA: filled
    at :data:`FILL_ALPHA` x ``opacity``, or (``outline_only``) the outlines at ``opacity``;
    values in ``hidden`` and beyond the table are left out."""
    values = np.where(image < len(table), image, 0).astype(np.intp)
    if hidden:
        values[np.isin(values, list(hidden))] = 0
    out = table[values]
    alpha = float(np.clip(opacity, 0.0, 1.0)) * (1.0 if outline_only else FILL_ALPHA)
    out[..., 3] = (out[..., 3].astype(np.float32) * alpha).round().astype(np.uint8)
    if outline_only:
        out[~outline(values)] = 0
    return out
