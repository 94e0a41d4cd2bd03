"""The scan protocol of one study: sequences, timing and where every slice lies.

Planned from the anatomy as a technologist would: the sagittal slab centred on the column's
midline (a few mm of planning error), its rows running head to foot over the case's field of
view, its pixels square or not; angled axial stacks parallel to each lumbar disc shown on the
sagittal (3-5 slices, a few degrees and a millimetre of planning error); a continuous straight
axial stack from above the first shown lumbar disc to below the last. Field strength, maker,
TR / TE / TI, slice thickness and gap, matrix and field of view are drawn per study.

Fields of view (rows): ``T10-S1`` from about T10's centre to below S2; ``L1-S1`` from inside
T12; ``L2-S1`` from 1-4 mm above L2 (L1 not shown); ``T10-L5`` from about T10 to 2-8 mm above
the highest point of the S1 body (no S1 pixel in any sagittal slice).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spineviewer.evaluation.case_mix import Case
from spineviewer.evaluation.column import Body, Column, Disc, turned
from spineviewer.evaluation.naming import VENDORS, series_words
from spineviewer.evaluation.render import StackGeometry
from spineviewer.evaluation.scene import frame_bounds
from spineviewer.evaluation.tissues import Sequence, fat_null_ti

__all__ = ["Protocol", "SeriesPlan", "in_view", "plan_protocol", "top_z"]

_SAGITTAL_ROW = np.array([0.0, 1.0, 0.0])  # IOP[0:3]: columns run posterior
_SAGITTAL_COL = np.array([0.0, 0.0, -1.0])  # IOP[3:6]: rows run toward the feet


@dataclass(frozen=True)
class SeriesPlan:
    """One series: role, folder, contrast, timing, description words and its stacks."""

    role: str
    folder: str
    plane: str
    contrast: str
    sequence: Sequence
    description: str
    scanning_sequence: str
    sequence_variant: str
    sequence_name: str
    stacks: tuple[StackGeometry, ...]
    #: The disc level of each stack of an angled series (None for other series).
    stack_levels: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class Protocol:
    field_t: float
    vendor: str
    series: tuple[SeriesPlan, ...]
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def sagittal(self) -> tuple[SeriesPlan, ...]:
        return tuple(s for s in self.series if s.plane == "sagittal")


def top_z(body: Body) -> float:
    """The z of the highest point of ``body``'s box."""
    margin = (body.width / 2, body.depth / 2, body.height / 2)
    return float(frame_bounds(body.frame, [-m for m in margin], margin)[1][2])


def _fov_rows(case: Case, column: Column, rng: np.random.Generator) -> tuple[float, float]:
    """The z of the first and the last row of the sagittal images."""
    z = {b.label: float(b.centre[2]) for b in (*column.bodies, *column.sacrum)}
    if case.fov == "L1-S1":
        top = z["T12"] - float(rng.uniform(0.0, 0.35)) * column.body("T12").height
    elif case.fov == "L2-S1":
        l2 = column.body("L2")
        top = z["L2"] + l2.height / 2 + float(rng.uniform(1.0, 4.0))
    else:
        top = z["T10"] + float(rng.uniform(-2.0, 12.0))
    if case.fov == "T10-L5":
        bottom = top_z(column.body("S1")) + float(rng.uniform(2.0, 8.0))
    else:
        bottom = z["S2"] - float(rng.uniform(5.0, 25.0))
    return top, bottom


def _in_plane(case: Case, rng: np.random.Generator, height: float) -> tuple[int, float]:
    """Rows for a field ``height`` mm high, and the column / row spacing ratio (1: square)."""
    rows = 16 * math.ceil(height / float(rng.uniform(0.62, 0.95)) / 16)
    ratio = 1.0
    if case.non_square:
        wide = rng.random() < 0.5
        ratio = float(rng.uniform(1.2, 1.45)) if wide else float(rng.uniform(0.65, 0.85))
    return rows, ratio


def _sagittal(
    case: Case, column: Column, rng: np.random.Generator
) -> tuple[StackGeometry, dict[str, Any]]:
    top, bottom = _fov_rows(case, column, rng)
    rows, ratio = _in_plane(case, rng, top - bottom)
    dr = (top - bottom) / (rows - 1)
    dc = dr * ratio
    cols = int(min(max(16 * round(rows / ratio / 16), 192), 640))
    shown = [b for b in column.bodies if bottom - 10 < b.centre[2] < top + 10] or list(
        column.bodies
    )
    x_mid = float(np.mean([b.centre[0] for b in shown])) + float(rng.uniform(-3.0, 3.0))
    y_mid = float(np.mean([b.centre[1] for b in shown])) + float(rng.uniform(15.0, 35.0))
    thickness = float(rng.uniform(3.0, 4.5))
    step = thickness + float(rng.uniform(0.3, 1.0))
    count = int(min(17, 2 * round(float(rng.uniform(24.0, 34.0)) / step) + 1))
    origin = np.array([x_mid + step * (count - 1) / 2, y_mid - dc * (cols - 1) / 2, top])
    geometry = StackGeometry(
        origin, _SAGITTAL_ROW, _SAGITTAL_COL, (dr, dc), (rows, cols), count, step, thickness
    )
    return geometry, {"fov_rows_mm": [round(top, 2), round(bottom, 2)]}


def _axial(
    centre: NDArray[np.float64],
    normal: NDArray[np.float64],
    count: int,
    step: float,
    thickness: float,
    spacing: tuple[float, float],
    shape: tuple[int, int],
) -> StackGeometry:
    x = np.array([1.0, 0.0, 0.0]) - normal[0] * normal
    x /= np.linalg.norm(x)
    y = np.cross(normal, x)
    rows, cols = shape
    origin = (
        centre
        - x * spacing[1] * (cols - 1) / 2
        - y * spacing[0] * (rows - 1) / 2
        - normal * step * (count - 1) / 2
    )
    return StackGeometry(origin, x, y, spacing, shape, count, step, thickness)


def _axial_grid(
    case: Case, rng: np.random.Generator
) -> tuple[tuple[float, float], tuple[int, int]]:
    fov = float(rng.uniform(160.0, 220.0))
    matrix = int(rng.choice([256, 288, 320]))
    dr = fov / matrix
    if not case.non_square:
        return (dr, dr), (matrix, matrix)
    dc = dr * (
        float(rng.uniform(0.7, 0.85)) if rng.random() < 0.5 else float(rng.uniform(1.2, 1.4))
    )
    return (dr, dc), (matrix, int(16 * round(fov / dc / 16)))


def _angled(discs: list[Disc], case: Case, rng: np.random.Generator) -> tuple[StackGeometry, ...]:
    spacing, shape = _axial_grid(case, rng)
    thickness = float(rng.uniform(3.0, 4.0))
    step = thickness + float(rng.uniform(0.0, 0.5))
    out = []
    for disc in discs:
        axes = turned(
            turned(disc.frame.axes, 0, float(rng.normal(0, 2.0))), 1, float(rng.normal(0, 1.5))
        )
        centre = disc.centre + axes[2] * float(rng.normal(0, 0.8))
        centre = centre + disc.frame.axes[1] * float(rng.uniform(12.0, 28.0))
        count = int(rng.integers(3, 6))
        out.append(_axial(centre, axes[2], count, step, thickness, spacing, shape))
    return tuple(out)


def _continuous(
    discs: list[Disc], case: Case, column: Column, rng: np.random.Generator
) -> StackGeometry:
    spacing, shape = _axial_grid(case, rng)
    thickness = float(rng.uniform(3.5, 5.0))
    step = thickness + float(rng.uniform(0.0, 0.8))
    top = float(discs[0].centre[2]) + float(rng.uniform(4.0, 12.0))
    bottom = float(discs[-1].centre[2]) - float(rng.uniform(6.0, 14.0))
    count = min(int((top - bottom) / step) + 1, 40)
    mid_y = float(np.mean([d.centre[1] for d in discs])) + float(rng.uniform(12.0, 28.0))
    mid_x = float(np.mean([d.centre[0] for d in discs]))
    centre = np.array([mid_x, mid_y, (top + bottom) / 2])
    return _axial(centre, np.array([0.0, 0.0, 1.0]), count, step, thickness, spacing, shape)


def _sequence(contrast: str, field_t: float, rng: np.random.Generator) -> Sequence:
    if contrast == "T1":
        return Sequence("T1", float(rng.uniform(450, 700)), float(rng.uniform(8, 14)), field_t)
    if contrast == "STIR":
        ti = fat_null_ti(field_t) * float(rng.uniform(0.97, 1.03))
        return Sequence(
            "STIR", float(rng.uniform(3500, 5500)), float(rng.uniform(40, 70)), field_t, ti
        )
    return Sequence("T2", float(rng.uniform(3000, 5000)), float(rng.uniform(85, 115)), field_t)


def in_view(point: NDArray[np.float64], geometry: StackGeometry) -> bool:
    """Whether ``point`` lies within half a slice step of a slice and inside its rows and
    columns."""
    rel = point - geometry.origin
    depth = float(rel @ geometry.normal) / geometry.step
    row = float(rel @ geometry.col_dir) / geometry.spacing[0]
    col = float(rel @ geometry.row_dir) / geometry.spacing[1]
    rows, cols = geometry.shape
    return -0.5 <= depth <= geometry.count - 0.5 and 0 <= row <= rows - 1 and 0 <= col <= cols - 1


def plan_protocol(case: Case, column: Column, rng: np.random.Generator) -> Protocol:
    """Every series of the study (sagittal ones first, in the case's contrast order)."""
    field_t = 1.5 if rng.random() < 0.5 else 3.0
    vendor = list(VENDORS)[int(rng.integers(0, len(VENDORS)))]
    sagittal, parameters = _sagittal(case, column, rng)
    series: list[SeriesPlan] = []
    for number, contrast in enumerate(case.sagittal_contrasts, start=1):
        words = series_words(vendor, f"{contrast} sagittal")
        series.append(
            SeriesPlan(
                f"sagittal_{contrast.lower()}",
                f"S{number:02d}_sagittal_{contrast.lower()}",
                "sagittal",
                contrast,
                _sequence(contrast, field_t, rng),
                *words,
                (sagittal,),
            )
        )
    shown = [d for d in column.discs if d.level.startswith("L") and in_view(d.centre, sagittal)]
    if case.axial in ("angled", "both") and shown:
        stacks = _angled(shown, case, rng)
        series.append(
            SeriesPlan(
                "axial_t2_angled",
                f"S{len(series) + 1:02d}_axial_t2_angled",
                "axial",
                "T2",
                _sequence("T2", field_t, rng),
                *series_words(vendor, "T2 angled"),
                stacks,
                tuple(d.level for d in shown),
            )
        )
    if case.axial in ("continuous", "both") and shown:
        stack = _continuous(shown, case, column, rng)
        series.append(
            SeriesPlan(
                "axial_t2_stack",
                f"S{len(series) + 1:02d}_axial_t2_stack",
                "axial",
                "T2",
                _sequence("T2", field_t, rng),
                *series_words(vendor, "T2 stack"),
                (stack,),
                (None,),
            )
        )
    parameters.update(field_strength_t=field_t, manufacturer=vendor)
    return Protocol(field_t, vendor, tuple(series), parameters)
