"""The Cobb angle from vertebral endplates (numpy only).

A vertebra on an AP radiograph is given by the four corners of its body (a ``keypoints``
model's points ``upper_left, upper_right, lower_left, lower_right``, the AASCE 2019 landmark
order). Its upper endplate runs from the upper-left to the upper-right corner, the lower one
between the lower corners. Angles are in degrees, counter-clockwise as displayed (an endplate
rising to the image's right is positive), with image ``y`` pointing down.

The Cobb angle is the largest angle between the upper endplate of one vertebra and the lower
endplate of a vertebra below it (docs/SPINE_PIPELINE.md); the two are the end vertebrae of the
curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["CORNERS", "CobbAngle", "cobb_angle", "endplate_tilts", "line_angle_deg"]

#: The keypoint names of one vertebral body, in the model's output order.
CORNERS: tuple[str, ...] = ("upper_left", "upper_right", "lower_left", "lower_right")


def line_angle_deg(start: ArrayLike, end: ArrayLike) -> float:
    """The angle of the line ``start -> end`` (x, y image coordinates, y down), counter-clockwise
    as displayed, folded into [-90, 90) so a line's direction does not matter."""
    (x0, y0), (x1, y1) = np.asarray(start, dtype=float)[:2], np.asarray(end, dtype=float)[:2]
    angle = float(np.degrees(np.arctan2(-(y1 - y0), x1 - x0)))
    return (angle + 90.0) % 180.0 - 90.0


def endplate_tilts(corners: ArrayLike) -> tuple[float, float]:
    """(upper, lower) endplate angles of one body from its corners ``(4, 2+)`` in CORNERS order."""
    points = np.asarray(corners, dtype=float)
    if points.shape[0] != 4 or points.ndim != 2 or points.shape[1] < 2:
        raise ValueError(f"expected 4 corners (x, y[, score]), not an array of {points.shape}")
    return line_angle_deg(points[0], points[1]), line_angle_deg(points[2], points[3])


@dataclass(frozen=True)
class CobbAngle:
    """The Cobb angle in degrees between the ``upper`` vertebra's upper endplate and the
    ``lower`` vertebra's lower endplate (their labels, or indices as text)."""

    angle_deg: float
    upper: str
    lower: str
    upper_tilt_deg: float
    lower_tilt_deg: float


def cobb_angle(labels: Sequence[str], tilts: Sequence[tuple[float, float]]) -> CobbAngle | None:
    """The Cobb angle of vertebrae ordered from top to bottom, each with its (upper, lower)
    endplate angles; None for fewer than two vertebrae."""
    if len(labels) != len(tilts):
        raise ValueError(f"{len(labels)} labels but {len(tilts)} tilts")
    if len(labels) < 2:
        return None
    upper = np.array([t[0] for t in tilts], dtype=float)
    lower = np.array([t[1] for t in tilts], dtype=float)
    diff = np.abs(upper[:, None] - lower[None, :])
    diff[np.tril_indices(len(labels))] = -1.0  # the lower end vertebra lies below the upper
    i, j = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return CobbAngle(
        float(diff[i, j]), labels[int(i)], labels[int(j)], float(upper[i]), float(lower[j])
    )
