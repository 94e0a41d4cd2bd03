"""The slices of a stack a pipeline step can use, and the files it had to leave out (no Qt).

Partial data is still data: a slice that cannot be decoded, or whose geometry is unusable, is
left out of the step with its file and the reason; the rest are analysed. Unusable geometry:
no PixelSpacing, or one that is not finite and above 0 or differs from the stack's; no finite
ImagePositionPatient, or one off the stack's line (:func:`off_line`: a slice moved sideways
in its plane, by a forged or broken header); an ImageOrientationPatient that is not two
perpendicular unit vectors, or whose plane is tilted from the plane most of the stack's slices
share. The header's own
reasons (:attr:`~spineviewer.dicom.Frame.problems`, e.g. "PixelSpacing 0\\0 is not
positive") are used where it gives one.

A stack that lost slices is too damaged to analyse when fewer than :data:`MIN_USABLE` of its
slices, or fewer than half of them, are left (``too_damaged`` says so, and the step skips). A
stack that lost nothing is never called damaged, however few slices it has: whether that is
enough is the pipeline's question, not this module's.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from spineviewer.dicom import DicomLoadError, Frame, Stack, StackPixels
from spineviewer.dicom.errors import one_line
from spineviewer.geometry import Plane

__all__ = [
    "MIN_USABLE",
    "NORMAL_TOLERANCE_DEG",
    "OFF_LINE_MM",
    "UNIT_TOLERANCE",
    "DroppedSlice",
    "UsableSlices",
    "decode_reason",
    "off_line",
    "usable_slices",
]

#: A stack that lost slices needs at least this many usable ones (and half of its slices).
MIN_USABLE = 5
#: How far from 1 the length of an orientation's row or column cosines may be, and how far
#: from 0 their dot product (DICOM stores them to 6 digits or so; 1e-3 leaves room for
#: fewer, not for a wrong direction).
UNIT_TOLERANCE = 1e-3
#: Largest angle (degrees) between a slice's normal and the one most of its stack share (a
#: stack's orientations agree to 1e-3 when grouped; this catches a plane built otherwise).
NORMAL_TOLERANCE_DEG = 1.0
#: Relative difference above which a slice's PixelSpacing is not the stack's (the pipelines
#: crop every slice with the stack's spacing).
SPACING_TOLERANCE = 1e-3
#: How far (mm) a slice's origin may lie off the stack's line (:func:`off_line`), at least;
#: a pixel's width when that is more. Scanners write positions to 0.01 mm or better.
OFF_LINE_MM = 1.0


@dataclass(frozen=True)
class DroppedSlice:
    """A slice left out: its position in the stack, its file and why."""

    index: int
    #: The file's path (or archive member), with the frame number in a multi-frame file.
    file: str
    reason: str


@dataclass(frozen=True, eq=False)
class UsableSlices:
    """The usable slices of ``stack`` (positions, decoded values, planes) and the others.

    ``indices``, ``values`` (empty when not decoded) and ``planes`` are in stack order and
    parallel; ``dropped`` too. Compared by identity (it holds arrays).
    """

    stack: Stack
    indices: tuple[int, ...]
    values: tuple[np.ndarray, ...]
    planes: tuple[Plane, ...]
    dropped: tuple[DroppedSlice, ...]
    #: Why the stack is too damaged to analyse (``"3 of 15 slices usable (...)"``), else None.
    too_damaged: str | None

    def warnings(self, what: str) -> list[str]:
        """One line per file left out: ``"{what}: {file} left out: {reason}"``."""
        return [f"{what}: {d.file} left out: {d.reason}" for d in self.dropped]


def usable_slices(
    stack: Stack, check: Callable[[], None] = lambda: None, decode: bool = True
) -> UsableSlices:
    """The slices of ``stack`` with usable geometry and, when ``decode``, usable pixels.

    ``check`` runs between slices (it raises to cancel). With ``decode`` False only the
    geometry (and the header's word on Pixel Data) is checked and ``values`` is empty: for
    stacks whose pixels a step reads later, a few slices at a time.
    """
    dropped: list[DroppedSlice] = []
    sound: list[tuple[int, Plane]] = []
    for index, frame in enumerate(stack.frames):
        plane = stack.plane_of(index)
        problem = _geometry_problem(frame, plane, stack.pixel_spacing)
        if problem is not None or plane is None:
            dropped.append(DroppedSlice(index, frame.label, problem or "no usable geometry"))
        else:
            sound.append((index, plane))
    normal = _majority_normal([plane for _, plane in sound])
    sideways = off_line([plane for _, plane in sound], normal)
    pixels = StackPixels(stack) if decode else None
    indices: list[int] = []
    planes: list[Plane] = []
    values: list[np.ndarray] = []
    for (index, plane), away in zip(sound, sideways, strict=True):
        check()
        label = stack.frames[index].label
        tilt = _angle_deg(plane.normal, normal)
        if tilt > NORMAL_TOLERANCE_DEG:
            reason = f"its plane is tilted {tilt:.1f} degrees from the stack's"
            dropped.append(DroppedSlice(index, label, reason))
            continue
        if away is not None:
            reason = (
                f"its ImagePositionPatient lies {away:.1f} mm off the line of the stack's "
                "other slices"
            )
            dropped.append(DroppedSlice(index, label, reason))
            continue
        if pixels is not None:
            try:
                slice_values = pixels.slice(index)
            except (DicomLoadError, OSError) as exc:
                dropped.append(DroppedSlice(index, label, decode_reason(exc, label)))
                continue
            values.append(slice_values)
        indices.append(index)
        planes.append(plane)
    dropped.sort(key=lambda d: d.index)
    return UsableSlices(
        stack,
        tuple(indices),
        tuple(values),
        tuple(planes),
        tuple(dropped),
        _too_damaged(len(indices), len(stack)) if dropped else None,
    )


def _geometry_problem(
    frame: Frame, plane: Plane | None, spacing: tuple[float, float] | None
) -> str | None:
    """Why ``frame``'s geometry (or its lack of pixels) rules it out, or None."""
    if frame.problems:
        return "; ".join(frame.problems)
    absent = [
        keyword
        for keyword, value in (
            ("PixelSpacing", frame.pixel_spacing),
            ("ImagePositionPatient", frame.position),
            ("ImageOrientationPatient", frame.orientation),
        )
        if value is None
    ]
    if absent:
        return f"no {', no '.join(absent)}"
    assert frame.pixel_spacing is not None and frame.orientation is not None
    assert frame.position is not None
    if not all(math.isfinite(v) and v > 0 for v in frame.pixel_spacing):
        return f"PixelSpacing {_shown(frame.pixel_spacing)} is not finite and above 0"
    if not all(math.isfinite(v) for v in (*frame.position, *frame.orientation)):
        return "ImagePositionPatient or ImageOrientationPatient is not finite"
    problem = _orientation_problem(frame.orientation)
    if problem is not None:
        return f"ImageOrientationPatient {_shown(frame.orientation)}: {problem}"
    if spacing is not None and not _same_spacing(frame.pixel_spacing, spacing):
        return (
            f"PixelSpacing {_shown(frame.pixel_spacing)} differs from the stack's {_shown(spacing)}"
        )
    if plane is None:
        return "no usable geometry"
    return None


def _same_spacing(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(abs(x - y) <= SPACING_TOLERANCE * y for x, y in zip(a, b, strict=True))


def _orientation_problem(orientation: tuple[float, ...]) -> str | None:
    """Why six cosines are not two perpendicular unit vectors, or None."""
    row = np.asarray(orientation[:3], dtype=np.float64)
    col = np.asarray(orientation[3:6], dtype=np.float64)
    lengths = (float(np.linalg.norm(row)), float(np.linalg.norm(col)))
    if any(abs(length - 1.0) > UNIT_TOLERANCE for length in lengths):
        return f"row and column lengths {lengths[0]:.4f} and {lengths[1]:.4f}, not 1"
    dot = float(row @ col)
    if abs(dot) > UNIT_TOLERANCE:
        return f"row and column are not perpendicular (cosine {dot:.4f})"
    return None


def _majority_normal(planes: list[Plane]) -> np.ndarray:
    """The normal most planes share (to 3 decimals, either sign); +z without planes."""
    if not planes:
        return np.array([0.0, 0.0, 1.0])
    keys = [tuple(np.round(_signed(p.normal), 3) + 0.0) for p in planes]
    best = Counter(keys).most_common(1)[0][0]
    return np.asarray(best, dtype=np.float64)


def off_line(planes: list[Plane], normal: np.ndarray) -> list[float | None]:
    """For each plane, how far (mm) its origin lies off the stack's line, or None when on it.

    The line: the in-plane part of the origins (what is left after taking out the offset
    along ``normal``) as a linear function of that offset (constant for a straight stack,
    moving steadily for a gantry-tilted one), fitted robustly (the median slope of pairs half
    the stack apart, the median intercept), so one or a few slices moved sideways do not move
    it. A slice is off when further than :data:`OFF_LINE_MM` or a pixel's width from it.
    Fewer than 3 planes: none is off (there is no majority to compare with).
    """
    if len(planes) < 3:
        return [None] * len(planes)
    origins = np.array([p.origin for p in planes], dtype=np.float64)
    along = origins @ normal
    side = origins - along[:, None] * normal[None, :]
    order = np.argsort(along, kind="stable")
    half = len(planes) // 2
    first, second = order[: len(planes) - half], order[half:]
    span = along[second] - along[first]
    usable = span > 1e-3
    slope = (
        np.median((side[second][usable] - side[first][usable]) / span[usable][:, None], axis=0)
        if np.any(usable)
        else np.zeros(3)
    )
    intercept = np.median(side - along[:, None] * slope[None, :], axis=0)
    distance = np.linalg.norm(side - intercept[None, :] - along[:, None] * slope[None, :], axis=1)
    return [
        float(d) if d > max(OFF_LINE_MM, *p.spacing) else None
        for d, p in zip(distance, planes, strict=True)
    ]


def _signed(normal: np.ndarray) -> np.ndarray:
    """``normal`` or its opposite, whichever has its largest component positive (a flipped
    slice lies in the same plane)."""
    axis = int(np.argmax(np.abs(normal)))
    return normal if normal[axis] >= 0 else -normal


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle (degrees) between two lines with directions ``a`` and ``b``."""
    cos = abs(float(a @ b)) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12)
    return math.degrees(math.acos(min(1.0, cos)))


def decode_reason(exc: Exception, label: str) -> str:
    """The loader's message without the file name it starts with (the warning names it)."""
    text = " ".join(str(exc).split()).removeprefix(f"{label}: ")
    text = one_line(ValueError(text)) if text else type(exc).__name__
    if not text.startswith("cannot decode"):
        text = f"pixel data cannot be read: {text}"
    return text


def _too_damaged(usable: int, total: int) -> str | None:
    if usable >= MIN_USABLE and 2 * usable >= total:
        return None
    return f"{usable} of {total} slices usable (at least {MIN_USABLE} and half of them are needed)"


def _shown(values: tuple[float, ...]) -> str:
    return "\\".join(f"{v:g}" for v in values)
