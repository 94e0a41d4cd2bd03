"""Slice sources: the one interface a viewport reads images, planes and header text from.

A source is a sequence of 2-D images in modality units (after the rescale / modality LUT),
each with its patient-space :class:`~spineviewer.geometry.Plane` when the geometry is known.
:class:`StackListSource` shows one or more DICOM stacks as one scrollable list (a series of
angled axial stacks reads as one series, as on a scanner console); MPR reformats of a volume
implement the same protocol (:mod:`spineviewer.viewing.mpr`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol, runtime_checkable

import numpy as np

from spineviewer.dicom import Frame, Stack, StackPixels, Window
from spineviewer.dicom.display import window_from_frame
from spineviewer.dicom.study_tree import plane_name
from spineviewer.geometry import Plane
from spineviewer.geometry.orientation import orientation_code_vector


@dataclass(frozen=True)
class SliceInfo:
    """Header facts about one displayed slice (for corner text and the display pipeline)."""

    #: Patient-space plane, or None for projections / missing geometry.
    plane: Plane | None
    #: (row spacing, column spacing) in mm; None when unknown (shown as 1 mm, and said so).
    pixel_spacing: tuple[float, float] | None
    #: The DICOM frame behind the slice; None for reformatted (MPR) slices.
    frame: Frame | None
    photometric: str = "MONOCHROME2"
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    #: Window stored in the header, if any.
    header_window: Window | None = None
    #: Signed position (mm) along the source's normal, for "Pos" in the corner text.
    position_mm: float | None = None

    @cached_property
    def directions(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Patient directions (LPS) of increasing column and row, for orientation letters.

        From the plane when there is one, else from PatientOrientation (radiographs); worked
        out once per slice (the viewport asks on every paint).
        """
        if self.plane is not None:
            return self.plane.row_dir, self.plane.col_dir
        codes = self.frame.patient_orientation if self.frame is not None else None
        if codes is None:
            return None
        return orientation_code_vector(codes[0]), orientation_code_vector(codes[1])


@runtime_checkable
class SliceSource(Protocol):
    """What a viewport displays: ``len`` images, each with values and geometry."""

    #: Short name shown in the viewport and the browser ("SAG T2", "MPR sagittal").
    name: str
    modality: str
    #: FrameOfReferenceUID (cross-reference lines are drawn only within one frame).
    frame_of_reference_uid: str
    #: Identity of the series (for Page Up/Down and linked scrolling).
    series_uid: str
    #: "sagittal", "axial", "coronal", "oblique", "projection" or "unknown".
    plane_name: str

    def __len__(self) -> int: ...

    def values(self, index: int) -> np.ndarray:
        """Slice ``index`` in modality units, shape (rows, cols), read-only."""
        ...

    def info(self, index: int) -> SliceInfo:
        """Geometry and header facts of slice ``index``."""
        ...


def nearest_slice(
    source: SliceSource, point: Sequence[float] | np.ndarray
) -> tuple[int, float] | None:
    """Index of the slice whose plane passes nearest ``point`` (patient mm), and the distance.

    Only slices whose plane contains the point's projection inside the image count when any
    do (so the angled stack at the right disc wins over a neighbour's far-off extension).
    Returns None when the source has no geometry.
    """
    best: tuple[int, float] | None = None
    best_inside: tuple[int, float] | None = None
    p = np.asarray(point, dtype=np.float64)
    for index in range(len(source)):
        plane = source.info(index).plane
        if plane is None:
            continue
        d = abs(float(plane.distance(p)))
        if best is None or d < best[1]:
            best = (index, d)
        if plane.shape is not None:
            r, c = plane.to_pixel(p)
            rows, cols = plane.shape
            inside = -0.5 <= float(r) <= rows - 0.5 and -0.5 <= float(c) <= cols - 0.5
            if inside and (best_inside is None or d < best_inside[1]):
                best_inside = (index, d)
    return best_inside or best


class StackListSource:
    """One or more stacks of a series shown as one list of slices.

    Stacks are taken in the order given (a series' stacks are ordered along the mean normal by
    :meth:`from_stacks`); each slice keeps its own plane, so angled stacks stay exact.
    """

    def __init__(self, stacks: Sequence[Stack], name: str | None = None) -> None:
        if not stacks:
            raise ValueError("a slice source needs at least one stack")
        self.stacks = tuple(stacks)
        self._pixels = [StackPixels(s) for s in self.stacks]
        self._index = [(s, k) for s, stack in enumerate(self.stacks) for k in range(len(stack))]
        first = self.stacks[0]
        self.name = name or display_name(first)
        self.modality = first.modality
        self.frame_of_reference_uid = first.first.instance.frame_of_reference_uid
        self.series_uid = first.series_uid
        planes = {s.plane for s in self.stacks}
        self.plane_name = planes.pop() if len(planes) == 1 else "oblique"
        self._planes: dict[int, Plane | None] = {}
        self._infos: dict[int, SliceInfo] = {}
        self._positions = self._slice_positions()

    @classmethod
    def from_stacks(cls, stacks: Sequence[Stack], name: str | None = None) -> StackListSource:
        """Order stacks along their mean normal (inferior/right/posterior first), then wrap."""
        normals = [s.ordering.normal for s in stacks if s.ordering.normal is not None]
        if len(normals) != len(stacks) or len(stacks) < 2:
            return cls(stacks, name)
        mean = np.mean(np.asarray(normals), axis=0)
        centres = []
        for s in stacks:
            mid = s.frames[len(s) // 2].position
            centres.append(float(np.dot(mid, mean)) if mid is not None else 0.0)
        order = np.argsort(centres, kind="stable")
        return cls([stacks[i] for i in order], name)

    def __len__(self) -> int:
        return len(self._index)

    def locate(self, index: int) -> tuple[Stack, int]:
        """The stack and the index within it of slice ``index``."""
        s, k = self._index[index]
        return self.stacks[s], k

    def values(self, index: int) -> np.ndarray:
        s, k = self._index[index]
        return self._pixels[s].slice(k)

    def frame(self, index: int) -> Frame:
        """The DICOM frame of slice ``index``."""
        s, k = self._index[index]
        return self.stacks[s].frames[k]

    def plane(self, index: int) -> Plane | None:
        """Patient-space plane of slice ``index`` (cached)."""
        if index not in self._planes:
            s, k = self._index[index]
            try:
                self._planes[index] = self.stacks[s].plane_of(k)
            except ValueError:  # non-orthogonal orientation: shown without geometry
                self._planes[index] = None
        return self._planes[index]

    def info(self, index: int) -> SliceInfo:
        cached = self._infos.get(index)
        if cached is not None:
            return cached
        frame = self.frame(index)
        info = self._infos[index] = SliceInfo(
            plane=self.plane(index),
            pixel_spacing=frame.pixel_spacing,
            frame=frame,
            photometric=frame.instance.photometric,
            rescale_slope=frame.rescale_slope,
            rescale_intercept=frame.rescale_intercept,
            header_window=window_from_frame(frame),
            position_mm=self._positions[index],
        )
        return info

    def _slice_positions(self) -> list[float | None]:
        normal = self.stacks[0].ordering.normal
        positions = [self.stacks[s].frames[k].position for s, k in self._index]
        if normal is None:
            return [None] * len(positions)
        known = [i for i, pos in enumerate(positions) if pos is not None]
        out: list[float | None] = [None] * len(positions)
        if known:
            along = np.asarray([positions[i] for i in known], dtype=np.float64) @ normal
            for i, value in zip(known, along.tolist(), strict=True):
                out[i] = value
        return out


def display_name(stack: Stack) -> str:
    """The series description, or modality + plane when there is none."""
    description = stack.first.instance.series_description.strip()
    return description or f"{stack.modality} {plane_name(stack.ordering.normal, stack.modality)}"
