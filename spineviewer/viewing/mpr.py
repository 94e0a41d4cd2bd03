"""Multiplanar reformats of a :class:`~spineviewer.dicom.Volume` by array slicing.

Each reformat is a :class:`~spineviewer.viewing.source.SliceSource` whose slices carry their
exact patient-space plane, so cross-reference lines, the 3D cursor and corner text work on
reformats as on acquired images. The volume axis best aligned with each wanted screen
direction is used (no resampling): a volume acquired obliquely gives the nearest reformat,
and its plane says exactly where it lies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spineviewer.dicom import Stack, Volume, Window
from spineviewer.dicom.study_tree import plane_name
from spineviewer.geometry import Plane
from spineviewer.viewing.source import SliceInfo

#: Wanted patient directions of screen right (row_dir) and screen down (col_dir), LPS.
CONVENTIONS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "axial": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "sagittal": ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),
    "coronal": ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),
}
#: A stack needs this many slices to be offered as a volume.
MIN_VOLUME_SLICES = 8
#: Non-CT slices at most this many pixels apart reformat into readable images (3D MR ~1;
#: 2D MR slices are 4-6 pixels apart and are read as acquired). CT is always reformatted.
MAX_ANISOTROPY = 3.0


@dataclass(frozen=True)
class _Axes:
    row: int  # volume axis along screen right
    col: int  # volume axis along screen down
    slab: int  # volume axis sliced through
    row_sign: int
    col_sign: int
    slab_sign: int


def _choose_axes(affine: np.ndarray, plane: str) -> _Axes:
    dirs = affine[:3, :3] / np.linalg.norm(affine[:3, :3], axis=0)
    want_row, want_col = (np.asarray(v) for v in CONVENTIONS[plane])
    row = int(np.argmax(np.abs(want_row @ dirs)))
    rest = [a for a in range(3) if a != row]
    col = rest[int(np.argmax(np.abs(want_col @ dirs[:, rest])))]
    slab = next(a for a in range(3) if a not in (row, col))
    row_sign = 1 if want_row @ dirs[:, row] >= 0 else -1
    col_sign = 1 if want_col @ dirs[:, col] >= 0 else -1
    normal = np.cross(row_sign * dirs[:, row], col_sign * dirs[:, col])
    slab_sign = 1 if normal @ dirs[:, slab] >= 0 else -1
    return _Axes(row, col, slab, row_sign, col_sign, slab_sign)


class MprSource:
    """One reformat ("axial", "sagittal" or "coronal") of a volume, as a slice source."""

    def __init__(
        self,
        volume: Volume,
        plane: str,
        *,
        name: str | None = None,
        series_uid: str = "",
        modality: str = "",
        header_window: Window | None = None,
        photometric: str = "MONOCHROME2",
    ) -> None:
        if plane not in CONVENTIONS:
            raise ValueError(f"MPR plane {plane!r} unknown; choose one of {sorted(CONVENTIONS)}")
        self.volume = volume
        self.name = name or f"MPR {plane}"
        self.modality = modality
        self.frame_of_reference_uid = volume.frame_of_reference_uid
        self.series_uid = series_uid
        self.header_window = header_window
        self.photometric = photometric
        self.axes = _choose_axes(volume.affine, plane)
        self._infos: dict[int, SliceInfo] = {}
        first = self._plane(0)
        self.plane_name = plane_name(tuple(first.normal), modality) if first is not None else plane
        self._spacing = (volume.spacing[self.axes.col], volume.spacing[self.axes.row])

    def __len__(self) -> int:
        return int(self.volume.array.shape[self.axes.slab])

    def _slab_index(self, index: int) -> int:
        return index if self.axes.slab_sign > 0 else len(self) - 1 - index

    def values(self, index: int) -> np.ndarray:
        """Slice ``index`` as (rows, cols), C-contiguous and read-only."""
        a = self.axes
        if not 0 <= index < len(self):
            raise IndexError(f"{self.name}: slice {index} outside 0..{len(self) - 1}")
        out = np.take(self.volume.array, self._slab_index(index), axis=a.slab)
        remaining = [ax for ax in range(3) if ax != a.slab]  # axes of ``out``, in order
        if remaining.index(a.col) != 0:
            out = out.T
        if a.row_sign < 0:
            out = out[:, ::-1]
        if a.col_sign < 0:
            out = out[::-1, :]
        out = np.ascontiguousarray(out)
        out.setflags(write=False)
        return out

    def _plane(self, index: int) -> Plane | None:
        a = self.axes
        shape = self.volume.array.shape
        kji = np.zeros(3)
        kji[a.slab] = self._slab_index(index)
        kji[a.row] = 0 if a.row_sign > 0 else shape[a.row] - 1
        kji[a.col] = 0 if a.col_sign > 0 else shape[a.col] - 1
        origin = self.volume.affine[:3, :3] @ kji + self.volume.affine[:3, 3]
        step_row = a.row_sign * self.volume.affine[:3, a.row]
        step_col = a.col_sign * self.volume.affine[:3, a.col]
        try:
            return Plane(
                origin=origin,
                row_dir=step_row,
                col_dir=step_col,
                spacing=(float(np.linalg.norm(step_col)), float(np.linalg.norm(step_row))),
                shape=(int(shape[a.col]), int(shape[a.row])),
            )
        except ValueError:  # sheared (gantry tilt) volume: no exact plane
            return None

    def info(self, index: int) -> SliceInfo:
        """Plane, spacing and display facts of reformatted slice ``index`` (cached)."""
        cached = self._infos.get(index)
        if cached is not None:
            return cached
        plane = self._plane(index)
        position = float(plane.origin @ plane.normal) if plane is not None else None
        info = self._infos[index] = SliceInfo(
            plane=plane,
            pixel_spacing=self._spacing,
            frame=None,
            photometric=self.photometric,
            header_window=self.header_window,
            position_mm=position,
        )
        return info


def mpr_sources(volume: Volume, **kwargs: object) -> dict[str, MprSource]:
    """The axial, sagittal and coronal reformats of ``volume``."""
    return {plane: MprSource(volume, plane, **kwargs) for plane in CONVENTIONS}  # type: ignore[arg-type]


def is_volumetric(stack: Stack) -> bool:
    """True for a stack that reformats faithfully: enough evenly, closely spaced slices."""
    if len(stack) < MIN_VOLUME_SLICES or stack.confidence < 1.0:
        return False
    spacing, pixel = stack.slice_spacing, stack.pixel_spacing
    if stack.ordering.offsets is None or pixel is None or spacing is None:
        return False
    if stack.modality != "CT" and spacing > MAX_ANISOTROPY * max(pixel):
        return False
    if stack.first.instance.samples_per_pixel != 1:
        return False
    return not any("uneven" in w or "tilt" in w for w in stack.warnings)
