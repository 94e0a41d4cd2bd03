"""Patient-space geometry: pixel<->patient transforms, plane intersections, level assignment.

Pure numpy; no Qt, no DICOM parsing.
"""

from spineviewer.geometry.levels import (
    DEFAULT_THRESHOLD_MM,
    LevelAssignment,
    assign_slices_to_levels,
    default_threshold,
)
from spineviewer.geometry.orientation import direction_letters, edge_letters
from spineviewer.geometry.plane import PixelSegment, Plane, clip_line_to_rect

__all__ = [
    "DEFAULT_THRESHOLD_MM",
    "LevelAssignment",
    "PixelSegment",
    "Plane",
    "assign_slices_to_levels",
    "clip_line_to_rect",
    "default_threshold",
    "direction_letters",
    "edge_letters",
]
