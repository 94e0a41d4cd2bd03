"""The spine hanging protocol: which series go in which viewport when a study opens.

Rules, first match wins:

1. MR with a sagittal and an axial series: sagittal T2 left, axial T2 right (all stacks of the
   axial series, e.g. one angled stack per disc, scroll as one).
2. Projection images only (CR/DX radiographs): frontal (AP/PA) and lateral side by side, the
   flexion / neutral / extension views grouped after them (:func:`radiograph_hanging`); a
   single radiograph alone.
3. A volumetric stack (CT, 3D MR) as deep as a good part of its field of view: its acquired
   slices (shown as themselves: annotations go on acquired images) and reformats in the two
   other planes, in the order axial, sagittal, coronal.
4. A thinner volumetric stack (the real CT: 20 slices, 40 mm of a 500 mm field): its acquired
   slices alone; its reformats would be strips a few pixels high. View > Multiplanar
   reformats (:func:`reformat_hanging`) still puts them beside it on request.
5. Otherwise: the first series in series order, up to four.

A study beside its prior (:func:`prior_hanging`): each of the current's viewports (up to
two) beside the prior's viewport of the same kind (sagittal with sagittal, AP with AP), the
current left (``newest_right``: the prior left).
"""

from __future__ import annotations

from dataclasses import dataclass

from spineviewer.dicom import Series, Stack, Study
from spineviewer.viewing.mpr import is_volumetric


@dataclass(frozen=True)
class ViewportSpec:
    """What one viewport shows: stacks of one series, or a reformat of one stack."""

    stacks: tuple[Stack, ...]
    mpr_plane: str | None = None
    label: str = ""


@dataclass(frozen=True)
class Hanging:
    """A layout (rows, cols), a spec per viewport in reading order, and why."""

    layout: tuple[int, int]
    viewports: tuple[ViewportSpec, ...]
    reason: str


#: A volume is hung with reformats when its depth is at least this fraction of its in-plane
#: field of view (the lumbar CT phantom: 215 mm deep, 202 mm wide); thinner, the reformats
#: are strips (the real CT: 40 mm of 500 mm, reformats 20-40 px high in a 1x3 layout).
MIN_SLAB_FRACTION = 0.35
PLANES = ("axial", "sagittal", "coronal")


def slab_extent(stack: Stack) -> tuple[float, float]:
    """(depth, field) of a stack in mm: the distance its slices span, and the smaller side of
    its in-plane field of view."""
    spacing = stack.slice_spacing or 0.0
    pixel = stack.pixel_spacing or (1.0, 1.0)
    first = stack.first.instance
    field = min(first.rows * pixel[0], first.columns * pixel[1])
    return len(stack) * spacing, field


def reformat_hanging(stack: Stack) -> Hanging:
    """A volumetric stack in 1x3: its acquired slices in their own plane's viewport (as
    themselves, so annotations go on them), reformats in the two other planes."""
    acquired = stack.plane if stack.plane in PLANES else None
    specs = tuple(
        ViewportSpec((stack,), label=p)
        if p == acquired
        else ViewportSpec((stack,), mpr_plane=p, label=f"MPR {p}")
        for p in PLANES
    )
    what = f"acquired {acquired}" if acquired else "reformatted"
    others = ", ".join(f"{p} reformat" for p in PLANES if p != acquired)
    return Hanging((1, 3), specs, f"3D volume ({len(stack)} slices): {what} slices, {others}")


def _series_plane(series: Series) -> str:
    planes = {stack.plane for stack in series.stacks}
    return planes.pop() if len(planes) == 1 else "mixed"


def _pick(candidates: list[Series], weighting: str) -> Series:
    """The first series whose description names ``weighting`` (e.g. T2), else the first."""
    for series in candidates:
        if weighting in series.description.upper().replace("-", "").split():
            return series
    for series in candidates:
        if weighting in series.description.upper():
            return series
    return candidates[0]


def _by_number(study: Study) -> list[Series]:
    return sorted(study.series, key=lambda s: (s.number is None, s.number or 0))


def choose_hanging(study: Study) -> Hanging:
    """The hanging for ``study`` (see the module docstring for the rules)."""
    series = _by_number(study)
    if not series:
        return Hanging((1, 1), (), "empty study")
    sagittal = [s for s in series if _series_plane(s) == "sagittal"]
    axial = [s for s in series if _series_plane(s) == "axial"]
    if series[0].modality == "MR" and sagittal and axial:
        sag, ax = _pick(sagittal, "T2"), _pick(axial, "T2")
        return Hanging(
            (1, 2),
            (ViewportSpec(sag.stacks, label="sagittal"), ViewportSpec(ax.stacks, label="axial")),
            "lumbar MR: sagittal T2 left, axial T2 right",
        )
    if all(_series_plane(s) == "projection" for s in series):
        return radiograph_hanging(series)
    volumetric = [st for s in series for st in s.stacks if is_volumetric(st)]
    if volumetric:
        stack = max(volumetric, key=len)
        depth, field = slab_extent(stack)
        if depth >= MIN_SLAB_FRACTION * field:
            return reformat_hanging(stack)
        return Hanging(
            (1, 1),
            (ViewportSpec((stack,), label=stack.plane),),
            f"thin {stack.plane} slab ({len(stack)} slices, {depth:.0f} mm of a {field:.0f} mm "
            "field): acquired images alone (reformats: View > Multiplanar reformats)",
        )
    shown = series[:4]
    layout = {1: (1, 1), 2: (1, 2)}.get(len(shown), (2, 2))
    specs = tuple(ViewportSpec(s.stacks, label=s.description) for s in shown)
    return Hanging(layout, specs, f"first {len(shown)} series in series order")


# -- radiographs ---------------------------------------------------------------------------

#: ViewPosition (0018,5101) values of a frontal and of a lateral projection.
FRONTAL_POSITIONS = frozenset({"AP", "PA"})
LATERAL_POSITIONS = frozenset({"LL", "RL", "LAT", "LATERAL", "LLD", "RLD"})
#: SeriesDescription words that name the projection, and the dynamic (functional) phases.
FRONTAL_WORDS = frozenset({"AP", "PA", "FRONTAL"})
LATERAL_WORDS = frozenset({"LAT", "LATERAL", "LL", "RL"})
PHASE_WORDS: dict[str, str] = {
    "FLEX": "flexion",
    "FLEXION": "flexion",
    "NEUTRAL": "neutral",
    "EXT": "extension",
    "EXTENSION": "extension",
}
#: Dynamic views in reading order.
PHASES: tuple[str, ...] = ("flexion", "neutral", "extension")
#: Layout by the number of viewports shown (more than four: the first four).
_LAYOUT_OF: dict[int, tuple[int, int]] = {1: (1, 1), 2: (1, 2), 3: (1, 3), 4: (2, 2)}


def _words(text: str) -> set[str]:
    cleaned = "".join(ch if ch.isalnum() else " " for ch in text.upper())
    return set(cleaned.split())


def radiograph_view(series: Series) -> str:
    """``"frontal"`` (AP / PA), ``"lateral"`` or ``""`` (unknown) for a radiograph series:
    from its ViewPosition, else its description's words, else its PatientOrientation (a
    frontal image's rows run left-right, a lateral's front-back)."""
    first = series.stacks[0].first if series.stacks else None
    position = first.instance.view_position if first is not None else ""
    if position in FRONTAL_POSITIONS:
        return "frontal"
    if position in LATERAL_POSITIONS:
        return "lateral"
    words = _words(series.description)
    if words & LATERAL_WORDS:
        return "lateral"
    if words & FRONTAL_WORDS:
        return "frontal"
    orientation = first.patient_orientation if first is not None else None
    if orientation and orientation[0]:
        row = orientation[0][0]
        return "frontal" if row in "LR" else "lateral" if row in "AP" else ""
    return ""


def dynamic_phase(series: Series) -> str:
    """``"flexion"``, ``"neutral"``, ``"extension"`` from the description's words, or ``""``."""
    found = [PHASE_WORDS[w] for w in _words(series.description) if w in PHASE_WORDS]
    return found[0] if found else ""


def radiograph_hanging(series: list[Series]) -> Hanging:
    """Radiographs: the first frontal and the first lateral side by side, then the dynamic
    views (flexion, neutral, extension) grouped after them; at most four viewports (neutral
    left out first); one viewport for a single view."""
    static: list[tuple[str, Series]] = []
    dynamic: dict[str, Series] = {}
    for s in series:
        phase = dynamic_phase(s)
        if phase:
            dynamic.setdefault(phase, s)
            continue
        view = radiograph_view(s)
        if view and view not in {v for v, _ in static}:
            static.append((view, s))
    static.sort(key=lambda item: item[0] != "frontal")
    phases = [p for p in PHASES if p in dynamic]
    if len(static) + len(phases) > 4 and "neutral" in phases:
        phases.remove("neutral")
    chosen = [(("AP" if v == "frontal" else v), s) for v, s in static] + [
        (p, dynamic[p]) for p in phases
    ]
    chosen = chosen[:4]
    if len(chosen) <= 1:
        only = chosen[0][1] if chosen else series[0]
        return Hanging(
            (1, 1), (ViewportSpec(only.stacks, label="radiograph"),), "radiograph: single view"
        )
    specs = tuple(ViewportSpec(s.stacks, label=label) for label, s in chosen)
    names = ", ".join(label for label, _ in chosen)
    return Hanging(_LAYOUT_OF[len(specs)], specs, f"radiographs side by side: {names}")


# -- a study beside its prior --------------------------------------------------------------


def _study_date(study: Study) -> str:
    date = study.info.get("StudyDate", "")
    return f"{date[:4]}-{date[4:6]}-{date[6:8]}" if len(date) == 8 else (date or "no date")


def newer_first(a: Study, b: Study) -> tuple[Study, Study]:
    """``(current, prior)``: the study with the later StudyDate (and StudyTime) first."""

    def when(study: Study) -> tuple[str, str]:
        return study.info.get("StudyDate", ""), study.info.get("StudyTime", "")

    return (b, a) if when(b) > when(a) else (a, b)


def prior_hanging(current: Study, prior: Study, newest_right: bool = False) -> Hanging:
    """``current`` beside ``prior``: each of the current's hanging viewports (up to two, one
    row each) with the prior's of the same label (sagittal, axial, AP, lateral ...; else the
    prior's next unused one; an empty viewport when the prior has none left), the current on
    the left unless ``newest_right``."""
    mine = choose_hanging(current).viewports[:2]
    theirs = list(choose_hanging(prior).viewports)
    used: set[int] = set()
    specs: list[ViewportSpec] = []
    for spec in mine:
        match = next(
            (i for i, s in enumerate(theirs) if i not in used and s.label == spec.label), None
        )
        if match is None:
            match = next((i for i in range(len(theirs)) if i not in used), None)
        if match is None:
            other = ViewportSpec((), label=f"prior {spec.label}: none")
        else:
            used.add(match)
            other = theirs[match]
        specs += [other, spec] if newest_right else [spec, other]
    side = "right" if newest_right else "left"
    reason = (
        f"current ({_study_date(current)}) vs prior ({_study_date(prior)}): "
        f"the same series side by side, current {side}"
    )
    return Hanging((max(len(mine), 1), 2), tuple(specs), reason)
