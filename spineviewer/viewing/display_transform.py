"""How an image is laid out on screen: quarter-turn rotations and flips, and pixel spacing.

A viewport draws the transformed array in *view* coordinates measured in millimetres, so
non-square pixels keep their true aspect ratio; this module maps between image pixels
(row, col; integer values at pixel centres) and view coordinates (x right, y down), with no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from spineviewer.geometry import Plane

_IDENTITY = ((1, 0), (0, 1))
#: Clockwise quarter turn on a screen whose y axis points down: (x, y) -> (-y, x).
_ROTATE_CW = ((0, -1), (1, 0))


def _matmul(
    a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]
) -> tuple[tuple[int, int], ...]:
    m = np.asarray(a) @ np.asarray(b)
    return tuple((int(row[0]), int(row[1])) for row in m)


@dataclass(frozen=True)
class DisplayTransform:
    """Image (rows x cols, spacing (row, col) mm) shown turned and flipped by ``matrix``.

    ``matrix`` maps image directions (+col, +row) to screen directions (+x, +y); it is a
    signed permutation matrix (rotations by 90 degrees and mirror flips).
    """

    rows: int
    cols: int
    spacing: tuple[float, float] = (1.0, 1.0)
    matrix: tuple[tuple[int, int], ...] = field(default=_IDENTITY)

    # -- changes -------------------------------------------------------------------------

    def rotated(self, clockwise: bool = True) -> DisplayTransform:
        """Turned a quarter on screen."""
        turn = _ROTATE_CW if clockwise else _matmul(_ROTATE_CW, _matmul(_ROTATE_CW, _ROTATE_CW))
        return replace(self, matrix=_matmul(turn, self.matrix))

    def flipped(self, horizontal: bool = True) -> DisplayTransform:
        """Mirrored left-right (``horizontal``) or top-bottom on screen."""
        flip = ((-1, 0), (0, 1)) if horizontal else ((1, 0), (0, -1))
        return replace(self, matrix=_matmul(flip, self.matrix))

    def reset(self) -> DisplayTransform:
        """No rotation, no flip."""
        return replace(self, matrix=_IDENTITY)

    def with_image(self, rows: int, cols: int, spacing: tuple[float, float]) -> DisplayTransform:
        """The same turn and flip for another image."""
        return replace(self, rows=rows, cols=cols, spacing=spacing)

    # -- layout --------------------------------------------------------------------------

    @property
    def transposed(self) -> bool:
        """True when image columns run vertically on screen."""
        return self.matrix[0][0] == 0

    @property
    def shown_shape(self) -> tuple[int, int]:
        """(rows, cols) of the array as shown."""
        return (self.cols, self.rows) if self.transposed else (self.rows, self.cols)

    @property
    def shown_spacing(self) -> tuple[float, float]:
        """(y, x) size in mm of one shown pixel."""
        dr, dc = self.spacing
        return (dc, dr) if self.transposed else (dr, dc)

    @property
    def view_size(self) -> tuple[float, float]:
        """(width, height) of the shown image in view units (mm)."""
        (h, w), (sy, sx) = self.shown_shape, self.shown_spacing
        return w * sx, h * sy

    def apply(self, values: np.ndarray) -> np.ndarray:
        """The array as shown on screen (a view when possible)."""
        m = self.matrix
        out = values.T if self.transposed else values
        # After a transpose out[y, x] = values[x, y]: the sign of each axis is read off m.
        sx = m[0][1] if self.transposed else m[0][0]
        sy = m[1][0] if self.transposed else m[1][1]
        if sx < 0:
            out = out[:, ::-1]
        if sy < 0:
            out = out[::-1, :]
        return out

    def image_to_view(self, row: float, col: float) -> tuple[float, float]:
        """View (x, y) in mm of image pixel (row, col)."""
        cy, cx = (self.rows - 1) / 2.0, (self.cols - 1) / 2.0
        m = self.matrix
        u = m[0][0] * (col - cx) + m[0][1] * (row - cy)
        v = m[1][0] * (col - cx) + m[1][1] * (row - cy)
        (h, w), (sy, sx) = self.shown_shape, self.shown_spacing
        return (u + (w - 1) / 2.0 + 0.5) * sx, (v + (h - 1) / 2.0 + 0.5) * sy

    def view_to_image(self, x: float, y: float) -> tuple[float, float]:
        """Image (row, col) at view position (x, y) mm."""
        (h, w), (sy, sx) = self.shown_shape, self.shown_spacing
        u = x / sx - 0.5 - (w - 1) / 2.0
        v = y / sy - 0.5 - (h - 1) / 2.0
        m = np.asarray(self.matrix)
        dc, dr = np.linalg.inv(m) @ np.array([u, v])  # signed permutation: exact inverse
        return float(dr + (self.rows - 1) / 2.0), float(dc + (self.cols - 1) / 2.0)

    def screen_directions(
        self, plane: Plane | tuple[np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Patient directions of screen right (+x) and screen down (+y).

        ``plane`` is a :class:`Plane` or its (row direction, column direction) pair: the
        patient directions of increasing column and increasing row.
        """
        row_dir, col_dir = (plane.row_dir, plane.col_dir) if isinstance(plane, Plane) else plane
        inv = np.linalg.inv(np.asarray(self.matrix, dtype=np.float64))
        right_img, down_img = inv[:, 0], inv[:, 1]  # (dcol, drow) for screen +x and +y
        right = right_img[0] * row_dir + right_img[1] * col_dir
        down = down_img[0] * row_dir + down_img[1] * col_dir
        return right, down
