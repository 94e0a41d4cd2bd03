"""The bones of an AP radiograph as solids: vertebrae with their arches, ribs, sacrum, pelvis.

Each vertebra is one solid: its body (:func:`~spineviewer.evaluation.bones.body_distance`, the
MR studies' body shape) joined with the pieces of its arch in the body's frame: two pedicles
(capsules front to back, the rings an AP film shows in the upper half of each body), two
laminae, the spinous process (sloping down and back), superior and inferior articular
processes and transverse processes (T8-T12: short, angled back, with a rib). Ribs on T8-T12 are
solids of their own: a chain of capsules from the costovertebral joint round the flank, long on
T8-T10, shorter on T11 and T12 (floating ribs). The sacrum is S1-S5 with the alae; each
hemipelvis an iliac wing (a flattened ellipsoid turned to face forward and out, its crest at
about L4-L5), the iliac body down to the acetabulum, the ischium, the pubic rami to the
symphysis, the femoral head, neck and the top of the shaft with the greater trochanter. Bones
are a cortex shell over cancellous bone (:class:`~spineviewer.evaluation.xr_project.Solid`),
each with its attenuation in excess of the soft tissue it displaces (the soft tissues are
projected whole, :mod:`~spineviewer.evaluation.xr_soft`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

from spineviewer.evaluation.bones import body_distance
from spineviewer.evaluation.column import Body
from spineviewer.evaluation.scene import frame_bounds
from spineviewer.evaluation.sdf import Array, Frame, capsule, ellipsoid, rounded_box, segment_box
from spineviewer.evaluation.xr_column import XrColumn
from spineviewer.evaluation.xr_project import Piece, Solid
from spineviewer.evaluation.xr_tissues import XrTable

__all__ = ["bone_solids", "canal_half", "pedicle_axis"]

Point = tuple[float, float, float]
Local = Callable[[Array], Array]
#: Transverse process reach beyond the body's side (mm), L1..L5.
_TP_LENGTH = {"L1": 10.0, "L2": 14.0, "L3": 18.0, "L4": 15.0, "L5": 13.0}


def canal_half(body: Body) -> tuple[float, float]:
    """The canal's half depth (front-back) and half width behind ``body`` (mm)."""
    return (7.5, 8.5) if body.region == "thoracic" else (8.0, 11.0)


def pedicle_axis(body: Body, side: float) -> tuple[Point, Point]:
    """A pedicle's axis in the body's frame, from the body's back to the arch (``side`` -1: the
    patient's right, +1 left)."""
    a, b = canal_half(body)
    d, h = body.depth, body.height
    return (side * (b + 2.5), d / 2 - 5.0, 0.15 * h), (
        side * (b + 3.5),
        d / 2 + 1.5 + 1.2 * a,
        0.1 * h,
    )


def _local_piece(frame: Frame, shape: Local, lo: Point, hi: Point) -> Piece:
    def distance(points: Array) -> Array:
        return shape(frame.local(points))

    return Piece(distance, *frame_bounds(frame, lo, hi))


def _capsule(frame: Frame, a: Point, b: Point, r: float) -> Piece:
    ends = np.array([a, b])
    lo, hi = ends.min(axis=0) - r - 1, ends.max(axis=0) + r + 1
    return _local_piece(frame, lambda q: capsule(q, a, b, r), tuple(lo), tuple(hi))


def _plate(frame: Frame, a: Point, b: Point, half_w: float, half_t: float, axis: Point) -> Piece:
    ends = np.array([a, b])
    pad = max(half_w, half_t) + 1
    return _local_piece(
        frame,
        lambda q: segment_box(q, a, b, half_w, half_t, 1.0, axis),
        tuple(ends.min(axis=0) - pad),
        tuple(ends.max(axis=0) + pad),
    )


def _box(frame: Frame, centre: Point, half: Point, r: float) -> Piece:
    c = np.asarray(centre, dtype=np.float32)
    lo, hi = np.subtract(centre, half) - 1, np.add(centre, half) + 1
    return _local_piece(frame, lambda q: rounded_box(q - c, half, r), tuple(lo), tuple(hi))


def _ellipsoid(frame: Frame, centre: Point, radii: Point) -> Piece:
    c = np.asarray(centre, dtype=np.float32)
    lo, hi = np.subtract(centre, radii) - 1, np.add(centre, radii) + 1
    return _local_piece(frame, lambda q: ellipsoid(q - c, radii), tuple(lo), tuple(hi))


def _body_piece(body: Body) -> Piece:
    margin = (body.width / 2 + 3, body.depth / 2 + 3, body.height / 2 + 3)
    lo, hi = frame_bounds(body.frame, [-m for m in margin], margin)
    return Piece(body_distance(body, 0.0), lo, hi)


def _arch(body: Body) -> list[Piece]:
    f, w, h = body.frame, body.width, body.height
    a, b = canal_half(body)
    yc = body.depth / 2 + 1.5 + a
    thoracic = body.region == "thoracic"
    pieces = []
    for s in (-1.0, 1.0):
        start, end = pedicle_axis(body, s)
        pieces.append(_capsule(f, start, end, 3.4 if thoracic else 4.3))
        pieces.append(
            _plate(
                f,
                (s * (b + 3.5), yc + 0.3 * a, -0.1 * h),
                (s * 0.5, yc + a + 3.5, -0.25 * h),
                0.24 * h,
                2.5,
                (0.0, 0.0, 1.0),
            )
        )
        pieces.append(_capsule(f, (s * (b + 5), yc, 0.2 * h), (s * (b + 6), yc, 0.62 * h), 3.8))
        pieces.append(
            _capsule(
                f,
                (s * (b + 3.5), yc + 0.8 * a, -0.3 * h),
                (s * (b + 4.5), yc + 0.7 * a, -0.78 * h),
                3.5,
            )
        )
        if thoracic:
            tip: Point = (s * (w / 2 + 16), yc + 8, 0.1 * h)
            pieces.append(_capsule(f, (s * (b + 4), yc - 0.2 * a, 0.1 * h), tip, 3.5))
        else:
            tip = (s * (w / 2 + _TP_LENGTH.get(body.label, 12.0)), yc - 0.5 * a, 0.05 * h)
            pieces.append(_capsule(f, (s * (b + 4), yc - 0.3 * a, 0.05 * h), tip, 3.2))
    angle, length, thick = (
        (math.radians(50), 30.0, 3.0) if thoracic else (math.radians(12), 27.0, 3.2)
    )
    base: Point = (0.0, yc + a + 3.0, -0.2 * h)
    spine_end: Point = (0.0, base[1] + length * math.cos(angle), base[2] - length * math.sin(angle))
    pieces.append(_plate(f, base, spine_end, 0.18 * h + 3, thick + 1.3, (0.0, 0.0, 1.0)))
    return pieces


def _rib(body: Body, side: float) -> list[Piece]:
    """A rib's chain of capsules in the body's frame (shorter on T11, T12)."""
    w, d, h = body.width, body.depth, body.height
    reach = {"T11": 3, "T12": 2}.get(body.label, 5)
    path = [
        (side * (w / 2 + 1), d / 2 - 1, 0.1 * h),
        (side * (w / 2 + 16), d / 2 + 14, 0.0),
        (side * (w / 2 + 45), d / 2 + 16, -12.0),
        (side * (w / 2 + 75), d / 2 - 8, -32.0),
        (side * (w / 2 + 92), -15.0, -55.0),
        (side * (w / 2 + 88), -55.0, -78.0),
    ][: reach + 1]
    radius = 4.0 if reach > 2 else 3.4
    return [_capsule(body.frame, p, q, radius) for p, q in itertools.pairwise(path)]


def _sacrum(column: XrColumn) -> list[Piece]:
    s1 = column.sacrum[0]
    f, w, h = s1.frame, s1.width, s1.height
    pieces = [_body_piece(b) for b in column.sacrum]
    for s in (-1.0, 1.0):
        pieces.append(_box(f, (s * (w / 2 + 14), 4.0, -0.2 * h), (17.0, 15.0, 0.6 * h), 6.0))
        pieces.append(_box(f, (s * (w / 2 + 5), 8.0, -1.1 * h), (12.0, 12.0, 0.6 * h), 5.0))
        start, end = pedicle_axis(s1, s)
        pieces.append(_capsule(f, start, end, 4.3))
    for seg in column.sacrum[:4]:
        back = seg.depth / 2 + 1.5 + 2 * 6.0 + 3.5
        pieces.append(_box(seg.frame, (0.0, back, 0.0), (15.0, 3.5, seg.height / 2 + 0.5), 2.0))
    return pieces


def _hemipelvis(pelvis: Frame, side: float, size: float) -> list[Piece]:
    """One side of the pelvis in the pelvis frame (origin at S1's upper endplate centre)."""

    def p(x: float, y: float, z: float) -> Point:
        return (side * x * size, y * size, z * size)

    turn = math.radians(38.0)
    wing_axes = np.array(
        [
            [math.cos(turn), -side * math.sin(turn), 0.0],
            [side * math.sin(turn), math.cos(turn), 0.0],
            [0, 0, 1.0],
        ]
    )
    wing = Frame(pelvis.to_patient(np.array(p(98, 8, -12))), wing_axes @ pelvis.axes)
    pieces = [_ellipsoid(wing, (0.0, 0.0, 0.0), (78 * size, 9.0, 58 * size))]
    pieces += [
        _capsule(pelvis, p(62, 16, -40), p(92, -12, -95), 13 * size),  # iliac body
        _ellipsoid(pelvis, p(96, -18, -108), (26 * size, 24 * size, 24 * size)),  # acetabulum
        _capsule(pelvis, p(96, -8, -115), p(82, 2, -160), 13 * size),  # ischium
        _capsule(pelvis, p(80, -30, -110), p(16, -68, -118), 8.5 * size),  # superior ramus
        _capsule(pelvis, p(16, -68, -132), p(74, -6, -160), 7.5 * size),  # inferior ramus
        _box(pelvis, p(9, -70, -126), (7.0 * size, 9.0, 17.0 * size), 4.0),  # symphysis
        _ellipsoid(pelvis, p(100, -20, -112), (23 * size, 23 * size, 23 * size)),  # femoral head
        _capsule(pelvis, p(104, -18, -116), p(138, -12, -150), 14 * size),  # neck
        _ellipsoid(pelvis, p(146, -8, -150), (17 * size, 17 * size, 22 * size)),  # trochanter
        _capsule(pelvis, p(138, -10, -150), p(150, -4, -300), 14 * size),  # shaft
    ]
    return pieces


def bone_solids(column: XrColumn, pelvis: Frame, table: XrTable, size: float) -> list[Solid]:
    """Every bone as a solid: vertebrae, ribs, sacrum, both hemipelves."""
    solids = []
    cortical = table.excess(table.cortical)
    for body in column.bodies:
        pieces = [_body_piece(body), *_arch(body)]
        marrow = table.excess(table.cancellous(body.fat_fraction))
        solids.append(Solid(body.label, tuple(pieces), cortical, marrow, body.cortex))
        if body.region == "thoracic":
            for s in (-1.0, 1.0):
                solids.append(
                    Solid(f"{body.label} rib", tuple(_rib(body, s)), cortical, marrow, 1.2)
                )
    s1 = column.sacrum[0]
    marrow = table.excess(table.cancellous(min(0.9, s1.fat_fraction + 0.1)))
    solids.append(Solid("sacrum", tuple(_sacrum(column)), cortical, marrow, 1.0))
    for s in (-1.0, 1.0):
        solids.append(Solid("pelvis", tuple(_hemipelvis(pelvis, s, size)), cortical, marrow, 1.6))
    return solids
