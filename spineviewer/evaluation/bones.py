"""Bone: vertebral bodies, posterior arches and the sacrum, each a cortex shell and marrow.

A body is an extruded footprint (a rounded rectangle with a notch at the back for the canal),
wedged front to back, waisted at mid-height, its endplates dished by ``concavity`` at the
centre. The arch is a union of capsules and plates around the canal node: pedicles, laminae,
spinous process, transverse processes, superior and inferior articular processes (a sacralised
L5 gets broad transverse processes reaching down to the sacral ala). The sacrum is S1..S5
fused, with its alae and dorsal plate. Each structure is painted twice: the whole shape as
cortical bone, then the shape shrunk by the cortex thickness as marrow (fat fraction of the
body; textured).

A fractured body (:mod:`~spineviewer.evaluation.fracture_shape`) has its endplates where the
fracture put them. Where an endplate is pressed in or stepped, the adjacent disc's material
fills the hollow (painted before the body, labelled as that disc). An acute fracture adds marrow
oedema (from the fractured endplate over part or all of the body, soft-edged) and a thin dark
fracture line a few mm under the fractured endplate, following it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spineviewer.evaluation.canal import CanalNode
from spineviewer.evaluation.column import Body, Column
from spineviewer.evaluation.fracture_shape import endplate_limits
from spineviewer.evaluation.scene import Distance, Primitive, frame_bounds, texture
from spineviewer.evaluation.sdf import (
    Array,
    capsule,
    extrude,
    rounded_box,
    rounded_rect,
    segment_box,
)
from spineviewer.evaluation.tissues import (
    BONE,
    FRACTURE_LINE,
    herniated_material,
    marrow,
    oedematous_marrow,
)

__all__ = ["bone_primitives", "footprint"]

Point = tuple[float, float, float]
#: A piece of an arch in the body's frame: ("capsule" | "plate" | "box", its arguments).
Part = tuple[str, tuple[Any, ...]]
#: Transverse process length beyond the body (mm), L1..L6.
_TP_LENGTH = {"L1": 10.0, "L2": 14.0, "L3": 18.0, "L4": 15.0, "L5": 13.0, "L6": 12.0}


def footprint(x: Array, y: Array, width: float, depth: float, notch: float) -> Array:
    """The body's outline seen from above: a rounded rectangle, notched ``notch`` mm at the
    back (positive y) where the canal lies."""
    d2 = rounded_rect(x, y, width / 2, depth / 2, 0.42 * depth)
    radius = 14.0
    hollow = np.hypot(x, y - (depth / 2 + radius - notch)) - radius
    return np.maximum(d2, -hollow)


def _half_and_dish(body: Body, x: Array, y: Array) -> tuple[Array, Array]:
    """The wedged half height and the endplates' normal dish at local ``x``, ``y``."""
    slope = math.tan(math.radians(body.wedge_deg) / 2)
    fused = 0.0 if body.region != "sacral" or body.label == "S1" else 0.5
    w, d = body.width, body.depth
    half = body.height / 2 - y * slope + fused
    dish = body.concavity * np.clip(1 - (x / (0.42 * w)) ** 2 - (y / (0.42 * d)) ** 2, 0, 1)
    return half, dish


def body_distance(body: Body, inset: float) -> Distance:
    """The body's signed distance, shrunk by ``inset`` mm."""
    notch = 1.5 if body.region == "thoracic" else 2.5
    frame, h, w, d = body.frame, body.height, body.width, body.depth
    fracture = body.fracture

    def distance(points: Array) -> Array:
        q = frame.local(points)
        x, y, z = q[..., 0], q[..., 1], q[..., 2]
        half, dish = _half_and_dish(body, x, y)
        waist = 1.2 * np.clip(1 - (z / (h / 2)) ** 2, 0, 1)
        d2 = footprint(x, y, w, d, notch) + waist
        if fracture is None:
            return extrude(d2, np.abs(z) - (half - dish), 1.5) + inset
        top, bottom = endplate_limits(fracture, x, y, half, dish, w, d)
        return extrude(d2, np.where(z >= 0, z - top, -z - bottom), 1.5) + inset

    return distance


def _adjacent_disc(column: Column, body: Body, superior: bool) -> str | None:
    """The level of the disc on the body's superior or inferior endplate."""
    for disc in column.discs:
        upper, lower = disc.level.split("-")
        if (lower if superior else upper) == body.label:
            return disc.level
    return None


def _fracture_fills(
    column: Column, body: Body, bounds: tuple[NDArray[np.float64], NDArray[np.float64]]
) -> list[Primitive]:
    """The adjacent discs' material in a fractured body's pressed-in or stepped endplates."""
    fracture = body.fracture
    if fracture is None:
        return []
    rim = body_distance(replace(body, fracture=None), 0.0)  # the endplates without hollows
    frame = body.frame
    out = []
    for superior in (True, False):
        if body.hollow(superior) <= body.concavity:
            continue
        level = _adjacent_disc(column, body, superior)
        if level is None:
            continue
        disc = next(d for d in column.discs if d.level == level)
        sign = 1.0 if superior else -1.0

        def distance(points: Array, sign: float = sign) -> Array:
            return np.maximum(rim(points), -sign * frame.local(points)[..., 2])

        tissue = herniated_material(disc.condition.degeneration)
        out.append(Primitive(f"{level} fracture annulus", tissue, distance, *bounds))
    return out


def _fracture_marrow(
    body: Body, bounds: tuple[NDArray[np.float64], NDArray[np.float64]], grain: Any
) -> list[Primitive]:
    """An acute fracture's marrow oedema and fracture line (painted over the marrow)."""
    fracture = body.fracture
    if fracture is None or not fracture.spec.acute:
        return []
    spec, frame, h = fracture.spec, body.frame, body.height
    inner = body_distance(body, body.cortex)
    sign = 1.0 if spec.step_mm <= 0 or spec.step_superior else -1.0
    reach = spec.oedema_reach * h

    def oedema(points: Array) -> Array:
        z = frame.local(points)[..., 2]
        return np.maximum(inner(points), (h / 2 - reach) - sign * z)

    def line(points: Array) -> Array:
        q = frame.local(points)
        x, y, z = q[..., 0], q[..., 1], q[..., 2]
        half, dish = _half_and_dish(body, x, y)
        limits = endplate_limits(fracture, x, y, half, dish, body.width, body.depth)
        plane = limits[0] if sign > 0 else limits[1]
        return np.maximum(
            inner(points) + 1.5, np.abs(sign * z - (plane - spec.line_depth_mm)) - 0.6
        )

    tissue = oedematous_marrow(body.fat_fraction, spec.oedema)
    return [
        Primitive(f"{body.label} marrow oedema", tissue, oedema, *bounds, grain, edge_mm=3.0),
        Primitive(f"{body.label} fracture line", FRACTURE_LINE, line, *bounds),
    ]


def _arch_parts(body: Body, node: CanalNode, sacralised: bool) -> list[Part]:
    """The arch as (kind, arguments) parts in the body's local frame."""
    w, d, h = body.width, body.depth, body.height
    a, b = node.half_ap, node.half_lr
    yc = d / 2 + 1.5 + a
    thoracic = body.region == "thoracic"
    r_ped = 3.6 if thoracic else 4.5
    parts: list[Part] = []
    for s in (-1.0, 1.0):
        parts += [
            (
                "capsule",
                (
                    (s * (b + 2.5), d / 2 - 5, 0.12 * h),
                    (s * (b + 3.5), yc + 0.2 * a, 0.08 * h),
                    r_ped,
                ),
            ),
            (  # the lamina: a plate from the pedicle round the back of the canal to the midline
                "plate",
                (
                    (s * (b + 3.5), yc + 0.25 * a, -0.12 * h),
                    (s * 0.5, yc + a + 3.5, -0.25 * h),
                    0.24 * h,
                    2.6,
                    1.5,
                    (0.0, 0.0, 1.0),
                ),
            ),
            (
                "capsule",
                (
                    (s * (b + 5.5), yc + 0.1 * a, 0.2 * h),
                    (s * (b + 6.5), yc + 0.1 * a, 0.62 * h),
                    4.0,
                ),
            ),
            (
                "capsule",
                (
                    (s * (b + 3.5), yc + 0.8 * a, -0.3 * h),
                    (s * (b + 4.5), yc + 0.7 * a, -0.78 * h),
                    3.8,
                ),
            ),
        ]
        if body.region == "sacral":
            continue
        if thoracic:
            tip: Point = (s * (w / 2 + 16), yc + 8, 0.1 * h)
            parts.append(("capsule", ((s * (b + 4), yc - 0.2 * a, 0.1 * h), tip, 3.5)))
        elif sacralised and body.label == "L5":
            tip = (s * (w / 2 + 26), yc - 0.4 * a, -0.45 * h)
            parts.append(("capsule", ((s * (b + 4), yc - 0.3 * a, 0.0), tip, 7.5)))
        else:
            tip = (s * (w / 2 + _TP_LENGTH.get(body.label, 12.0)), yc - 0.5 * a, 0.05 * h)
            parts.append(("capsule", ((s * (b + 4), yc - 0.3 * a, 0.05 * h), tip, 3.2)))
    if body.region == "sacral":
        return parts
    base: Point = (0.0, yc + a + 3.0, -0.2 * h)
    if thoracic:
        angle, length, half_thick = math.radians(50), 30.0, 3.5
    else:
        angle, length, half_thick = math.radians(12), 27.0, 6.5
    end: Point = (0.0, base[1] + length * math.cos(angle), base[2] - length * math.sin(angle))
    parts.append(("plate", (base, end, 2.8, half_thick, 2.5)))
    return parts


def _part_distance(part: Part, frame_local: Callable[[Array], Array], inset: float) -> Distance:
    kind, args = part

    def distance(points: Array) -> Array:
        q = frame_local(points)
        if kind == "capsule":
            d = capsule(q, args[0], args[1], args[2])
        elif kind == "plate":
            d = segment_box(q, *args)
        else:
            centre, half, radius = args
            d = rounded_box(q - np.asarray(centre, dtype=np.float32), half, radius)
        return d + inset

    return distance


def _part_bounds(part: Part) -> tuple[list[float], list[float]]:
    kind, args = part
    if kind == "box":
        centre, half, _ = args
        return list(np.subtract(centre, half) - 1), list(np.add(centre, half) + 1)
    pad = args[2] if kind == "capsule" else max(args[2], args[3])
    ends = np.array([args[0], args[1]], dtype=np.float64)
    return list(ends.min(axis=0) - pad - 1), list(ends.max(axis=0) + pad + 1)


def _arch(body: Body, parts: list[Part], rng: np.random.Generator) -> list[Primitive]:
    """Every part's cortex, then every part's marrow: painted in that order the parts make one
    bone with no cortex lines where they overlap, each part evaluated only in its own box."""
    grain = texture(rng, 0.10, 9.0)
    cortex, inner = [], []
    for part in parts:
        bounds = frame_bounds(body.frame, *_part_bounds(part))
        cortex.append(
            Primitive(
                f"{body.label} arch cortex",
                BONE,
                _part_distance(part, body.frame.local, 0.0),
                *bounds,
            )
        )
        inner.append(
            Primitive(
                f"{body.label} arch marrow",
                marrow(body.fat_fraction),
                _part_distance(part, body.frame.local, 1.0),
                *bounds,
                grain,
            )
        )
    return cortex + inner


def _painted(
    name: str,
    distance_at: Callable[[float], Distance],
    bounds: tuple[NDArray[np.float64], NDArray[np.float64]],
    cortex: float,
    fat: float,
    rng: np.random.Generator,
) -> list[Primitive]:
    """Cortex then marrow of one bone."""
    grain = texture(rng, 0.10, 9.0)
    lo, hi = bounds
    return [
        Primitive(f"{name} cortex", BONE, distance_at(0.0), lo, hi),
        Primitive(f"{name} marrow", marrow(fat), distance_at(cortex), lo, hi, grain),
    ]


def _sacral_mass(s1: Body) -> list[Part]:
    """The alae, in S1's frame, reaching down beside S2."""
    w, h = s1.width, s1.height
    parts: list[Part] = []
    for s in (-1.0, 1.0):
        parts.append(("box", ((s * (w / 2 + 14), 4.0, -0.2 * h), (17.0, 15.0, 0.6 * h), 6.0)))
        parts.append(("box", ((s * (w / 2 + 4), 8.0, -1.1 * h), (12.0, 12.0, 0.5 * h), 5.0)))
    return parts


def _sacral_back(segment: Body, node: CanalNode | None) -> list[Part]:
    """The fused laminae behind one sacral segment's canal (the dorsal sacral plate)."""
    a, b = (node.half_ap, node.half_lr) if node is not None else (3.0, 5.0)
    back = segment.depth / 2 + 1.5 + 2 * a + 3.5
    return [("box", ((0.0, back, 0.0), (b + 7.0, 3.5, segment.height / 2 + 0.5), 2.0))]


def bone_primitives(
    column: Column, nodes: tuple[CanalNode, ...], sacralised: bool, rng: np.random.Generator
) -> list[Primitive]:
    """Every body, arch and the sacrum (cortex, then marrow), top down."""
    by_label = {n.label: n for n in nodes}
    out: list[Primitive] = []
    for body in (*column.bodies, *column.sacrum):
        margin = (body.width / 2 + 3, body.depth / 2 + 3, body.height / 2 + 3)
        bounds = frame_bounds(body.frame, [-m for m in margin], margin)
        out += _fracture_fills(column, body, bounds)
        out += _painted(
            body.label,
            functools.partial(body_distance, body),
            bounds,
            body.cortex,
            body.fat_fraction,
            rng,
        )
        out += _fracture_marrow(body, bounds, out[-1].texture)
        node = by_label.get(body.label)
        if body.region == "sacral":
            parts = _sacral_back(body, node)
            if body.label == "S1":
                parts += _arch_parts(body, node, sacralised) if node else []
                parts += _sacral_mass(body)
            if body.label != "S5":
                out += _arch(body, parts, rng)
            continue
        if node is not None:
            out += _arch(body, _arch_parts(body, node, sacralised), rng)
    return out
