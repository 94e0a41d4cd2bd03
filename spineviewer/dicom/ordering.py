"""Order the frames of one stack along its slice normal; report imperfect geometry.

Slices are sorted by the projection of ImagePositionPatient on the slice normal, never by
InstanceNumber and never trusting SliceThickness. Imperfections become warnings and a lower
confidence, never exceptions (the 3D Slicer way).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spineviewer.dicom.header import Frame

#: Relative spread of slice gaps above which spacing is called uneven.
UNEVEN_TOLERANCE = 0.01
#: Absolute slack (mm) on the spread, for rounding in stored positions.
UNEVEN_SLACK_MM = 0.01
#: Angle (degrees) between the slice step and the normal above which a stack is "tilted".
TILT_TOLERANCE_DEG = 0.5


@dataclass(frozen=True)
class Ordering:
    """Frames in display order, with what we learnt about their spacing."""

    frames: tuple[Frame, ...]
    #: Unit normal of the images' orientation (also when some positions are missing and the
    #: frames are ordered by InstanceNumber); None when no image has an orientation.
    normal: tuple[float, float, float] | None
    #: Position of each frame along the normal, mm (None without positions).
    offsets: tuple[float, ...] | None
    slice_spacing: float | None
    warnings: tuple[str, ...]
    confidence: float


def slice_normal(orientation: Sequence[float]) -> np.ndarray:
    """Unit normal of an image from its ImageOrientationPatient."""
    row = np.asarray(orientation[:3], dtype=np.float64)
    col = np.asarray(orientation[3:6], dtype=np.float64)
    normal = np.cross(row, col)
    norm = float(np.linalg.norm(normal))
    return normal / norm if norm > 0 else normal


def _fallback_key(frame: Frame) -> tuple[int, int, str]:
    number = frame.instance.instance_number
    return (number if number is not None else 1 << 30, frame.index, str(frame.instance.ref))


def order_frames(frames: Sequence[Frame]) -> Ordering:
    """Sort frames along the slice normal, falling back to InstanceNumber with a warning."""
    if not frames:
        return Ordering((), None, None, None, (), 0.0)
    with_geometry = [f for f in frames if f.position is not None and f.orientation is not None]
    if len(with_geometry) < len(frames):
        # the images that have an orientation still tell the plane (one image without a
        # position must not turn a sagittal stack into an "unknown" one)
        oriented = next((f.orientation for f in frames if f.orientation is not None), None)
        known = slice_normal(oriented) if oriented is not None else None
        ordered = tuple(sorted(frames, key=_fallback_key))
        missing = len(frames) - len(with_geometry)
        warning = (
            f"{missing} of {len(frames)} images have no ImagePositionPatient/"
            "ImageOrientationPatient; ordered by InstanceNumber"
        )
        is_projection = len(frames) == 1 and not with_geometry
        return Ordering(
            ordered,
            (float(known[0]), float(known[1]), float(known[2])) if known is not None else None,
            None,
            None,
            () if is_projection else (warning,),
            1.0 if is_projection else 0.3,
        )
    orientation = with_geometry[0].orientation
    assert orientation is not None
    normal = slice_normal(orientation)
    offsets = np.array([np.dot(np.asarray(f.position), normal) for f in frames])
    fallback = [_fallback_key(f) for f in frames]
    order = sorted(range(len(frames)), key=lambda i: (offsets[i], fallback[i]))
    ordered = tuple(frames[i] for i in order)
    sorted_offsets = offsets[order]
    warnings: list[str] = []
    confidence = 1.0
    spacing: float | None = None
    if len(frames) > 1:
        gaps = np.diff(sorted_offsets)
        duplicates = int(np.sum(gaps < 1e-3))
        if duplicates:
            warnings.append(f"{duplicates} image(s) share a slice position with another image")
            confidence = min(confidence, 0.5)
        distinct = gaps[gaps >= 1e-3]
        if distinct.size:
            spacing = float(np.median(distinct))
            spread = float(distinct.max() - distinct.min())
            if spread > UNEVEN_TOLERANCE * spacing + UNEVEN_SLACK_MM:
                warnings.append(
                    f"uneven slice spacing: gaps from {distinct.min():.2f} to "
                    f"{distinct.max():.2f} mm (median {spacing:.2f} mm)"
                )
                confidence = min(confidence, 0.7)
        step = np.asarray(ordered[-1].position) - np.asarray(ordered[0].position)
        length = float(np.linalg.norm(step))
        if length > 1e-6:
            angle = float(np.degrees(np.arccos(min(1.0, abs(float(step @ normal)) / length))))
            if angle > TILT_TOLERANCE_DEG:
                warnings.append(
                    f"slices are offset sideways (gantry tilt or sheared stack): "
                    f"{angle:.1f} degrees between slice step and normal"
                )
                confidence = min(confidence, 0.8)
    return Ordering(
        frames=ordered,
        normal=(float(normal[0]), float(normal[1]), float(normal[2])),
        offsets=tuple(float(o) for o in sorted_offsets),
        slice_spacing=spacing,
        warnings=tuple(warnings),
        confidence=confidence,
    )
