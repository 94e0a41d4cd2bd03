"""The soft tissues around the spine: trunk, abdominal wall, viscera, kidneys, vessels, muscles.

The trunk is an upright elliptic cylinder of subcutaneous fat whose back lies a drawn fat
thickness behind the spinous processes; inside it a muscular wall, retroperitoneal fat, the
peritoneal cavity in front of the spine (strongly textured: bowel), the kidneys beside L1-L2 in
their fat, the aorta (to L4) and the inferior vena cava in front of the bodies (flow voids), the
psoas muscles beside the lumbar bodies (growing downward), the paraspinal muscles behind the
arches, and fat with a nerve root in each neural foramen.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

from spineviewer.evaluation.canal import CanalNode
from spineviewer.evaluation.column import Column
from spineviewer.evaluation.scene import Distance, Primitive, Texture, texture, tube, tube_bounds
from spineviewer.evaluation.sdf import Array, ellipse, ellipsoid
from spineviewer.evaluation.tissues import CORD, FAT, FLOW_VOID, KIDNEY, MUSCLE, VISCERA, Tissue

__all__ = ["trunk_primitives"]

_FAR = 1.0e4


def _cylinder(cx: float, cy: float, half_x: float, half_y: float) -> Distance:
    def distance(points: Array) -> Array:
        return ellipse(points[..., 0] - cx, points[..., 1] - cy, half_x, half_y)

    return distance


def _front_part(shape: Distance, limit_y: float) -> Distance:
    """``shape`` in front of the plane ``y = limit_y`` only (the back has no abdominal wall:
    the paraspinal muscles lie under the skin there)."""

    def distance(points: Array) -> Array:
        return np.maximum(shape(points), points[..., 1] - limit_y)

    return distance


def _everywhere() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return np.full(3, -_FAR), np.full(3, _FAR)


def _blob(
    name: str,
    tissue: Tissue,
    centre: NDArray[np.float64],
    radii: tuple[float, float, float],
    axes: NDArray[np.float64],
) -> Primitive:
    c32, basis = centre.astype(np.float32), axes.T.astype(np.float32)

    def distance(points: Array) -> Array:
        return ellipsoid((points - c32) @ basis, radii)

    reach = max(radii) + 1.0
    return Primitive(name, tissue, distance, centre - reach, centre + reach)


def _chain(
    name: str,
    tissue: Tissue,
    points: list[NDArray[np.float64]],
    halves: list[tuple[float, float]],
    x_dirs: list[NDArray[np.float64]],
    grain: Texture | None = None,
) -> list[Primitive]:
    out = []
    for (a, b), (ha, hb), x in zip(
        itertools.pairwise(points), itertools.pairwise(halves), x_dirs, strict=False
    ):
        lo, hi = tube_bounds(a, b, max(*ha, *hb) + 2.0)
        shape = tube(a, b, (ha[0], hb[0]), (ha[1], hb[1]), x, overlap=2.0)
        out.append(Primitive(name, tissue, shape, lo, hi, grain))
    return out


def trunk_primitives(
    column: Column, nodes: tuple[CanalNode, ...], rng: np.random.Generator
) -> tuple[list[Primitive], dict[str, float]]:
    """The soft tissues in painting order, and the drawn sizes for the truth's parameters."""
    lumbar = [b for b in column.bodies if b.region == "lumbar"]
    by_label = {n.label: n for n in nodes}
    centres = np.array([b.centre for b in lumbar])
    x_spine = float(centres[:, 0].mean())
    front = float(min(b.centre[1] - b.depth / 2 for b in lumbar))
    back_bone = float(max(by_label[b.label].centre[1] + by_label[b.label].half_ap for b in lumbar))
    fat = float(rng.uniform(8.0, 40.0))
    back = back_bone + 32.0 + fat
    belly = front - float(rng.uniform(70.0, 140.0)) - fat
    half_lr = float(rng.uniform(125.0, 165.0)) + fat
    cx, cy = x_spine + float(rng.uniform(-5, 5)), (back + belly) / 2
    half_ap = (back - belly) / 2
    everywhere = _everywhere()
    out = [
        Primitive(
            "subcutaneous fat", FAT, _cylinder(cx, cy, half_lr, half_ap), *everywhere, upright=True
        ),
        Primitive(
            "abdominal wall",
            MUSCLE,
            _front_part(_cylinder(cx, cy, half_lr - fat, half_ap - fat), front),
            *everywhere,
            upright=True,
        ),
        Primitive(
            "retroperitoneal fat",
            FAT,
            _cylinder(cx, cy, half_lr - fat - 9, half_ap - fat - 9),
            *everywhere,
            upright=True,
        ),
    ]
    cavity_back, cavity_front = front - 18.0, belly + fat + 10.0
    viscera_lr, viscera_ap = 0.8 * (half_lr - fat - 9), (cavity_back - cavity_front) / 2
    viscera_y = (cavity_back + cavity_front) / 2
    out.append(
        Primitive(
            "viscera",
            VISCERA,
            _cylinder(cx, viscera_y, viscera_lr, viscera_ap),
            np.array([cx - viscera_lr - 1, viscera_y - viscera_ap - 1, -_FAR]),
            np.array([cx + viscera_lr + 1, viscera_y + viscera_ap + 1, _FAR]),
            texture(rng, 0.3, 24.0, count=7),
        )
    )
    out += _organs(column, rng)
    out += _muscles(column, nodes, rng)
    out += _foramina(column, nodes)
    sizes = {
        "subcutaneous_fat_mm": round(fat, 2),
        "trunk_half_width_mm": round(half_lr, 2),
        "skin_back_y_mm": round(back, 2),
    }
    return out, sizes


def _organs(column: Column, rng: np.random.Generator) -> list[Primitive]:
    out: list[Primitive] = []
    l1, l2 = column.body("L1"), column.body("L2")
    mid = (l1.centre + l2.centre) / 2
    for side in (-1.0, 1.0):
        centre = mid + np.array([side * float(rng.uniform(62, 80)), 8.0, float(rng.normal(0, 10))])
        out.append(_blob("perirenal fat", FAT, centre, (34.0, 30.0, 62.0), np.eye(3)))
        out.append(_blob("kidney", KIDNEY, centre, (26.0, 22.0, 52.0), np.eye(3)))
    bodies = [b for b in column.bodies if b.region != "sacral"]
    aorta_end = [b.label for b in bodies].index("L4") + 1
    for name, side, half, stop in (
        ("aorta", 14.0, (10.0, 10.0), aorta_end),
        ("vena cava", -19.0, (11.0, 8.0), len(bodies)),
    ):
        points = [
            b.frame.to_patient(np.array([side, -b.depth / 2 - 11.0, 0.0])) for b in bodies[:stop]
        ]
        out += _chain(
            name, FLOW_VOID, points, [half] * len(points), [b.frame.axes[0] for b in bodies[:stop]]
        )
    return out


def _muscles(
    column: Column, nodes: tuple[CanalNode, ...], rng: np.random.Generator
) -> list[Primitive]:
    out: list[Primitive] = []
    grain = texture(rng, 0.06, 14.0)
    psoas_bodies = [b for b in column.bodies if b.region == "lumbar" or b.label in ("T12", "S1")]
    radii = np.linspace(4.0, 22.0, len(psoas_bodies))
    for side in (-1.0, 1.0):
        points = [
            b.frame.to_patient(np.array([side * (b.width / 2 + 0.8 * r), -0.15 * b.depth, 0]))
            for b, r in zip(psoas_bodies, radii, strict=True)
        ]
        out += _chain(
            "psoas",
            MUSCLE,
            points,
            [(r, 0.85 * r) for r in radii],
            [b.frame.axes[0] for b in psoas_bodies],
            grain,
        )
        back_points, halves = [], []
        for node in nodes:
            thoracic = node.label.startswith("T")
            size = (
                (15.0, 16.0)
                if thoracic
                else ((10.0, 7.0) if node.label.startswith("S") else (22.0, 20.0))
            )
            offset = np.array(
                [
                    side * (node.half_lr + 4.0 + 0.7 * size[0]),
                    node.half_ap + 10.0 + 0.6 * size[1],
                    0.0,
                ]
            )
            back_points.append(node.centre + offset @ node.axes)
            halves.append(size)
        out += _chain("paraspinal", MUSCLE, back_points, halves, [n.axes[0] for n in nodes], grain)
    return out


def _foramina(column: Column, nodes: tuple[CanalNode, ...]) -> list[Primitive]:
    out: list[Primitive] = []
    by_label = {n.label: n for n in nodes}
    for disc in column.discs:
        upper, lower = disc.level.split("-")
        a, b = by_label[upper], by_label[lower]
        half_lr, half_ap = (a.half_lr + b.half_lr) / 2, (a.half_ap + b.half_ap) / 2
        for side in (-1.0, 1.0):
            local = np.array([side * (half_lr + 7.0), disc.depth / 2 + 1.5 + 0.6 * half_ap, 0.0])
            centre = disc.frame.to_patient(local)
            out.append(_blob("foraminal fat", FAT, centre, (5.0, 6.0, 7.5), disc.frame.axes))
            root = disc.frame.to_patient(local + np.array([0.0, -0.5, 2.5]))
            out.append(_blob("nerve root", CORD, root, (2.4, 2.4, 3.0), disc.frame.axes))
    return out
