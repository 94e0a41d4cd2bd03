"""The spine hanging protocol: which series go in which viewport when a study opens.

Rules, first match wins:

1. MR with a sagittal and an axial series: sagittal T2 left, axial T2 right (all stacks of the
   axial series, e.g. one angled stack per disc, scroll as one).
2. Projection images only (CR/DX radiographs): one viewport.
3. A volumetric stack (CT, 3D MR): axial, sagittal and coronal reformats side by side.
4. Otherwise: the first series in series order, up to four.
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
        specs = tuple(
            ViewportSpec((stack,), mpr_plane=p, label=f"MPR {p}")
            for p in ("axial", "sagittal", "coronal")
        )
        return Hanging((1, 3), specs, f"3D volume ({len(stack)} slices): axial, sagittal, coronal")
    shown = series[:4]
    layout = {1: (1, 1), 2: (1, 2)}.get(len(shown), (2, 2))
    specs = tuple(ViewportSpec(s.stacks, label=s.description) for s in shown)
    return Hanging(layout, specs, f"first {len(shown)} series in series order")
