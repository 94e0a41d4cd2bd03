"""Random but realistic lumbar spine geometry: vertebral bodies and discs along a lordotic curve.

The centre line lies in the sagittal plane of a "spine space" in which the superior axis of each
body is ``(0, sin(phi), cos(phi))`` with ``phi`` the tilt towards posterior; a small rigid motion
(a few degrees and a few centimetres) then places the whole spine in patient coordinates.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from spineviewer.phantom.discs import DiscDraw
from spineviewer.phantom.fractures import Fracture
from spineviewer.phantom.solids import FloatArray, Frame, frame_axes, rotation

#: Labelled vertebrae of the default spine, top to bottom; S1 is the top of the sacrum.
LABELS: tuple[str, ...] = ("T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1")
#: Thoracic vertebrae a spine may start from (the default starts at T11).
THORACIC: tuple[str, ...] = ("T9", "T10", "T11", "T12")
#: Fused sacral segments below S1 (drawn, not labelled).
SACRAL: tuple[str, ...] = ("S2", "S3", "S4")
DISC_STATES: tuple[str, ...] = ("normal", "bulge", "herniation")

#: Mean sizes in mm (height, width L-R, depth A-P) and the disc below each vertebra (L6: the
#: extra lumbar vertebra of transitional anatomy, sized like L5).
BODY_HEIGHT = dict(
    T9=20, T10=21, T11=22, T12=23, L1=25, L2=26, L3=27, L4=27, L5=27, L6=27, S1=28, S2=22,
    S3=18, S4=14,
)  # fmt: skip
BODY_WIDTH = dict(
    T9=33, T10=34, T11=36, T12=38, L1=41, L2=43, L3=45, L4=47, L5=49, L6=49, S1=50, S2=40,
    S3=32, S4=24,
)  # fmt: skip
BODY_DEPTH = dict(
    T9=25, T10=26, T11=27, T12=28, L1=30, L2=31, L3=32, L4=33, L5=33, L6=33, S1=32, S2=24,
    S3=20, S4=16,
)  # fmt: skip
DISC_BELOW = dict(
    T9=5.0, T10=5.5, T11=6, T12=7, L1=8, L2=9, L3=10, L4=11, L5=10, L6=10, S1=2.0, S2=2.0,
    S3=2.0,
)  # fmt: skip


def spine_labels(top: str = "T11", lumbar: int = 5) -> tuple[str, ...]:
    """Labelled vertebrae from thoracic ``top`` down to S1 with ``lumbar`` lumbar vertebrae."""
    if top not in THORACIC:
        raise ValueError(f"a spine starts at one of {', '.join(THORACIC)}, not {top!r}")
    if lumbar not in (5, 6):
        raise ValueError(f"a spine has 5 or 6 lumbar vertebrae, not {lumbar}")
    lumbars = tuple(f"L{i}" for i in range(1, lumbar + 1))
    return (*THORACIC[THORACIC.index(top) :], *lumbars, "S1")


def graded_levels(labels: Sequence[str]) -> tuple[str, ...]:
    """Disc levels whose state varies: the lumbar ones, L1-L2 down to the lumbosacral disc."""
    return tuple(f"{u}-{w}" for u, w in itertools.pairwise(labels) if u.startswith("L"))


#: Disc levels of the default spine whose state varies (the others are always normal).
GRADED_LEVELS: tuple[str, ...] = graded_levels(LABELS)
#: Per graded level: probabilities of normal / bulge / herniation (herniation likes L4-S1).
_STATE_P = {
    "L1-L2": (0.65, 0.2, 0.15),
    "L2-L3": (0.6, 0.25, 0.15),
    "L3-L4": (0.5, 0.25, 0.25),
    "L4-L5": (0.4, 0.25, 0.35),
    "L5-S1": (0.4, 0.25, 0.35),
    "L5-L6": (0.4, 0.25, 0.35),
}


@dataclass(frozen=True)
class Vertebra:
    """One vertebral body: ``frame`` origin = body centre, axes lateral/posterior/superior.

    ``height`` is the intact height; a ``fracture`` lowers the body as
    :mod:`spineviewer.phantom.fractures` describes.
    """

    label: str
    frame: Frame
    width: float
    depth: float
    height: float
    fracture: Fracture | None = None

    @property
    def centre(self) -> FloatArray:
        """Body centre in patient mm."""
        return self.frame.origin

    @property
    def span(self) -> float:
        """Distance between the endplate planes along the axis (the intact height if whole)."""
        if self.fracture is None:
            return self.height
        return self.height * self.fracture.span_factor

    @property
    def posterior_height(self) -> float:
        """Height of the posterior wall (sizes the posterior elements)."""
        if self.fracture is None:
            return self.height
        return self.height * self.fracture.posterior_factor

    @property
    def wedge_slope(self) -> float:
        """How far each endplate plane drops per mm towards anterior (0 unless a wedge)."""
        if self.fracture is None or self.fracture.kind != "wedge":
            return 0.0
        return self.height * self.fracture.height_loss / (2.0 * self.depth)

    @property
    def endplate_sink(self) -> float:
        """Deepest point of an endplate below its plane, in mm (a wedge's anterior edge)."""
        if self.fracture is None or self.fracture.kind == "crush":
            return 0.0
        if self.fracture.kind == "wedge":
            return self.wedge_slope * self.depth / 2.0
        return self.height * self.fracture.height_loss / 2.0

    def endplate(self, superior: bool) -> FloatArray:
        """Centre of the superior or inferior endplate (its plane, on the body axis)."""
        sign = 0.5 if superior else -0.5
        if self.fracture is None:
            return self.frame.origin + sign * self.height * self.frame.superior
        return self.frame.origin + sign * self.span * self.frame.superior

    def endplate_normal(self, superior: bool) -> FloatArray:
        """Unit normal of an endplate plane, pointing superiorly (the body axis unless wedged)."""
        slope = self.wedge_slope
        if slope == 0.0:
            return self.frame.superior
        _, posterior, up = self.frame.axes
        normal = up - slope * posterior if superior else up + slope * posterior
        return normal / np.linalg.norm(normal)


@dataclass(frozen=True)
class Disc:
    """An intervertebral disc between ``upper`` and ``lower`` and its state.

    ``draw`` (wide profile only, :mod:`spineviewer.phantom.discs`) carries the disc's own
    degeneration; without it the nucleus is dark exactly when the contour is abnormal.
    """

    level: str
    upper: Vertebra
    lower: Vertebra
    state: str = "normal"
    bulge_mm: float = 0.0
    herniation_mm: float = 0.0
    herniation_side: str | None = None
    draw: DiscDraw | None = None

    @property
    def frame(self) -> Frame:
        """Origin midway between the endplates; superior axis from lower to upper endplate."""
        top = self.upper.endplate(superior=False)
        bottom = self.lower.endplate(superior=True)
        lateral = self.upper.frame.axes[0] + self.lower.frame.axes[0]
        return Frame((top + bottom) / 2.0, frame_axes(top - bottom, lateral))

    @property
    def height(self) -> float:
        """Distance between the two endplate centres."""
        return float(np.linalg.norm(self.upper.endplate(False) - self.lower.endplate(True)))

    @property
    def width(self) -> float:
        """Mean L-R width of the neighbouring bodies."""
        return (self.upper.width + self.lower.width) / 2.0

    @property
    def depth(self) -> float:
        """Mean A-P depth of the neighbouring bodies."""
        return (self.upper.depth + self.lower.depth) / 2.0


@dataclass(frozen=True)
class SpineAnatomy:
    """Everything that places the spine and the trunk around it in patient space."""

    vertebrae: tuple[Vertebra, ...]
    sacral: tuple[Vertebra, ...]
    discs: tuple[Disc, ...]
    trunk: Frame
    trunk_half: tuple[float, float]
    fat_mm: float
    canal_half: tuple[float, float]
    epidural_mm: float
    lordosis_deg: float

    def vertebra(self, label: str) -> Vertebra:
        """The vertebra (or sacral segment) called ``label``."""
        for v in self.vertebrae + self.sacral:
            if v.label == label:
                return v
        raise KeyError(f"no vertebra {label!r}; known: {[v.label for v in self.vertebrae]}")

    def disc(self, level: str) -> Disc:
        """The disc called ``level`` (e.g. ``"L4-L5"``)."""
        for d in self.discs:
            if d.level == level:
                return d
        raise KeyError(f"no disc {level!r}; known: {[d.level for d in self.discs]}")

    def canal_offset(self, depth: float) -> float:
        """Distance from a body's centre to the canal axis, posteriorly, for that body depth."""
        return depth / 2.0 + self.epidural_mm + self.canal_half[1]


DiscState = tuple[str, float, float, str | None]


def _disc_state(rng: np.random.Generator, level: str) -> DiscState:
    state = str(rng.choice(DISC_STATES, p=_STATE_P[level]))
    bulge = float(rng.uniform(2.0, 4.0)) if state == "bulge" else 0.0
    hern = float(rng.uniform(4.0, 8.0)) if state == "herniation" else 0.0
    side = str(rng.choice(("central", "left", "right"))) if state == "herniation" else None
    return state, bulge, hern, side


def _disc_states(
    rng: np.random.Generator, extra: Callable[[], np.random.Generator], labels: Sequence[str]
) -> dict[str, DiscState]:
    """States of the graded discs: today's draws, the lumbosacral one kept for the last disc."""
    drawn = {level: _disc_state(rng, level) for level in GRADED_LEVELS}
    graded = graded_levels(labels)
    states = {level: drawn[level] for level in graded if level in drawn}
    states.setdefault(graded[-1], drawn[GRADED_LEVELS[-1]])
    for level in graded:
        if level not in states:
            states[level] = _disc_state(extra(), level)
    return states


def wedge_angle_deg(height: float, depth: float, loss: float) -> float:
    """Angle between the endplates of a wedge (intact ``height``, A-P ``depth``)."""
    return 2.0 * math.degrees(math.atan(height * loss / (2.0 * depth)))


#: Thoracic kyphosis above T11: the tilt of T10 and T9 beyond L1's (degrees).
_KYPHOSIS = {"T9": 11.0, "T10": 8.0, "T11": 5.0}


@dataclass(frozen=True)
class Posture:
    """Ranges of the spine's curve and pose (uniform draws). The defaults are the standard
    profile's; the wide profile passes wider ones (:data:`spineviewer.phantom.wide.POSTURE`),
    drawn from the same stream, so a seed's other draws do not move."""

    #: The axis's forward tilt at L1 (degrees).
    l1_deg: tuple[float, float] = (4.0, 12.0)
    #: The sacral slope: the S1 axis's backward tilt (degrees).
    sacral_slope_deg: tuple[float, float] = (30.0, 45.0)
    #: The whole spine turned about the left-right axis (degrees, +/-).
    tilt_deg: float = 5.0

    def parameters(self) -> dict[str, list[float] | float]:
        return {
            "l1_deg": list(self.l1_deg),
            "sacral_slope_deg": list(self.sacral_slope_deg),
            "tilt_deg": self.tilt_deg,
        }


#: The standard profile's posture.
STANDARD_POSTURE = Posture()


def build_anatomy(
    rng: np.random.Generator,
    fractures: Mapping[str, Fracture] | None = None,
    labels: Sequence[str] = LABELS,
    disc_draws: Mapping[str, DiscDraw] | None = None,
    posture: Posture = STANDARD_POSTURE,
) -> SpineAnatomy:
    """Draw one spine: sizes, lordosis, disc states, pose in patient space.

    ``fractures`` (by label) lower those bodies: the spine shortens by the lost span, and above a
    wedge it turns forward by the wedge angle. The random draws are the same with or without.
    ``labels`` (see :func:`spine_labels`) may add vertebrae to the default :data:`LABELS`:
    thoracic ones on top, an ``L6`` above S1. The default vertebrae keep their draws from
    ``rng``; the added ones draw from a child of it (``rng.spawn``), so the spine of a seed
    stays that spine with one more vertebra.

    ``disc_draws`` (by level; the wide profile) replace the graded discs' states: contour and
    degeneration from the draw, the disc height lowered by its ``height_loss``. The other draws
    from ``rng`` stay those of the spine without them. ``posture``: the ranges of the curve
    and the pose.
    """
    fractures = dict(fractures or {})
    labels = tuple(labels)
    names = labels + SACRAL
    missing = [n for n in LABELS if n not in labels]
    if missing or labels != spine_labels(labels[0], sum(n.startswith("L") for n in labels)):
        raise ValueError(f"unsupported vertebrae {list(labels)}; see spine_labels()")
    unknown = set(fractures) - set(names)
    if unknown:
        raise ValueError(f"no vertebra {sorted(unknown)} to fracture; known: {list(names)}")
    if disc_draws is not None and set(disc_draws) != set(graded_levels(labels)):
        raise ValueError(
            f"disc draws for {sorted(disc_draws)}, but the graded discs are "
            f"{list(graded_levels(labels))}"
        )
    default = LABELS + SACRAL
    added = [n for n in names if n not in default]
    children: list[np.random.Generator] = []

    def extra() -> np.random.Generator:
        """The generator of the added vertebrae (spawned once, when first needed)."""
        if not children:
            children.append(rng.spawn(1)[0])
        return children[0]

    def per_name(
        draw: Callable[[np.random.Generator, str], float], among: Sequence[str]
    ) -> dict[str, float]:
        """``draw`` for the default names from ``rng`` (in their order), then the added ones."""
        out = {n: draw(rng, n) for n in among}
        out.update({n: draw(extra(), n) for n in added})
        return out

    scale = rng.uniform(0.9, 1.1)
    states = _disc_states(rng, extra, labels)
    draws = dict(disc_draws or {})
    for level, draw in draws.items():
        states[level] = (draw.state, draw.bulge_mm, draw.herniation_mm, draw.herniation_side)
    heights = per_name(lambda g, n: BODY_HEIGHT[n] * scale * g.uniform(0.96, 1.04), default)
    spans = dict(heights)
    for n, fracture in fractures.items():
        spans[n] = heights[n] * fracture.span_factor
    raw_gaps = per_name(lambda g, n: DISC_BELOW[n] * scale * g.uniform(0.9, 1.1), default[:-1])
    gaps = {}
    for upper, lower in itertools.pairwise(names):
        gap = raw_gaps[upper]
        level = f"{upper}-{lower}"
        if level in draws:
            gap *= 1.0 - draws[level].height_loss
        elif states.get(level, ("normal",))[0] != "normal":
            gap *= 0.85  # degenerated discs lose height
        gaps[upper] = gap
    # Arc length of each body centre, top to bottom.
    s_centre: dict[str, float] = {}
    s = 0.0
    for i, n in enumerate(names):
        s += spans[n] / 2.0 + (gaps[names[i - 1]] + spans[names[i - 1]] / 2.0 if i else 0.0)
        s_centre[n] = s
    phi_l1 = rng.uniform(*posture.l1_deg)
    phi_s1 = -rng.uniform(*posture.sacral_slope_deg)
    phi_l4 = phi_l1 + 0.45 * (phi_s1 - phi_l1)
    above = [n for n in THORACIC[: THORACIC.index("T11") + 1] if n in names]
    knots_s = [s_centre[n] for n in (*above, "L1", "L4", "S1", "S2", "S3", "S4")]
    knots_phi = [
        *(phi_l1 + _KYPHOSIS[n] for n in above),
        *(phi_l1, phi_l4, phi_s1, phi_s1 + 10.0, phi_s1 + 22.0, phi_s1 + 35.0),
    ]
    # Pose: L3 at a random place, the whole spine turned by a few degrees.
    turn = (
        rotation((1, 0, 0), rng.uniform(-posture.tilt_deg, posture.tilt_deg))
        @ rotation((0, 1, 0), rng.uniform(-1.5, 1.5))
        @ rotation((0, 0, 1), rng.uniform(-2.0, 2.0))
    )
    place = np.array([rng.uniform(-4.0, 4.0), rng.uniform(10.0, 40.0), rng.uniform(-60.0, 60.0)])
    widths: dict[str, float] = {}
    depths: dict[str, float] = {}
    for n in (*default, *added):
        g = rng if n in default else extra()
        widths[n] = BODY_WIDTH[n] * scale * g.uniform(0.96, 1.04)
        depths[n] = BODY_DEPTH[n] * scale * g.uniform(0.96, 1.04)

    # A wedge turns everything above it forwards; its own axis takes half the angle.
    wedges = [
        (s_centre[n], spans[n], wedge_angle_deg(heights[n], depths[n], f.height_loss))
        for n, f in fractures.items()
        if f.kind == "wedge"
    ]

    def kink(arc: FloatArray) -> FloatArray:
        """Degrees the axis at arc lengths ``arc`` turns forward because of the wedges."""
        turned = np.zeros_like(arc)
        for centre_s, span, angle in wedges:
            turned += angle * np.clip((centre_s + span / 2 - arc) / span, 0.0, 1.0)
        return turned

    grid = np.arange(0.0, s_centre["S4"] + 1.0, 0.1)
    phi_deg = np.interp(grid, knots_s, knots_phi)
    if wedges:
        phi_deg = phi_deg - kink(grid)
    phi = np.deg2rad(phi_deg)
    step = -np.stack([np.zeros_like(phi), np.sin(phi), np.cos(phi)], axis=1) * 0.1
    path = np.concatenate([np.zeros((1, 3)), np.cumsum((step[1:] + step[:-1]) / 2.0, axis=0)])
    l3 = path[round(s_centre["L3"] / 0.1)]

    def to_patient(p: FloatArray) -> FloatArray:
        return (p - l3) @ turn.T + place

    bodies = []
    for n in names:
        idx = round(s_centre[n] / 0.1)
        sup = np.array([0.0, np.sin(phi[idx]), np.cos(phi[idx])])
        axes = frame_axes(turn @ sup, turn @ np.array([1.0, 0.0, 0.0]))
        frame = Frame(to_patient(path[idx]), axes)
        bodies.append(Vertebra(n, frame, widths[n], depths[n], heights[n], fractures.get(n)))
    discs = []
    for up, low in itertools.pairwise(bodies):
        level = f"{up.label}-{low.label}"
        if low.label in SACRAL:
            continue
        state, bulge, hern, side = states.get(level, ("normal", 0.0, 0.0, None))
        discs.append(Disc(level, up, low, state, bulge, hern, side, draws.get(level)))

    trunk_half = (rng.uniform(125.0, 150.0), rng.uniform(90.0, 110.0))
    trunk_centre = to_patient(l3 + np.array([0.0, rng.uniform(85.0, 100.0) - trunk_half[1], 0.0]))
    lordosis = float(phi_l1 - phi_s1)
    if wedges:
        l1_turn, s1_turn = kink(np.array([s_centre["L1"], s_centre["S1"]]))
        lordosis -= float(l1_turn - s1_turn)
    return SpineAnatomy(
        vertebrae=tuple(b for b in bodies if b.label in labels),
        sacral=tuple(b for b in bodies if b.label in SACRAL),
        discs=tuple(discs),
        trunk=Frame(trunk_centre, turn.T),
        trunk_half=trunk_half,
        fat_mm=float(rng.uniform(10.0, 28.0)),
        canal_half=(float(rng.uniform(10.0, 12.0)), float(rng.uniform(7.0, 9.0))),
        epidural_mm=float(rng.uniform(1.5, 2.5)),
        lordosis_deg=lordosis,
    )
