"""From tissue labels to pixel values: stacks of planes, blur, bias field, noise, boxes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spineviewer.geometry import Plane
from spineviewer.phantom.solids import FloatArray


def stack_planes(
    centre: ArrayLike,
    row_dir: ArrayLike,
    col_dir: ArrayLike,
    spacing: tuple[float, float],
    shape: tuple[int, int],
    count: int,
    step_mm: float,
) -> list[Plane]:
    """``count`` parallel planes centred on ``centre``, ``step_mm`` apart along the normal.

    Each plane's centre pixel ``((rows-1)/2, (cols-1)/2)`` lies on the line through ``centre``
    along the normal.
    """
    x = np.asarray(row_dir, dtype=np.float64)
    y = np.asarray(col_dir, dtype=np.float64)
    x, y = x / np.linalg.norm(x), y / np.linalg.norm(y)
    normal = np.cross(x, y)
    rows, cols = shape
    dr, dc = spacing
    corner = -(cols - 1) / 2 * dc * x - (rows - 1) / 2 * dr * y
    planes = []
    for k in range(count):
        middle = np.asarray(centre, dtype=np.float64) + (k - (count - 1) / 2) * step_mm * normal
        planes.append(Plane(middle + corner, x, y, spacing, shape))
    return planes


def axial_directions(normal: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Row and column directions of an axial-like plane with the given (superior) normal.

    Columns grow towards the patient's left, rows towards posterior (radiological display).
    """
    n = np.asarray(normal, dtype=np.float64)
    n = n / np.linalg.norm(n)
    x = np.array([1.0, 0.0, 0.0]) - n[0] * n
    x /= np.linalg.norm(x)
    return x, np.cross(n, x)


def smooth(image: NDArray[np.float64]) -> NDArray[np.float64]:
    """A [1, 2, 1] x [1, 2, 1] / 16 blur (partial volume at edges), borders replicated."""
    padded = np.pad(image, 1, mode="edge")
    rows = padded[:-2] + 2 * padded[1:-1] + padded[2:]
    return (rows[:, :-2] + 2 * rows[:, 1:-1] + rows[:, 2:]) / 16.0


@dataclass(frozen=True)
class BiasField:
    """A smooth multiplicative field: ``1 + sum_k a_k sin(w_k . p + phase_k)``."""

    waves: FloatArray
    phases: FloatArray
    amplitudes: FloatArray

    @classmethod
    def random(cls, rng: np.random.Generator, strength: float) -> BiasField:
        """Three plane waves of 250-600 mm wavelength; peak deviation about ``strength``."""
        directions = rng.normal(size=(3, 3))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        waves = directions * (2 * np.pi / rng.uniform(250.0, 600.0, size=(3, 1)))
        return cls(waves, rng.uniform(0, 2 * np.pi, 3), np.full(3, strength / 3.0))

    def __call__(self, points: FloatArray) -> FloatArray:
        """Field value at patient points ``(..., 3)``."""
        return 1.0 + np.sin(points @ self.waves.T + self.phases) @ self.amplitudes

    def on_plane(self, plane: Plane) -> FloatArray:
        """Field value at every pixel of a plane with a shape.

        ``sin(a + b*col + c*row)`` splits into products of a column and a row term.
        """
        assert plane.shape is not None
        rows = np.arange(plane.shape[0], dtype=np.float64)[:, None]
        cols = np.arange(plane.shape[1], dtype=np.float64)[None, :]
        corners = plane.to_patient([0.0, 0.0, 1.0], [0.0, 1.0, 0.0])
        start = self.waves @ corners[0] + self.phases
        per_col = self.waves @ (corners[1] - corners[0])
        per_row = self.waves @ (corners[2] - corners[0])
        out = np.ones(plane.shape)
        for k in range(len(self.phases)):
            along_cols = start[k] + per_col[k] * cols
            along_rows = per_row[k] * rows
            out += self.amplitudes[k] * (
                np.sin(along_cols) * np.cos(along_rows) + np.cos(along_cols) * np.sin(along_rows)
            )
        return out


def rician(signal: NDArray[np.float64], sigma: float, rng: np.random.Generator) -> FloatArray:
    """Magnitude of the signal plus complex Gaussian noise (Rician statistics)."""
    real = signal + sigma * rng.standard_normal(signal.shape, dtype=np.float32)
    imag = sigma * rng.standard_normal(signal.shape, dtype=np.float32)
    return np.hypot(real, imag)


def to_uint16(values: NDArray[np.float64], maximum: int = 65535) -> NDArray[np.uint16]:
    """Round and clip to ``0..maximum``."""
    return np.clip(np.rint(values), 0, maximum).astype(np.uint16)


def box_of(mask: NDArray[np.bool_], minimum: int = 1) -> tuple[list[int], bool] | None:
    """Inclusive ``[x_min, y_min, x_max, y_max]`` of a mask and whether it touches the border.

    ``None`` when fewer than ``minimum`` pixels are set.
    """
    if int(mask.sum()) < minimum:
        return None
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    box = [int(cols[0]), int(rows[0]), int(cols[-1]), int(rows[-1])]
    truncated = box[0] == 0 or box[1] == 0 or box[2] == mask.shape[1] - 1
    return box, truncated or box[3] == mask.shape[0] - 1


def nearest_plane(planes: Sequence[Plane], point: ArrayLike) -> int:
    """Index of the plane closest to ``point``."""
    return int(np.argmin([abs(float(p.distance(point))) for p in planes]))
