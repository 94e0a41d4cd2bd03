"""Spinal implants on an AP radiograph: pedicle screw pairs, rods, an interbody cage.

The case says how many vertebrae carry screws (1-4) and whether there is a cage
(:mod:`~spineviewer.evaluation.xr_case_mix`); the lowest screwed vertebra is drawn (L3 to S1,
so that the run stays at T12 or below). A screw (6-7 mm thread) runs along the pedicle's axis
(:func:`~spineviewer.evaluation.xr_bones.pedicle_axis`) from a tulip head behind the arch to
the front third of the body, converging 5-15 degrees toward the midline; its length is drawn.
Each side with two or more screws gets a rod (5.5 mm) through the heads, 6 mm past the end
ones. A cage (titanium, porous) fills the middle of the disc above the lowest screwed
vertebra. Every implant is a :class:`~spineviewer.evaluation.xr_project.Solid` of its own,
named ``<class> <where>``, so its box in the image is measured from its own projection.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spineviewer.evaluation.sdf import Frame, capsule, rounded_box
from spineviewer.evaluation.xr_bones import pedicle_axis
from spineviewer.evaluation.xr_case_mix import XrCase
from spineviewer.evaluation.xr_column import LABELS, XrColumn
from spineviewer.evaluation.xr_project import Piece, Solid
from spineviewer.evaluation.xr_tissues import XrTable

__all__ = ["Implant", "draw_implants"]

_LOWEST = ("L3", "L4", "L5", "S1")


@dataclass(frozen=True)
class Implant:
    """One implant: its class (the implants model's names), where it is and its solid."""

    implant_class: str
    where: str
    solid: Solid


def _patient_capsule(a: NDArray[np.float64], b: NDArray[np.float64], r: float) -> Piece:
    pa = (float(a[0]), float(a[1]), float(a[2]))
    pb = (float(b[0]), float(b[1]), float(b[2]))
    lo = np.minimum(a, b) - r - 1
    hi = np.maximum(a, b) + r + 1
    return Piece(lambda q: capsule(q, pa, pb, r), lo, hi)


def _local_box(
    frame: Frame, centre: NDArray[np.float64], half: tuple[float, float, float], r: float
) -> Piece:
    c = centre.astype(np.float32)

    def distance(points: NDArray[np.float32]) -> NDArray[np.float32]:
        return rounded_box(frame.local(points) - c, half, r)

    pad = np.array(half) + 1.0
    corners = (
        np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]) * pad + centre
    )
    points = frame.to_patient(corners)
    return Piece(distance, points.min(axis=0), points.max(axis=0))


def draw_implants(
    case: XrCase, column: XrColumn, table: XrTable, rng: np.random.Generator
) -> tuple[list[Implant], dict[str, object]]:
    """The case's implants and what was drawn for them."""
    if case.screw_levels == 0:
        return [], {}
    chain = [*LABELS[4:], "S1"]  # T12 .. S1
    lowest = _LOWEST[int(rng.integers(0, len(_LOWEST)))]
    end = chain.index(lowest) + 1
    levels = chain[max(0, end - case.screw_levels) : end]
    implants: list[Implant] = []
    heads: dict[float, list[NDArray[np.float64]]] = {-1.0: [], 1.0: []}
    radius = float(rng.choice([3.0, 3.25, 3.5]))
    for label in levels:
        body = column.body(label)
        for side in (-1.0, 1.0):
            start, back = (np.asarray(p, dtype=np.float64) for p in pedicle_axis(body, side))
            axis = back - start
            axis /= np.linalg.norm(axis)
            converge = np.radians(float(rng.uniform(5.0, 15.0)))
            direction = -axis * np.cos(converge) - np.array([side, 0.0, 0.0]) * np.sin(converge)
            entry = back + axis * 4.0
            length = (
                float(rng.uniform(40.0, 50.0)) if label != "S1" else float(rng.uniform(35.0, 45.0))
            )
            tip = entry + direction * length
            head = entry + axis * 5.0
            f = body.frame
            shaft = _patient_capsule(f.to_patient(entry), f.to_patient(tip), radius)
            tulip = _local_box(f, head, (5.5, 5.5, 6.0), 2.5)
            name = f"pedicle_screw {label} {'left' if side > 0 else 'right'}"
            implants.append(
                Implant(
                    "pedicle_screw",
                    name[14:],
                    Solid(name, (shaft, tulip), table.excess(table.metal)),
                )
            )
            heads[side].append(f.to_patient(head + axis * 2.0))
    if case.rods:
        for side, points in heads.items():
            first, last = points[0], points[-1]
            along = (last - first) / np.linalg.norm(last - first)
            path = [first - along * 6.0, *points[1:-1], last + along * 6.0]
            pieces = tuple(_patient_capsule(a, b, 2.75) for a, b in itertools.pairwise(path))
            where = f"{levels[0]}-{levels[-1]} {'left' if side > 0 else 'right'}"
            implants.append(
                Implant("rod", where, Solid(f"rod {where}", pieces, table.excess(table.metal)))
            )
    drawn: dict[str, object] = {"screwed_levels": levels, "screw_radius_mm": radius}
    if case.cage and len(levels) >= 2:
        level = f"{levels[-2]}-{levels[-1]}"
        frame, height = next((f, h) for name, f, h in column.discs if name == level)
        half = (
            float(rng.uniform(11.0, 15.0)),
            float(rng.uniform(9.0, 12.0)),
            max(height / 2 - 0.4, 2.0),
        )
        piece = _local_box(frame, np.zeros(3), half, 2.0)
        implants.append(
            Implant(
                "interbody_cage",
                level,
                Solid(f"interbody_cage {level}", (piece,), table.excess(table.cage)),
            )
        )
        drawn["cage_half_mm"] = [round(v, 2) for v in half]
    return implants, drawn
