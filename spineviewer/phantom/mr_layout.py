"""Where the slices of a lumbar MR study lie: sagittal stack, angled axial stacks, straight stack.

:func:`standard_layout` draws what every study has always drawn, in the same order from the
same generator (so the default studies keep their slices); :func:`wide_layout` places the
slices on the grids of a :class:`~spineviewer.phantom.wide.WideStudy`. Both share the
angled and straight stack rules: one angled stack per lumbar disc whose centre is in the
sagittal field of view, parallel to the disc; one straight stack from 4 mm above the first
such disc's upper body to the centre of the last one's lower body.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spineviewer.geometry import Plane
from spineviewer.phantom.anatomy import SpineAnatomy, graded_levels
from spineviewer.phantom.imaging import axial_directions, stack_planes
from spineviewer.phantom.mr_options import MrOptions
from spineviewer.phantom.sagittal import (
    fov_edges,
    in_view,
    lumbar_centres,
    mr_labels,
    sagittal_planes,
)
from spineviewer.phantom.solids import FloatArray
from spineviewer.phantom.wide import Grid, WideStudy, bottom_edge

#: Sub-stream of a study's seed for the margins of a cut field of view.
FOV_STREAM = 3


@dataclass(frozen=True)
class Stack:
    """The planes of one series, their spacing and thickness; ``grid`` in the wide profile."""

    planes: list[Plane]
    step: float
    thickness: float
    grid: Grid | None = None


@dataclass(frozen=True)
class MrLayout:
    """The three stacks of a study and, per angled slice, the index of its disc's stack."""

    sagittal: Stack
    angled: Stack
    stack_of: list[int]
    levels: list[str]
    straight: Stack

    def shown(self, point: FloatArray) -> bool:
        """True when ``point`` lies inside the sagittal field of view."""
        return in_view(self.sagittal.planes, self.sagittal.step, point)


@dataclass(frozen=True)
class _Axial:
    spacing: tuple[float, float]
    shape: tuple[int, int]
    step: float
    thickness: float
    lateral_mm: float = 0.0
    grid: Grid | None = None

    @classmethod
    def of(cls, grid: Grid, lateral_mm: float) -> _Axial:
        return cls(grid.spacing, grid.shape, grid.step, grid.thickness, lateral_mm, grid)


def _angled(
    anatomy: SpineAnatomy,
    rng: np.random.Generator,
    labels: tuple[str, ...],
    sagittal: Stack,
    axial: _Axial,
) -> tuple[Stack, list[int], list[str]]:
    """Angled stacks, one per lumbar disc in the sagittal field of view, parallel to it.

    Every disc draws its stack so that the others do not change when one is left out.
    """
    planes: list[Plane] = []
    stack_of: list[int] = []
    levels: list[str] = []
    for level in graded_levels(labels):
        frame = anatomy.disc(level).frame
        offset = frame.axes[0] * rng.uniform(-5, 5) + frame.axes[1] * rng.uniform(12, 22)
        if axial.lateral_mm:
            offset = offset + frame.axes[0] * axial.lateral_mm
        x, y = axial_directions(frame.superior)
        count = int(rng.integers(3, 6))
        middle = frame.origin + offset + frame.superior * rng.uniform(-0.8, 0.8)
        if not in_view(sagittal.planes, sagittal.step, frame.origin):
            continue
        stack = stack_planes(middle, x, y, axial.spacing, axial.shape, count, axial.step)
        planes += stack[::-1]  # superior to inferior
        stack_of += [len(levels)] * count
        levels.append(level)
    return Stack(planes, axial.step, axial.thickness, axial.grid), stack_of, levels


def _straight(anatomy: SpineAnatomy, levels: list[str], axial: _Axial) -> Stack:
    """One straight axial stack over the levels of the angled stacks (L1 to S1 by default)."""
    lumbar = lumbar_centres(anatomy)
    upper = anatomy.vertebra(levels[0].split("-")[0])
    lower = anatomy.vertebra(levels[-1].split("-")[1])
    top = float(upper.endplate(True)[2]) + 4.0
    bottom = float(lower.centre[2])
    count = int(np.ceil((top - bottom) / axial.step)) + 1
    middle = np.array([*lumbar[:, :2].mean(axis=0), (top + bottom) / 2]) + np.array([0, 18, 0])
    if axial.lateral_mm:
        middle = middle + np.array([axial.lateral_mm, 0.0, 0.0])
    planes = stack_planes(
        middle, (1, 0, 0), (0, 1, 0), axial.spacing, axial.shape, count, axial.step
    )[::-1]
    return Stack(planes, axial.step, axial.thickness, axial.grid)


def standard_layout(
    anatomy: SpineAnatomy, rng: np.random.Generator, options: MrOptions, seed: int
) -> MrLayout:
    """Today's slices: sagittal (:func:`sagittal_planes`), then the axial draws from ``rng``."""
    fov_rng = np.random.default_rng([seed, 1, FOV_STREAM])
    planes, step = sagittal_planes(anatomy, rng, options.sagittal_fov, fov_rng)
    sagittal = Stack(planes, step, step - 0.4)
    ax_pixel = float(rng.uniform(0.6, 0.9))
    ax_matrix = int(rng.choice([256, 288, 320]))
    ax_step = float(rng.uniform(3.0, 4.0))
    pixel, matrix = (ax_pixel, ax_pixel), (ax_matrix, ax_matrix)
    angled_axial = _Axial(pixel, matrix, ax_step, ax_step - 0.5)
    angled, stack_of, levels = _angled(anatomy, rng, mr_labels(options), sagittal, angled_axial)
    st_step = float(rng.uniform(3.8, 4.5))
    straight = _straight(anatomy, levels, _Axial(pixel, matrix, st_step, st_step - 0.3))
    return MrLayout(sagittal, angled, stack_of, levels, straight)


def _wide_sagittal(anatomy: SpineAnatomy, wide: WideStudy, fov_rng: np.random.Generator) -> Stack:
    """The sagittal stack on the drawn grid; a cut field of view refits the rows to it (its
    bottom from :func:`~spineviewer.phantom.wide.bottom_edge`: S1 may be cut)."""
    grid = wide.sagittal
    fov = wide.options.sagittal_fov
    jitter = np.array([wide.sagittal_lateral_mm, wide.sagittal_ap_mm, wide.sagittal_si_mm])
    centre = lumbar_centres(anatomy).mean(axis=0) + jitter
    if fov != "full":
        top, _ = fov_edges(anatomy, fov, fov_rng)
        bottom = bottom_edge(anatomy, fov, fov_rng)
        assert bottom is not None
        grid = grid.with_height(top - bottom)
        shown = [v.centre for v in anatomy.vertebrae if bottom <= v.centre[2] <= top]
        depth = float(np.mean(shown, axis=0)[1]) + jitter[1]
        centre = np.array([centre[0], depth, (top + bottom) / 2.0])
    planes = stack_planes(
        centre, (0, 1, 0), (0, 0, -1), grid.spacing, grid.shape, grid.count, grid.step
    )
    return Stack(planes, grid.step, grid.thickness, grid)


def wide_layout(
    anatomy: SpineAnatomy, rng: np.random.Generator, wide: WideStudy, seed: int
) -> MrLayout:
    """The slices of a wide study (its grids, offsets and field of view)."""
    fov_rng = np.random.default_rng([seed, 1, FOV_STREAM])
    sagittal = _wide_sagittal(anatomy, wide, fov_rng)
    lateral = wide.axial_lateral_mm
    labels = mr_labels(wide.options)
    angled_axial = _Axial.of(wide.axial_angled, lateral)
    angled, stack_of, levels = _angled(anatomy, rng, labels, sagittal, angled_axial)
    straight = _straight(anatomy, levels, _Axial.of(wide.axial_stack, lateral))
    return MrLayout(sagittal, angled, stack_of, levels, straight)
