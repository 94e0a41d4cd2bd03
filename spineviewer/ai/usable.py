"""The slices of a stack a pipeline step can use, and the files it had to leave out (no Qt).

Partial data is still data: one slice that cannot be decoded, or whose geometry is unusable
(no or a zero / negative / non-finite PixelSpacing, a non-finite position, an orientation
that is not two orthogonal unit vectors, or one that does not lie in the stack's plane), is
left out of the step with its file named; the rest are analysed. A stack with fewer than
:data:`MIN_USABLE` usable slices, or fewer than half of its slices usable, is too damaged to
analyse (``too_damaged`` says why and the step skips).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from spineviewer.dicom import Stack, StackPixels
from spineviewer.geometry import Plane

__all__ = ["MIN_USABLE", "DroppedSlice", "UsableSlices", "usable_slices"]

#: A stack needs at least this many usable slices (and half of its slices) to be analysed.
MIN_USABLE = 5
#: Largest angle (degrees) between a slice's normal and the stack's.
NORMAL_TOLERANCE_DEG = 2.0


@dataclass(frozen=True)
class DroppedSlice:
    """A slice left out: its position in the stack, its file and why."""

    index: int
    file: str
    reason: str


@dataclass(frozen=True)
class UsableSlices:
    """The usable slices of ``stack`` (positions, decoded values, planes) and the others."""

    stack: Stack
    indices: tuple[int, ...]
    values: tuple[np.ndarray, ...]
    planes: tuple[Plane, ...]
    dropped: tuple[DroppedSlice, ...]
    too_damaged: str | None

    def warnings(self, what: str) -> list[str]:
        """One line per file left out: ``"{what}: {file} left out: {reason}"``."""
        return [f"{what}: {d.file} left out: {d.reason}" for d in self.dropped]


def _geometry_problem(stack: Stack, index: int) -> str | None:
    frame = stack.frames[index]
    spacing = frame.pixel_spacing
    if spacing is None:
        return "no usable PixelSpacing"
    if not all(math.isfinite(v) and v > 0 for v in spacing):
        return f"PixelSpacing {spacing[0]:g}\\{spacing[1]:g} is not positive and finite"
    if frame.position is None or not all(math.isfinite(v) for v in frame.position):
        return "no usable ImagePositionPatient"
    orientation = frame.orientation
    if orientation is None or not all(math.isfinite(v) for v in orientation):
        return "no usable ImageOrientationPatient"
    row, col = np.asarray(orientation[:3]), np.asarray(orientation[3:6])
    if abs(np.linalg.norm(row) - 1) > 1e-3 or abs(np.linalg.norm(col) - 1) > 1e-3:
        return "ImageOrientationPatient vectors are not of unit length"
    if abs(float(row @ col)) > 1e-3:
        return "ImageOrientationPatient vectors are not orthogonal"
    if stack.plane_of(index) is None:
        return "no usable geometry"
    return None


def _majority_normal(stack: Stack, candidates: list[int]) -> np.ndarray | None:
    normals = [np.round(np.asarray(stack.plane_of(i).normal), 3) for i in candidates]  # type: ignore[union-attr]
    if not normals:
        return None
    keys = [tuple(n) for n in normals]
    best = max(set(keys), key=keys.count)
    return np.asarray(best, dtype=np.float64)


def usable_slices(
    stack: Stack, check: Callable[[], None] = lambda: None, decode: bool = True
) -> UsableSlices:
    """The slices of ``stack`` with usable geometry (and, when ``decode``, pixels).

    ``check`` runs between slices (it raises to cancel).
    """
    dropped: list[DroppedSlice] = []
    candidates: list[int] = []
    for index, frame in enumerate(stack.frames):
        problem = _geometry_problem(stack, index)
        if problem is None:
            candidates.append(index)
        else:
            dropped.append(DroppedSlice(index, frame.label, problem))
    normal = _majority_normal(stack, candidates)
    limit = math.cos(math.radians(NORMAL_TOLERANCE_DEG))
    indices: list[int] = []
    planes: list[Plane] = []
    values: list[np.ndarray] = []
    pixels = StackPixels(stack) if decode else None
    for index in candidates:
        check()
        plane = stack.plane_of(index)
        assert plane is not None and normal is not None
        if abs(float(np.dot(plane.normal, normal))) < limit:
            dropped.append(
                DroppedSlice(index, stack.frames[index].label, "not parallel to the other slices")
            )
            continue
        if pixels is not None:
            try:
                values.append(pixels.slice(index))
            except Exception as exc:  # an undecodable frame leaves the others usable
                reason = f"pixel data cannot be decoded ({type(exc).__name__}: {exc})"
                dropped.append(DroppedSlice(index, stack.frames[index].label, reason))
                continue
        indices.append(index)
        planes.append(plane)
    total = len(stack)
    too_damaged = None
    if len(indices) < MIN_USABLE or 2 * len(indices) < total:
        too_damaged = (
            f"{len(indices)} of {total} slices usable (at least {MIN_USABLE} and half needed)"
        )
    return UsableSlices(
        stack,
        tuple(indices),
        tuple(values),
        tuple(planes),
        tuple(sorted(dropped, key=lambda d: d.index)),
        too_damaged,
    )
