"""The spine hanging protocol: which series go in which viewport when a study opens.

Rules, first match wins:

1. MR with a sagittal and an axial series: sagittal T2 left, axial T2 right (all stacks of the
   axial series, e.g. one angled stack per disc, scroll as one).
2. Projection images only (CR/DX radiographs): one viewport.
3. A volumetric stack (CT, 3D MR) as deep as a good part of its field of view: its acquired
   slices (shown as themselves: annotations go on acquired images) and reformats in the two
   other planes, in the order axial, sagittal, coronal.
4. A thinner volumetric stack (the real CT: 20 slices, 40 mm of a 500 mm field): its acquired
   slices alone; its reformats would be strips a few pixels high. View > Multiplanar
   reformats (:func:`reformat_hanging`) still puts them beside it on request.
5. Otherwise: the first series in series order, up to four.
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
        return Hanging(
            (1, 1), (ViewportSpec(series[0].stacks, label="radiograph"),), "radiograph: single view"
        )
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
