"""Cross-reference lines and slice synchronisation between viewports, without Qt.

Given the plane shown in one viewport and another viewport's source, list the lines where the
other source's slices cut the shown plane (docs/SPINE_PIPELINE.md step 6), and find which slice of
a source a patient point or a shown plane corresponds to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spineviewer.geometry import PixelSegment, Plane
from spineviewer.viewing.source import SliceSource, nearest_slice


@dataclass(frozen=True)
class CrossRefLine:
    """A slice of another source drawn on this image: its index and its segment in pixels."""

    index: int
    segment: PixelSegment
    current: bool


def same_frame(a: SliceSource, b: SliceSource) -> bool:
    """True when both sources share a (non-empty) frame of reference."""
    return bool(a.frame_of_reference_uid) and a.frame_of_reference_uid == b.frame_of_reference_uid


def crossref_lines(
    target: Plane, source: SliceSource, current: int, include_all: bool = False
) -> list[CrossRefLine]:
    """Lines where slices of ``source`` cut the image plane ``target``.

    Only the current slice unless ``include_all``; parallel slices and slices whose line misses
    the image are left out.
    """
    indices: Sequence[int] = range(len(source)) if include_all else (current,)
    lines: list[CrossRefLine] = []
    for index in indices:
        plane = source.info(index).plane
        if plane is None or target.is_parallel(plane):
            continue
        segment = target.intersect(plane)
        if segment is not None:
            lines.append(CrossRefLine(index, segment, index == current))
    return lines


def plane_centre(plane: Plane) -> np.ndarray:
    """Patient position of the image centre (needs the plane's shape)."""
    rows, cols = plane.shape if plane.shape is not None else (1, 1)
    return plane.to_patient((rows - 1) / 2.0, (cols - 1) / 2.0)


def linked_slice(
    shown: Plane, other: SliceSource, max_distance_mm: float | None = None
) -> int | None:
    """The slice of ``other`` to show when it scrolls with a viewport showing ``shown``.

    Only for parallel planes (linked scrolling of parallel series); returns None when the
    planes are not parallel, ``other`` has no geometry, or the nearest slice is further than
    ``max_distance_mm``.
    """
    probe = other.info(0).plane if len(other) else None
    if probe is None or not shown.is_parallel(probe):
        return None
    found = nearest_slice(other, plane_centre(shown).tolist())
    if found is None or (max_distance_mm is not None and found[1] > max_distance_mm):
        return None
    return found[0]
