"""The fixed case mix of the AP spine radiographs: arithmetic on the seed, not drawn.

Slot ``seed % 20`` fixes the curve, the implants, the field of view, the modality and the
photometric interpretation; the curve's size and the noise are two more sums on the seed. Any
20 consecutive seeds hold exactly:

- curves: 4 straight spines (slots 0, 5, 10, 15; a Cobb angle drawn 0-4 degrees), 8 single
  curves (slots 1, 2, 3, 6, 7, 11, 13, 17; apex T11, T12, L1, L2, L3, T11, T12, L1 in that
  order) and
  8 double curves (slots 4, 8, 9, 12, 14, 16, 18, 19; a thoracic curve, apex T10 in odd slots
  and T11 in even ones, above a lumbar one, apex L2 when ``(slot // 3)`` is odd, else L3; the
  lumbar curve 0.55-0.9 of the thoracic one, drawn);
- the main curve's Cobb angle: level ``(7 * seed + 3 * (seed // 20)) % 20`` of 20 even steps
  from 10 to 45 degrees (every level once in a block of 20 seeds starting at a multiple of 20;
  the block term moves the levels between slots); its side (convex left or right) alternates
  with ``(slot + seed // 20) % 2`` (convex to the patient's right when it is 0);
- implants in 6 studies: pedicle screw pairs at 2, 1, 3, 4, 2, 3 levels (slots 2, 6, 9, 13,
  16, 19), rods on both sides when two or more levels are screwed, an interbody cage in the
  disc above the lowest screwed vertebra in slots 2, 13, 19;
- field of view: T10-S1 (10: slots with ``(slot // 2) % 2 == 0``) or T12-pelvis (10: the
  rest; the image goes down past the hips);
- 6 computed radiographs (CR; slots 1, 3, 8, 11, 14, 17), the rest digital (DX);
  4 MONOCHROME1 (slots 3, 7, 14, 18), the rest MONOCHROME2;
- 3 patients turned on the table by 5-10 degrees (slots 5, 12, 17; the others within 2);
- the noise: level ``(11 * seed + 7 * (seed // 20)) % 20`` of 20 geometric steps from 0.5x to
  4x a reference (every level once in a block of 20).

The study *kind* the scorer groups by is the curve: ``straight``, ``single-curve``,
``double-curve``. Tags: ``implants``, ``T12-pelvis``, ``cr``, ``monochrome1``, ``rotated``,
``noise>=2x``, ``cobb>=25``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["XR_KINDS", "XR_SLOTS", "XrCase", "xr_case_for"]

XR_SLOTS = 20
XR_KINDS: tuple[str, ...] = ("straight", "single-curve", "double-curve")
_STRAIGHT = frozenset({0, 5, 10, 15})
_SINGLE = frozenset({1, 2, 3, 6, 7, 11, 13, 17})
_APICES = ("T11", "T12", "L1", "L2", "L3")
#: slot -> (screwed levels, interbody cage)
_IMPLANTS = {
    2: (2, True),
    6: (1, False),
    9: (3, False),
    13: (4, True),
    16: (2, False),
    19: (3, True),
}
_CR = frozenset({1, 3, 8, 11, 14, 17})
_MONOCHROME1 = frozenset({3, 7, 14, 18})
_ROTATED = frozenset({5, 12, 17})
FOVS = ("T10-S1", "T12-pelvis")


@dataclass(frozen=True)
class XrCase:
    """What one seed's radiograph is (see the module docstring)."""

    seed: int
    slot: int
    kind: str
    #: The main curve's Cobb angle (degrees) for a curved spine; 0 for a straight one (whose
    #: small angle is drawn with the anatomy).
    cobb_deg: float
    #: +1: the main curve convex to the patient's right (the image's left); -1: to the left.
    side: int
    apex: str
    screw_levels: int
    cage: bool
    fov: str
    modality: str
    monochrome1: bool
    rotated: bool
    noise_factor: float

    @property
    def rods(self) -> bool:
        return self.screw_levels >= 2

    @property
    def tags(self) -> tuple[str, ...]:
        """Conditions besides the kind, for grouping results."""
        tags = []
        if self.screw_levels:
            tags.append("implants")
        if self.fov == "T12-pelvis":
            tags.append("T12-pelvis")
        if self.modality == "CR":
            tags.append("cr")
        if self.monochrome1:
            tags.append("monochrome1")
        if self.rotated:
            tags.append("rotated")
        if self.noise_factor >= 2.0:
            tags.append("noise>=2x")
        if self.cobb_deg >= 25.0:
            tags.append("cobb>=25")
        return tuple(tags)


def _apex(slot: int, kind: str) -> str:
    """The apex of a single curve; of a double one, ``upper/lower``; "" for a straight spine."""
    if kind == "single-curve":
        return _APICES[sorted(_SINGLE).index(slot) % len(_APICES)]
    if kind == "double-curve":
        return f"{'T10' if slot % 2 else 'T11'}/{'L2' if (slot // 3) % 2 else 'L3'}"
    return ""


def xr_case_for(seed: int) -> XrCase:
    """The radiograph case of ``seed`` (any integer >= 0)."""
    if seed < 0:
        raise ValueError(f"seed must be 0 or more, got {seed}")
    slot = seed % XR_SLOTS
    block = seed // XR_SLOTS
    if slot in _STRAIGHT:
        kind = "straight"
    elif slot in _SINGLE:
        kind = "single-curve"
    else:
        kind = "double-curve"
    level = (7 * seed + 3 * block) % XR_SLOTS
    cobb = 0.0 if kind == "straight" else 10.0 + 35.0 * level / (XR_SLOTS - 1)
    noise = 0.5 * 8.0 ** (((11 * seed + 7 * block) % XR_SLOTS) / (XR_SLOTS - 1))
    screws, cage = _IMPLANTS.get(slot, (0, False))
    return XrCase(
        seed=seed,
        slot=slot,
        kind=kind,
        cobb_deg=round(cobb, 4),
        side=1 if (slot + block) % 2 == 0 else -1,
        apex=_apex(slot, kind),
        screw_levels=screws,
        cage=cage,
        fov=FOVS[(slot // 2) % 2],
        modality="CR" if slot in _CR else "DX",
        monochrome1=slot in _MONOCHROME1,
        rotated=slot in _ROTATED,
        noise_factor=round(noise, 4),
    )
