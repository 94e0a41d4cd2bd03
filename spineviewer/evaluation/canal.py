"""The spinal canal, thecal sac, cord and cauda equina as chains of elliptic tubes.

Each body has a canal section behind it (:class:`CanalNode`: centre, front-back and left-right
half widths); consecutive nodes are joined by tubes. The canal is painted as epidural fat, the
sac inside it as CSF down to S2, the cord from the top of the field to the conus (between T12
and L2, drawn per study) and two bundles of cauda equina roots from the conus to S1.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spineviewer.evaluation.column import Body, Column
from spineviewer.evaluation.scene import Primitive, tube, tube_bounds
from spineviewer.evaluation.sdf import Array, capsule
from spineviewer.evaluation.tissues import CORD, CSF, FAT, Tissue

__all__ = ["CanalNode", "canal_nodes", "canal_primitives"]

#: Half widths (front-back, left-right) of the canal, mm.
_CANAL_HALF = {"thoracic": (7.5, 8.5), "lumbar": (8.0, 11.0)}
_SACRAL_HALF = {"S1": (6.5, 10.5), "S2": (5.0, 8.5), "S3": (4.0, 6.5)}


@dataclass(frozen=True)
class CanalNode:
    """The canal behind one body: ``centre`` (patient mm), half widths, the body's axes."""

    label: str
    centre: NDArray[np.float64]
    half_ap: float
    half_lr: float
    axes: NDArray[np.float64]


def canal_nodes(column: Column, rng: np.random.Generator) -> tuple[CanalNode, ...]:
    """A node behind every body from the top down to S3 (sizes jittered per study)."""
    scale = float(rng.uniform(0.88, 1.1))
    nodes = []
    bodies: list[Body] = [*column.bodies, *column.sacrum[:2]]
    for body in bodies:
        ap, lr = _SACRAL_HALF.get(body.label) or _CANAL_HALF[body.region]
        ap, lr = ap * scale * float(rng.uniform(0.95, 1.05)), lr * scale
        centre = body.frame.to_patient(np.array([0.0, body.depth / 2 + 1.5 + ap, 0.0]))
        nodes.append(CanalNode(body.label, centre, ap, lr, body.frame.axes))
    return tuple(nodes)


def _chain(
    name: str,
    nodes: tuple[CanalNode, ...],
    tissue_inset: tuple[float, float],
    shift_ap: float,
    tissue: Tissue,
) -> list[Primitive]:
    out = []
    inset_ap, inset_lr = tissue_inset
    for a, b in itertools.pairwise(nodes):
        half_ap = (a.half_ap - inset_ap, b.half_ap - inset_ap)
        half_lr = (a.half_lr - inset_lr, b.half_lr - inset_lr)
        start = a.centre + a.axes[1] * shift_ap
        end = b.centre + b.axes[1] * shift_ap
        lo, hi = tube_bounds(start, end, max(*half_ap, *half_lr) + 1.5)
        distance = tube(start, end, half_lr, half_ap, a.axes[0])
        out.append(Primitive(f"{name} {a.label}-{b.label}", tissue, distance, lo, hi))
    return out


def canal_primitives(nodes: tuple[CanalNode, ...], rng: np.random.Generator) -> list[Primitive]:
    """Epidural fat, the sac (CSF), cord and cauda equina, in painting order."""
    labels = [n.label for n in nodes]
    sac = nodes[: labels.index("S2") + 1]
    conus_at = ("T12", "L1", "L1", "L1", "L2")[int(rng.integers(0, 5))]
    cord = nodes[: labels.index(conus_at) + 1]
    cauda = nodes[labels.index(conus_at) : labels.index("S1") + 1]
    out = _chain("epidural fat", nodes, (0.0, 0.0), 0.0, FAT)
    out += _chain("thecal sac", sac, (1.8, 1.5), -0.6, CSF)
    for a, b in itertools.pairwise(cord):
        start, end = a.centre - a.axes[1] * 0.8, b.centre - b.axes[1] * 0.8
        lo, hi = tube_bounds(start, end, 6.0)
        out.append(
            Primitive(
                f"cord {a.label}-{b.label}", CORD, tube(start, end, 4.6, 3.8, a.axes[0]), lo, hi
            )
        )
    tip = cord[-1]
    below = cauda[1] if len(cauda) > 1 else tip
    end = tip.centre + (below.centre - tip.centre) * 0.45
    out.append(_capsule("conus", tip.centre - tip.axes[1] * 0.8, end, 2.6, CORD))
    for side in (-1.0, 1.0):
        for a, b in itertools.pairwise(cauda):
            start = a.centre + a.axes[0] * side * 3.2 + a.axes[1] * 2.0
            stop = b.centre + b.axes[0] * side * 3.2 + b.axes[1] * 2.0
            out.append(_capsule(f"cauda {a.label}-{b.label}", start, stop, 1.7, CORD))
    return out


def _capsule(
    name: str, start: NDArray[np.float64], end: NDArray[np.float64], radius: float, tissue: Tissue
) -> Primitive:
    a32, b32 = tuple(start.tolist()), tuple(end.tolist())

    def distance(points: Array) -> Array:
        return capsule(points, a32, b32, radius)

    lo, hi = tube_bounds(start, end, radius)
    return Primitive(name, tissue, distance, lo, hi)
