"""Which MR series a pipeline step may use: each stack's contrast, and the choice of stack.

The contrast (T1, T2, STIR, PD) of a stack comes from its DICOM header, in this order:

1. an enhanced MR object's ``AcquisitionContrast`` (T1, T2, PROTON_DENSITY);
2. an inversion-recovery sequence with a short inversion time (``ScanningSequence`` IR or
   ``InversionTime`` 80-250 ms): STIR; a long one (FLAIR) stays unknown;
3. the words of the series description and sequence name ("STIR", "TIRM", "T1", "T2", "PD");
4. the timing: TR < 1000 ms and TE < 30 ms: T1; TR >= 1800 ms and TE >= 60 ms: T2;
   TR >= 1800 ms and TE < 40 ms: PD (the textbook weighting rules). A STIR's TR and TE are
   those of a T2 (the inversion pulse makes the difference): a "STIR" description with such
   timing, and no inversion fields (an anonymiser may strip them), stays STIR.

When the description and the timing disagree the timing wins and the disagreement is
reported (a "T2" description on a TR 500 / TE 10 series is a T1 image: the lumbar MR
pipeline puts the note in the findings' warnings). Every image of a stack is read; images that
disagree make the stack's contrast unknown (a series put together from two acquisitions).
Nothing known gives ``None``: a model restricted to some contrasts does not run on such a
series (it would guess), an unrestricted one does.

:func:`choose` picks, for a task, the stack a model accepts: T2 first (the disc papers' and the
demo models' contrast), then the most slices.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from spineviewer.ai.registry import ModelEntry
from spineviewer.dicom import Instance, Stack

__all__ = ["CONTRASTS", "MrStack", "choose", "contrast_of", "mr_stacks", "preference"]

CONTRASTS: tuple[str, ...] = ("T1", "T2", "STIR", "PD")
#: Inversion times (ms) of a short-tau inversion recovery (STIR) at 0.5-3 T.
STIR_TI_MS = (80.0, 250.0)

_WORDS = (
    ("STIR", re.compile(r"STIR|TIRM|\bIR\b(?!.*FLAIR)")),
    ("PD", re.compile(r"\bPD|PROTON")),
    ("T1", re.compile(r"T1")),
    ("T2", re.compile(r"T2")),
)


@dataclass(frozen=True)
class MrStack:
    """An MR stack with its contrast (None: unknown), how that was found, and any doubt."""

    stack: Stack
    contrast: str | None
    source: str
    note: str = ""
    #: Its BodyPartExamined (None when absent): a model for the lumbar spine does not run on
    #: a knee.
    body_part: str | None = None


def _number(text: str) -> float | None:
    try:
        value = float(text.split("\\")[0])
    except ValueError:
        return None
    return value if value == value and value >= 0 else None  # NaN and negatives: unknown


def _by_timing(tags: dict[str, str]) -> str | None:
    tr = _number(tags.get("RepetitionTime", ""))
    te = _number(tags.get("EchoTime", ""))
    if tr is None or te is None:
        return None
    if tr < 1000 and te < 30:
        return "T1"
    if tr >= 1800 and te >= 60:
        return "T2"
    if tr >= 1800 and te < 40:
        return "PD"
    return None


def _by_words(text: str) -> str | None:
    upper = text.upper()
    return next((name for name, pattern in _WORDS if pattern.search(upper)), None)


def _header_contrast(instance: Instance) -> tuple[str | None, str, str]:
    """(contrast, where it was found, doubt) from one image's header."""
    tags = instance.acquisition
    enhanced = tags.get("AcquisitionContrast", "").upper()
    if enhanced in ("T1", "T2"):
        return enhanced, "AcquisitionContrast", ""
    if enhanced == "PROTON_DENSITY":
        return "PD", "AcquisitionContrast", ""
    ti = _number(tags.get("InversionTime", ""))
    inversion = "IR" in tags.get("ScanningSequence", "").upper().split("\\")
    if ti is not None and ti > 0:
        if STIR_TI_MS[0] <= ti <= STIR_TI_MS[1]:
            return "STIR", "InversionTime", ""
        return None, "InversionTime", f"inversion time {ti:g} ms (not STIR)"
    names = (tags.get("SequenceName", ""), tags.get("PulseSequenceName", ""))
    words = " ".join((instance.series_description, *names))
    named = _by_words(words)
    if inversion and named in (None, "STIR"):
        return "STIR", "ScanningSequence", ""
    timed = _by_timing(tags)
    if named == "STIR" and timed in (None, "T2", "PD"):  # a STIR's long TR and TE look T2
        return "STIR", "series description", ""
    if timed is not None and named is not None and timed != named:
        return timed, "RepetitionTime/EchoTime", f"described as {named} but TR/TE say {timed}"
    if timed is not None:
        return timed, "RepetitionTime/EchoTime", ""
    if named is not None:
        return named, "series description", ""
    return None, "", "no contrast in the header"


def contrast_of(stack: Stack) -> MrStack:
    """The contrast of an MR stack from its images' headers.

    Every image is read, not only the first: a stack whose images disagree (a series put
    together from two acquisitions) has no one contrast, so it is unknown, with the counts in
    the note; otherwise the answer would depend on which file happens to sort first."""
    instances = list({id(f.instance): f.instance for f in stack.frames}.values())
    found = [_header_contrast(instance) for instance in instances]
    counts = Counter(contrast for contrast, _, _ in found)
    part = stack.first.instance.study.get("BodyPartExamined", "").strip() or None
    if len(counts) > 1:
        parts = [f"{contrast or 'unknown'} on {n}" for contrast, n in counts.most_common()]
        note = f"its images differ in contrast ({', '.join(parts)})"
        return MrStack(stack, None, "", note, part)
    contrast, source, note = found[0]
    return MrStack(stack, contrast, source, note, part)


def mr_stacks(stacks: Sequence[Stack]) -> list[MrStack]:
    """The MR stacks with their contrast (a stack whose slices have no usable spacing is kept:
    the step that uses it says which files it had to leave out)."""
    return [contrast_of(s) for s in stacks if s.modality == "MR"]


def preference(candidate: MrStack) -> tuple[bool, int]:
    """Sort key of the stacks a step may use: T2 first, then the most slices."""
    return (candidate.contrast != "T2", -len(candidate.stack))


def choose(candidates: Sequence[MrStack], entries: Sequence[ModelEntry], task: str) -> MrStack:
    """The candidate a ``task`` model accepts (T2 first, then the most slices); the first of
    that order when no model accepts any (the step then says why)."""
    ordered = sorted(candidates, key=preference)
    for candidate in ordered:
        for entry in entries:
            m = entry.manifest
            if not entry.available or m is None or m.task != task:
                continue
            if m.applies_to.matches(
                "MR",
                candidate.stack.plane,
                contrast=candidate.contrast,
                body_part=candidate.body_part,
            ):
                return candidate
    return ordered[0]
