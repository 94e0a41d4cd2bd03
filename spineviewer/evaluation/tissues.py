"""Tissue relaxation tables and the MR signal equations of the evaluation generator.

Every tissue is a mix of compartments, each with approximate relaxation times and proton
density; its signal on a sequence is worked out from the sequence's TR / TE (/ TI), not looked
up, so T1, T2 and STIR contrasts follow from the same table:

- spin echo (T1 and T2 TSE): ``S = PD (1 - 2 e^(-(TR - TE/2)/T1) + e^(-TR/T1)) e^(-TE/T2)``;
- inversion recovery (STIR, magnitude): ``S = PD |1 - 2 e^(-TI/T1) + e^(-TR/T1)| e^(-TE/T2)``,
  the compartments' signed signals summed before the magnitude (fat is nulled, fatty marrow
  goes dark, its water stays).

Marrow is a fat / water mix (fat fraction per vertebra), so it is bright on T1, intermediate on
T2 and dark on STIR without a table of its own per contrast. Fat's T2 is the *apparent* T2 of
a fast spin echo train (J-coupling makes fat brighter on TSE than a spin echo predicts). Values
are rounded literature figures at 1.5 T with the T1 lengthening at 3 T (fat's 3 T T1 is the
apparent one that puts the fat null near the 220 ms scanners use); they aim at realistic ratios
between tissues, not at any one scanner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "ANNULUS",
    "BONE",
    "CORD",
    "CSF",
    "FAT",
    "FLOW_VOID",
    "FRACTURE_LINE",
    "KIDNEY",
    "MUSCLE",
    "VISCERA",
    "Compartment",
    "Sequence",
    "Tissue",
    "fat_null_ti",
    "herniated_material",
    "marrow",
    "nucleus",
    "oedematous_marrow",
    "signal",
]


@dataclass(frozen=True)
class Compartment:
    """One pool of protons: T1 at 1.5 T and 3 T, T2 (ms) and relative proton density."""

    t1_15: float
    t1_30: float
    t2: float
    pd: float

    def t1(self, field_t: float) -> float:
        """T1 at ``field_t`` tesla (linear between the 1.5 T and 3 T values)."""
        share = min(max((field_t - 1.5) / 1.5, 0.0), 1.0)
        return self.t1_15 + share * (self.t1_30 - self.t1_15)


@dataclass(frozen=True)
class Tissue:
    """A named tissue: ``(fraction, compartment)`` pairs whose fractions add up to 1."""

    name: str
    parts: tuple[tuple[float, Compartment], ...]


@dataclass(frozen=True)
class Sequence:
    """The timing of one series (ms): ``ti`` is None for a spin echo."""

    name: str
    tr: float
    te: float
    field_t: float
    ti: float | None = None

    def value(self, tissue: Tissue) -> float:
        """The tissue's signal on this sequence (the renderer's contrast protocol)."""
        return signal(tissue, self)


def _one(name: str, t1_15: float, t1_30: float, t2: float, pd: float) -> Tissue:
    return Tissue(name, ((1.0, Compartment(t1_15, t1_30, t2, pd)),))


_FAT = Compartment(t1_15=260.0, t1_30=320.0, t2=140.0, pd=0.95)
_MARROW_WATER = Compartment(t1_15=900.0, t1_30=1100.0, t2=45.0, pd=0.8)

CSF = _one("csf", 4000.0, 4300.0, 1800.0, 1.0)
FAT = Tissue("fat", ((1.0, _FAT),))
MUSCLE = _one("muscle", 870.0, 1400.0, 42.0, 0.8)
ANNULUS = _one("annulus", 900.0, 1100.0, 50.0, 0.7)
CORD = _one("cord", 750.0, 1050.0, 85.0, 0.75)
BONE = _one("cortical bone", 250.0, 300.0, 1.0, 0.05)
FLOW_VOID = _one("flowing blood", 1200.0, 1600.0, 250.0, 0.03)
VISCERA = _one("viscera", 800.0, 1100.0, 75.0, 0.85)
KIDNEY = _one("kidney", 1000.0, 1300.0, 95.0, 0.9)


def marrow(fat_fraction: float) -> Tissue:
    """Vertebral marrow with ``fat_fraction`` (0.3-0.8 in adults, more with age)."""
    f = min(max(fat_fraction, 0.0), 1.0)
    return Tissue(f"marrow {f:.2f}", ((f, _FAT), (1.0 - f, _MARROW_WATER)))


#: Free water of bone-marrow oedema (an acute fracture): long T1 and T2.
_OEDEMA_WATER = Compartment(t1_15=1400.0, t1_30=1700.0, t2=120.0, pd=1.0)
#: The line of an acute fracture: compacted trabeculae and haemorrhage, dark on every sequence.
FRACTURE_LINE = _one("fracture line", 700.0, 850.0, 25.0, 0.3)


def oedematous_marrow(fat_fraction: float, oedema: float) -> Tissue:
    """Marrow with ``oedema`` (0-1) of it replaced by free water: bright on STIR and T2, dark
    on T1 (the fat it displaces was bright there)."""
    f = min(max(fat_fraction, 0.0), 1.0)
    e = min(max(oedema, 0.0), 1.0)
    return Tissue(
        f"oedematous marrow {f:.2f} {e:.2f}",
        ((f * (1 - e), _FAT), ((1 - f) * (1 - e), _MARROW_WATER), (e, _OEDEMA_WATER)),
    )


def nucleus(degeneration: float) -> Tissue:
    """The nucleus pulposus at ``degeneration`` 0 (young, hydrated: T2 bright) to 1 (desiccated:
    as dark as the annulus). T2, PD and T1 fall together with the water content."""
    d = min(max(degeneration, 0.0), 1.0)
    return _one(
        f"nucleus {d:.2f}",
        t1_15=1250.0 - 450.0 * d,
        t1_30=1500.0 - 500.0 * d,
        t2=190.0 - 140.0 * d,
        pd=1.0 - 0.3 * d,
    )


def herniated_material(degeneration: float) -> Tissue:
    """Displaced disc material: the nucleus of its disc mixed with some annulus."""
    inner = nucleus(degeneration).parts[0][1]
    outer = ANNULUS.parts[0][1]
    return Tissue(f"herniated {degeneration:.2f}", ((0.7, inner), (0.3, outer)))


def fat_null_ti(field_t: float) -> float:
    """The inversion time (ms) that nulls fat: ``T1_fat ln 2`` at the field strength."""
    return _FAT.t1(field_t) * math.log(2.0)


def _signed(c: Compartment, seq: Sequence) -> float:
    t1 = c.t1(seq.field_t)
    decay = math.exp(-seq.te / c.t2)
    if seq.ti is None:
        recovery = 1.0 - 2.0 * math.exp(-(seq.tr - seq.te / 2.0) / t1) + math.exp(-seq.tr / t1)
    else:
        recovery = 1.0 - 2.0 * math.exp(-seq.ti / t1) + math.exp(-seq.tr / t1)
    return c.pd * recovery * decay


def signal(tissue: Tissue, seq: Sequence) -> float:
    """The tissue's magnitude signal on ``seq`` (arbitrary units, CSF on T2 about 0.6)."""
    return abs(sum(f * _signed(c, seq) for f, c in tissue.parts))
