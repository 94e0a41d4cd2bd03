"""Turn a :class:`SpineAnatomy` into an ordered list of painted parts (later parts win).

Painting order: trunk fat, viscera, muscles, posterior elements, canal (epidural fat, thecal
sac, cord / cauda), discs (annulus, nucleus, herniation), vertebral bodies. So bodies cut discs
at the endplates, and a bulging or herniated disc pushes into the canal.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from spineviewer.phantom.anatomy import Disc, SpineAnatomy, Vertebra
from spineviewer.phantom.fractures import DISH_RADIUS
from spineviewer.phantom.solids import CollapsedBody, FloatArray, Frame, HalfSpace, Superellipsoid
from spineviewer.phantom.tissues import Tissue

#: Long structures (trunk) use this half length along their axis.
_LONG = 2000.0
#: Shape exponents of a vertebral body: rounded cross-section, flat endplates.
_BODY_N, _BODY_M = 3.0, 8.0
#: Where the canal is empty (segments below S2) and where the cord ends (conus at L1-L2).
_CANAL_LABELS = ("T9", "T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5", "L6", "S1", "S2")
_CORD_LABELS = ("T9", "T10", "T11", "T12", "L1")


@dataclass(frozen=True)
class Part:
    """One shape painted with one tissue, owned by a named structure."""

    structure: str
    tissue: Tissue
    frame: Frame
    shape: Superellipsoid
    clips: tuple[HalfSpace, ...] = ()
    #: Shapes (same frame) the part stays inside, e.g. a hollow cut only into its disc.
    within: tuple[Superellipsoid, ...] = ()
    sphere_centre: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sphere_centre", self.frame.to_world(self.shape.centre))

    def contains(self, points: FloatArray) -> np.ndarray:
        """True for patient points inside the part."""
        local = self.frame.to_local(points)
        mask = self.shape.contains(local)
        for shape in self.within:
            mask &= shape.contains(local)
        for clip in self.clips:
            mask &= clip.contains(points)
        return mask


def body_shape(v: Vertebra) -> Superellipsoid:
    """The outer surface of a vertebral body in its own frame (collapsed if fractured)."""
    if v.fracture is None:
        return Superellipsoid((v.width / 2, v.depth / 2, v.height / 2), _BODY_N, _BODY_M)
    return CollapsedBody(
        (v.width / 2, v.depth / 2, v.height / 2),
        _BODY_N,
        _BODY_M,
        kind=v.fracture.kind,
        loss=v.fracture.height_loss,
        dish=DISH_RADIUS,
    )


def _bone(structure: str, frame: Frame, shape: Superellipsoid, cortex: float) -> list[Part]:
    return [
        Part(structure, Tissue.CORTEX, frame, shape),
        Part(structure, Tissue.MARROW, frame, shape.shrunk(cortex)),
    ]


def _trunk(a: SpineAnatomy) -> list[Part]:
    ax, ay = a.trunk_half
    f = a.fat_mm
    return [
        Part("trunk", Tissue.FAT, a.trunk, Superellipsoid((ax, ay, _LONG), 2.0, 8.0)),
        Part(
            "trunk",
            Tissue.VISCERA,
            a.trunk,
            Superellipsoid((ax - f, 0.72 * ay - f, _LONG), 2.0, 8.0, (0.0, -0.28 * ay, 0.0)),
        ),
    ]


def _muscles(a: SpineAnatomy) -> list[Part]:
    parts = []
    for v, below in zip(a.vertebrae, a.vertebrae[1:] + a.sacral[:1], strict=True):
        half_len = v.height / 2 + float(np.linalg.norm(v.centre - below.centre)) / 2
        y = a.canal_offset(v.depth) + 24.0
        for side in (-1.0, 1.0):
            erector = Superellipsoid((17.0, 21.0, half_len), 2.0, 6.0, (side * 24.0, y, 0.0))
            parts.append(Part("muscle", Tissue.MUSCLE, v.frame, erector))
            if v.label.startswith("L"):
                r = 8.0 + 2.5 * min(int(v.label[1]), 5)  # L6 like L5
                x = side * (v.width / 2 + r - 2.0)
                psoas = Superellipsoid((r, r * 0.9, half_len), 2.0, 6.0, (x, 0.1 * v.depth, 0.0))
                parts.append(Part("muscle", Tissue.MUSCLE, v.frame, psoas))
    return parts


def _posterior(a: SpineAnatomy, v: Vertebra) -> list[Part]:
    """Pedicles, laminae, spinous and transverse processes, facets of one vertebra."""
    ca, cb = a.canal_half
    yc = a.canal_offset(v.depth)
    h = v.posterior_height
    sacral = v.label.startswith("S")
    pr = 4.0 + 0.02 * v.width
    front, back = v.depth / 2 - 2.0, yc + 0.4 * cb
    name = f"{v.label}/posterior"
    shapes = []
    for side in (-1.0, 1.0):
        x_ped = side * (ca + pr)
        shapes.append(
            Superellipsoid(
                (pr, (back - front) / 2, 0.3 * h), 2.0, 2.0, (x_ped, (back + front) / 2, 0.12 * h)
            )
        )
        for z, dx in ((0.42 * h, 1.0), (-0.42 * h, -1.0)):
            shapes.append(
                Superellipsoid((5.0, 6.0, 0.28 * h), 2.0, 2.0, (x_ped + side * dx, yc + cb, z))
            )
        if not sacral:
            tl = 10.0 + (8.0 if v.label in ("L2", "L3", "L4") else 3.0)
            x_tp = side * (ca + 2 * pr + tl / 2 - 2.0)
            shapes.append(Superellipsoid((tl / 2, 4.0, 5.0), 3.0, 3.0, (x_tp, yc - 1.0, 0.12 * h)))
    lt = 6.0
    shapes.append(
        Superellipsoid(
            (ca + 2 * pr, lt / 2 + 1, 0.35 * h), 4.0, 4.0, (0.0, yc + cb + lt / 2 - 1, -0.05 * h)
        )
    )
    sl = 12.0 if sacral else 28.0
    shapes.append(
        Superellipsoid(
            (3.5, sl / 2, 0.22 * h), 3.0, 3.0, (0.0, yc + cb + lt + sl / 2 - 2, -0.2 * h)
        )
    )
    parts = [p for s in shapes for p in _bone(name, v.frame, s, 1.5)]
    if v.label == "S1":
        for side in (-1.0, 1.0):
            ala = Superellipsoid(
                (24.0, 0.42 * v.depth, 0.45 * h),
                3.0,
                4.0,
                (side * (v.width / 2 + 14.0), 0.3 * v.depth, 0.05 * h),
            )
            parts += _bone("S1/ala", v.frame, ala, 1.5)
    return parts


def _canal(a: SpineAnatomy) -> list[Part]:
    """Epidural fat, thecal sac, cord / cauda along vertebra and disc segments."""
    ca, cb = a.canal_half
    segments: list[tuple[str, Frame, float, float]] = []  # (label, frame, half length, depth)
    chain = a.vertebrae + a.sacral
    for v, below in itertools.pairwise(chain):
        if v.label not in _CANAL_LABELS:
            continue
        segments.append((v.label, v.frame, v.height / 2 + 1.5, v.depth))
        gap_frame = Disc("", v, below).frame
        segments.append((v.label, gap_frame, 8.0, (v.depth + below.depth) / 2))
    # Epidural fat fills the bony canal and reaches forward to the backs of bodies and discs.
    front = a.epidural_mm / 2 + 0.5
    layers = (
        (Tissue.FAT, ca, cb + front, -front),
        (Tissue.CSF, 0.85 * ca, 0.8 * cb, -0.12 * cb),
    )
    parts: list[Part] = []
    for tissue, hx, hy, dy in layers:
        for label, frame, half_len, depth in segments:
            scale = 0.8 if label.startswith("S") else 1.0
            centre = (0.0, a.canal_offset(depth) + dy, 0.0)
            shape = Superellipsoid((hx * scale, hy * scale, half_len), 2.0, 8.0, centre)
            parts.append(Part("canal", tissue, frame, shape))
    for label, frame, half_len, depth in segments:
        yc = a.canal_offset(depth)
        if label in _CORD_LABELS:
            shape = Superellipsoid((4.5, 3.5, half_len), 2.0, 8.0, (0.0, yc - 0.1 * cb, 0.0))
            parts.append(Part("cord", Tissue.CORD, frame, shape))
        elif label != "S2":
            shape = Superellipsoid(
                (0.45 * ca, 0.3 * cb, half_len), 2.0, 8.0, (0.0, yc + 0.3 * cb, 0)
            )
            parts.append(Part("cord", Tissue.CAUDA, frame, shape))
    return parts


def _dished(v: Vertebra) -> bool:
    return v.fracture is not None and v.fracture.kind == "biconcave"


def _dish_fill(d: Disc) -> list[Part]:
    """Annulus filling the hollow endplates of biconcave neighbours (a "fish vertebra").

    An ellipsoid centred on the endplate plane, cut to the body's side, covers the hollow; the
    body, painted later, keeps only the hollow. The nucleus reaches in by its own clip.
    """
    parts: list[Part] = []
    for v, superior in ((d.upper, False), (d.lower, True)):
        if not _dished(v):
            continue
        outward = v.frame.superior if superior else -v.frame.superior
        keep = (HalfSpace(v.endplate(superior), outward),)
        half = (DISH_RADIUS * v.width / 2, DISH_RADIUS * v.depth / 2, v.endplate_sink + 0.6)
        centre = (0.0, 0.0, (0.5 if superior else -0.5) * v.span)
        dish = Superellipsoid(half, 2.0, 2.0, centre)
        parts.append(Part(d.level, Tissue.ANNULUS, v.frame, dish, keep))
    return parts


def _discs(discs: tuple[Disc, ...], fused: bool = False) -> list[Part]:
    """Annulus (with any bulge), nucleus and herniation of each disc; ``fused``: annulus only."""
    parts: list[Part] = []
    for d in discs:
        frame = d.frame
        top, bottom = d.upper.endplate(False), d.lower.endplate(True)
        up, low = d.upper.endplate_normal(False), d.lower.endplate_normal(True)

        def clips(
            margin: float,
            below: float | None = None,
            top: FloatArray = top,
            bottom: FloatArray = bottom,
            up: FloatArray = up,
            low: FloatArray = low,
        ) -> tuple[HalfSpace, ...]:
            """Planes ``margin`` mm into the bodies (``below``: into the lower one if other)."""
            lower = margin if below is None else below
            return (HalfSpace(top + margin * up, up), HalfSpace(bottom - lower * low, -low))

        hw, hd, hh = d.width / 2, d.depth / 2, d.height / 2 + 6.0
        sink = max(d.upper.endplate_sink, d.lower.endplate_sink)
        if sink:
            hh += sink  # reach a wedge's sunken anterior edge
        draw = d.draw
        n = _BODY_N if draw is None else draw.outline_n
        outer = Superellipsoid((hw, hd, hh), n, 10.0).grown(d.bulge_mm, d.bulge_mm)
        if draw is not None and draw.bulge_back:
            # a bulge larger at the back: the outline moves back, the front stays nearer
            outer = Superellipsoid(outer.half, n, 10.0, (0.0, back_shift(d), 0.0))
        parts.append(Part(d.level, Tissue.ANNULUS, frame, outer, clips(0.6)))
        if fused:
            continue
        # The standard profile's nucleus is dark exactly when the contour is abnormal; with a
        # degeneration draw (wide profile) it is NUCLEUS, its signal set per disc when rendered.
        healthy = d.state == "normal" or draw is not None
        nucleus_tissue = Tissue.NUCLEUS if healthy else Tissue.NUCLEUS_DEGENERATE
        size, shape = (0.55, 2.0) if draw is None else (draw.nucleus_size, draw.nucleus_n)
        nucleus = Superellipsoid(
            (size * hw, (size - 0.05) * hd, hh), shape, 4.0, (0.0, 0.1 * hd, 0.0)
        )
        if d.upper.endplate_sink or d.lower.endplate_sink:
            parts += _dish_fill(d)
            reach = [v.endplate_sink if _dished(v) else -1.3 for v in (d.upper, d.lower)]
            parts.append(Part(d.level, nucleus_tissue, frame, nucleus, clips(reach[0], reach[1])))
        else:
            parts.append(Part(d.level, nucleus_tissue, frame, nucleus, clips(-1.3)))
        if draw is not None and draw.posterior_notch_mm > 0.0:
            parts.append(_posterior_notch(d, outer, clips(0.6)))
        if d.state == "herniation":
            parts.append(_herniation(d, hw, hd, n, clips))
    return parts


def back_shift(d: Disc) -> float:
    """How far a bulge larger at the back moved the disc's outline backwards (mm)."""
    return d.draw.bulge_back * d.bulge_mm if d.draw is not None else 0.0


def _posterior_notch(d: Disc, outline: Superellipsoid, clips: tuple[HalfSpace, ...]) -> Part:
    """The concave posterior margin of ``d`` (``outline``: its annulus): epidural fat painted
    over the back of the annulus in a shallow arc, never outside the disc."""
    assert d.draw is not None
    depth, across = d.draw.posterior_notch_mm, d.draw.notch_half_width * d.width / 2
    margin = outline.half[1] + outline.centre[1]
    reach = 8.0  # half depth of the arc's ellipse: a shallow, smooth hollow
    centre = (0.0, margin + reach - depth, 0.0)
    notch = Superellipsoid((across, reach, outline.half[2]), 2.0, 10.0, centre)
    return Part("canal", Tissue.FAT, d.frame, notch, clips, within=(outline,))


def _herniation(
    d: Disc, hw: float, hd: float, n: float, clips: Callable[[float], tuple[HalfSpace, ...]]
) -> Part:
    """The herniated material of ``d``: at the back of its outline (exponent ``n``), central
    or to one side; with a draw (wide profile) its width, place, height and migration are the
    drawn ones."""
    draw = d.draw
    if draw is None:
        x = {"central": 0.0, "left": 0.22 * hw, "right": -0.22 * hw}[d.herniation_side or ""]
        half_width, tall, shift = 6.5, 0.5 * d.height + 1.0, 0.0
    else:
        x = draw.herniation_offset * hw
        half_width = draw.herniation_half_width_mm
        tall = draw.herniation_height * 0.5 * d.height + 1.0
        shift = draw.herniation_migration * d.height
    margin = hd * (1.0 - abs(x / hw) ** n) ** (1.0 / n)
    blob = Superellipsoid((half_width, d.herniation_mm, tall), 2.0, 2.5, (x, margin, shift))
    return Part(f"{d.level}/herniation", Tissue.HERNIATION, d.frame, blob, clips(2.0))


def build_parts(a: SpineAnatomy) -> tuple[Part, ...]:
    """All parts of the phantom, in painting order."""
    chain = a.vertebrae + a.sacral
    parts = _trunk(a) + _muscles(a)
    for v in chain:
        if v.label != "S4":
            parts += _posterior(a, v)
    sacral_gaps = tuple(Disc("sacrum", u, w) for u, w in zip(chain[-4:-1], chain[-3:], strict=True))
    parts += _canal(a) + _discs(a.discs) + _discs(sacral_gaps, fused=True)
    for v in chain:
        structure = v.label
        parts += _bone(structure, v.frame, body_shape(v), 1.3)
    return tuple(parts)
