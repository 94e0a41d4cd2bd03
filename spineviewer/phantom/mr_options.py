"""Options of the lumbar MR phantom: sagittal field of view, lumbar count, sagittal contrasts,
and the profile (``standard``, or ``wide``: every study drawn over clinical ranges).

One frozen :class:`MrOptions` carries them so the generator can grow more (randomised)
parameters without more keywords. The defaults give the study every seed has always given;
ground truth lists the options under ``parameters`` only when one differs from its default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spineviewer.phantom.contrasts import CONTRAST_NAMES

#: Sagittal fields of view: ``full`` (T11..S1 and the sacrum), ``T10-L5`` (thoracolumbar, no
#: sacral body), ``L2-S1`` (the top of the image between L1 and L2), ``T10-S1`` (from T10 to
#: below the sacral promontory), ``L1-S1`` (the top of the image between T12 and L1).
SAGITTAL_FOVS: tuple[str, ...] = ("full", "T10-L5", "L2-S1", "T10-S1", "L1-S1")
#: Lumbar vertebrae: 5, or 6 (an ``L6`` above S1: transitional anatomy).
LUMBAR_COUNTS: tuple[int, ...] = (5, 6)
#: ``standard``: the options as given, everything else drawn as it always was. ``wide``: the
#: field of view, lumbar count, contrasts, imaging geometry, noise, bias and each disc's
#: degeneration and contour drawn per study (:mod:`spineviewer.phantom.wide`).
PROFILES: tuple[str, ...] = ("standard", "wide")
#: The series a lumbar MR study has: the sagittal ones (one per contrast), the angled axial
#: stacks and the straight axial stack. ``MrOptions.series`` writes a subset.
SERIES: tuple[str, ...] = ("sagittal", "axial_t2_angled", "axial_t2_stack")
#: ``parameters`` keys of ground_truth.json written for studies with options.
OPTION_PARAMETERS: tuple[str, ...] = ("sagittal_fov", "lumbar_vertebrae", "sagittal_contrasts")


def _choice(name: str, value: Any, choices: tuple[Any, ...]) -> None:
    if value not in choices:
        listed = ", ".join(str(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}, got {value!r}")


@dataclass(frozen=True)
class MrOptions:
    """What a lumbar MR study shows; every default gives the study of before the options.

    ``sagittal_fov``: one of :data:`SAGITTAL_FOVS`. ``lumbar_vertebrae``: 5 or 6.
    ``sagittal_contrasts``: one sagittal series per contrast, in this order (``T2``, ``T1``,
    ``STIR``; no repeats); the axial series stay T2. ``profile``: one of :data:`PROFILES`;
    ``wide`` draws the other three per study, so they must stay at their defaults with it
    (:meth:`wide` builds it). ``series``: which of :data:`SERIES` to write (all by default);
    the others are placed but neither rendered nor written, so a subset is the same study's
    files (same UIDs, series numbers and pixels) and is generated faster, e.g. only
    ``axial_t2_angled`` for disc-state training data.
    """

    sagittal_fov: str = "full"
    lumbar_vertebrae: int = 5
    sagittal_contrasts: tuple[str, ...] = ("T2",)
    profile: str = "standard"
    series: tuple[str, ...] = SERIES

    @classmethod
    def wide(cls, series: tuple[str, ...] = SERIES) -> MrOptions:
        """The randomised ``wide`` profile (:mod:`spineviewer.phantom.wide`)."""
        return cls(profile="wide", series=series)

    def __post_init__(self) -> None:
        _choice("profile", self.profile, PROFILES)
        series = self.series
        if isinstance(series, str) or not series:
            raise ValueError(f"series must be a non-empty sequence, got {series!r}")
        for name in series:
            _choice("a series", name, SERIES)
        object.__setattr__(self, "series", tuple(n for n in SERIES if n in series))
        _choice("sagittal field of view", self.sagittal_fov, SAGITTAL_FOVS)
        _choice("the number of lumbar vertebrae", self.lumbar_vertebrae, LUMBAR_COUNTS)
        contrasts = self.sagittal_contrasts
        if isinstance(contrasts, str) or not contrasts:
            raise ValueError(f"sagittal contrasts must be a non-empty sequence, got {contrasts!r}")
        object.__setattr__(self, "sagittal_contrasts", tuple(contrasts))
        for contrast in self.sagittal_contrasts:
            _choice("a sagittal contrast", contrast, CONTRAST_NAMES)
        if len(set(self.sagittal_contrasts)) != len(self.sagittal_contrasts):
            raise ValueError(f"a sagittal contrast is named twice: {list(contrasts)}")
        if self.profile == "wide" and self.shown != MrOptions().shown:
            raise ValueError(
                "the wide profile draws the field of view, the lumbar count and the sagittal "
                "contrasts per study; leave them at their defaults"
            )

    @property
    def shown(self) -> MrOptions:
        """The field of view, lumbar count and contrasts alone (profile ``standard``)."""
        return MrOptions(self.sagittal_fov, self.lumbar_vertebrae, self.sagittal_contrasts)

    @property
    def is_default(self) -> bool:
        """True when the options give the study of before the options existed."""
        return self == MrOptions()

    @property
    def whole(self) -> MrOptions:
        """The same options writing every series (what names the study: its UIDs)."""
        return MrOptions(
            self.sagittal_fov, self.lumbar_vertebrae, self.sagittal_contrasts, self.profile
        )

    def parameters(self) -> dict[str, Any]:
        """The ``parameters`` entries of ground_truth.json (none for the defaults).

        A wide profile gives ``profile`` alone: its study adds the options it drew.
        """
        if self.is_default:
            return {}
        subset = {"series": list(self.series)} if self.series != SERIES else {}
        if self.profile != "standard":
            return {"profile": self.profile, **subset}
        return {
            "sagittal_fov": self.sagittal_fov,
            "lumbar_vertebrae": self.lumbar_vertebrae,
            "sagittal_contrasts": list(self.sagittal_contrasts),
            **subset,
        }

    @property
    def variant(self) -> str:
        """A short name of the options for UIDs (empty for the defaults: today's UIDs; the
        written ``series`` do not change it)."""
        if self.whole.is_default:
            return ""
        if self.profile != "standard":
            return f"profile={self.profile}"
        contrasts = "+".join(self.sagittal_contrasts)
        return f"fov={self.sagittal_fov};lumbar={self.lumbar_vertebrae};sagittal={contrasts}"

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> MrOptions:
        """What a study shows, from its ``parameters`` (defaults if absent).

        For a wide study these are the drawn field of view, lumbar count and contrasts (profile
        ``standard``); ``parameters["profile"]`` says it was drawn.
        """
        return cls(
            sagittal_fov=str(parameters.get("sagittal_fov", "full")),
            lumbar_vertebrae=int(parameters.get("lumbar_vertebrae", 5)),
            sagittal_contrasts=tuple(parameters.get("sagittal_contrasts", ("T2",))),
            series=tuple(parameters.get("series", SERIES)),
        )
