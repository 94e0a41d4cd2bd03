"""A scene: the structures of one study as signed-distance primitives in painting order.

Each :class:`Primitive` is a tissue, a signed distance over patient points, the box in patient
space outside which it is surely absent (the renderer evaluates it only there), an optional
texture (slow multiplicative variation: marrow, muscle, bowel) and an edge width. Later
primitives cover earlier ones in proportion to their coverage, so a structure is drawn by
painting it after what it displaces (the disc is painted before the bodies, which cover it
except in their endplate hollows; a herniation is painted again after the canal, into which it
bulges).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spineviewer.evaluation.sdf import Array, Frame, ellipse, extrude
from spineviewer.evaluation.tissues import Tissue

__all__ = ["Distance", "Primitive", "Texture", "frame_bounds", "texture", "tube", "tube_bounds"]

Distance = Callable[[Array], Array]


@dataclass(frozen=True)
class Texture:
    """``1 + amplitude * mean(cos(k . p + phase))``: smooth, deterministic, any extent."""

    amplitude: float
    waves: NDArray[np.float32]  # (k, 3), radians per mm
    phases: NDArray[np.float32]  # (k,)

    def __call__(self, points: Array) -> Array:
        angles = points @ self.waves.T + self.phases
        return 1.0 + self.amplitude * np.cos(angles).mean(axis=-1)


def texture(
    rng: np.random.Generator, amplitude: float, wavelength_mm: float, count: int = 3
) -> Texture:
    """A texture of ``count`` plane waves about ``wavelength_mm`` long in random directions."""
    directions = rng.normal(size=(count, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    lengths = wavelength_mm * rng.uniform(0.7, 1.4, size=(count, 1))
    waves = (2 * math.pi / lengths * directions).astype(np.float32)
    phases = rng.uniform(0, 2 * math.pi, size=count).astype(np.float32)
    return Texture(amplitude, waves, phases)


@dataclass(frozen=True)
class Primitive:
    """One painted structure (see the module docstring)."""

    name: str
    tissue: Tissue
    distance: Distance
    lo: NDArray[np.float64]
    hi: NDArray[np.float64]
    texture: Texture | None = None
    #: The edge is at least this wide (mm): soft boundaries such as a degenerated nucleus.
    edge_mm: float = 0.0
    #: The same at every height (an upright cylinder): the renderer evaluates it once along a
    #: grid axis that runs head-foot and repeats it.
    upright: bool = False


def frame_bounds(
    frame: Frame, lo: Sequence[float], hi: Sequence[float]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The patient-space box holding the local box ``lo``..``hi`` of ``frame``."""
    corners = np.array(
        [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
    )
    points = frame.to_patient(corners)
    return points.min(axis=0), points.max(axis=0)


def tube(
    start: NDArray[np.float64],
    end: NDArray[np.float64],
    half_x: float | tuple[float, float],
    half_y: float | tuple[float, float],
    x_dir: NDArray[np.float64],
    overlap: float = 1.0,
) -> Distance:
    """An elliptic tube from ``start`` to ``end`` (patient mm), its ``half_x`` axis along
    ``x_dir`` made perpendicular to the tube. A half width given as (at start, at end) tapers
    linearly, so a chain of tubes whose nodes carry sizes has no steps; the tube runs
    ``overlap`` mm past both ends so that it has no seams either."""
    axis = end - start
    length = float(np.linalg.norm(axis))
    axis = axis / length
    x = x_dir - float(x_dir @ axis) * axis
    x /= np.linalg.norm(x)
    y = np.cross(axis, x)
    frame = Frame((start + end) / 2, np.stack([x, y, axis]))
    x0, x1 = (half_x, half_x) if isinstance(half_x, float | int) else half_x
    y0, y1 = (half_y, half_y) if isinstance(half_y, float | int) else half_y

    def distance(points: Array) -> Array:
        q = frame.local(points)
        along = np.clip(q[..., 2] / length + 0.5, 0.0, 1.0)
        d2 = ellipse(q[..., 0], q[..., 1], x0 + (x1 - x0) * along, y0 + (y1 - y0) * along)
        return extrude(d2, np.abs(q[..., 2]) - (length / 2 + overlap))

    return distance


def tube_bounds(
    start: NDArray[np.float64], end: NDArray[np.float64], radius: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A box surely holding a tube between two points no thicker than ``radius``."""
    lo = np.minimum(start, end) - radius - 1.0
    hi = np.maximum(start, end) + radius + 1.0
    return lo, hi
