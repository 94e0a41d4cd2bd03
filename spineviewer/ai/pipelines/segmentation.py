"""The spine segmentation pipeline: a label map from a sliding-window segmentation model, then
the vertebrae, their labels' check and the disc levels from it (docs/segmentation.md).

Which runs where: a segmentation model runs on a series it accepts (its manifest's
``applies_to``: a CT model on axial CT) when no other pipeline reads that series' vertebrae.
On a sagittal MR series the detector stays the default (the lumbar MR pipeline): the
segmentation model reads it only when no detection model the analysis is given accepts it:
the user chose the segmentation model (the ``vertebrae`` setting, ``SPINEVIEWER_VERTEBRAE``,
``--vertebrae segmentation``: :func:`chosen_models` leaves out the detectors a segmentation
model stands in for), or it is the only model installed for that series. The vertebrae it
gives record the segmentation model's id (``VertebraFinding.model_id``; the model is in
``Findings.models`` like every model that ran, and its label map in ``Findings.label_maps``):
:func:`~spineviewer.ai.segmentation_findings.vertebrae_methods` says, from the findings alone,
which method read each series' vertebrae.

1. Series: the stack a segmentation model accepts (CT before MR, then the most slices).
2. Label map: :func:`~spineviewer.ai.sliding_window.segment` on the series as a volume.
3. Vertebrae: :func:`~spineviewer.ai.segmentation_findings.column_from_mask`, checked as the
   detector's column is (sacrum, gaps, spacing), each on the image nearest its centre.
4. Disc levels: the disc centres from the mask; on MR the lumbar MR pipeline's own steps
   assign the axial slices and classify the disc states; on CT every slice of the series
   itself is assigned to its nearest disc (:func:`~spineviewer.geometry.levels.
   assign_slices_to_levels`), as axial MR slices are.

The label map itself goes on with the findings (:attr:`~spineviewer.ai.findings.Findings.
label_maps`, the array in memory only, through the context's ``label_maps``) to the viewer's
label-map layer and the report's per-label volumes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spineviewer import config
from spineviewer.ai.findings import AxialAssignment, LabelMapFinding
from spineviewer.ai.mr_series import mr_stacks
from spineviewer.ai.pipelines import lumbar_mr
from spineviewer.ai.pipelines.base import Context, Pipeline, Skip
from spineviewer.ai.registry import ModelEntry, best_for
from spineviewer.ai.segmentation_findings import MaskColumn, column_from_mask
from spineviewer.ai.sliding_window import LabelMap, segment
from spineviewer.ai.usable import usable_slices
from spineviewer.dicom import Stack, load_volume
from spineviewer.geometry.levels import assign_slices_to_levels, default_threshold

__all__ = ["PIPELINE", "SegmentationState", "chosen_models", "chosen_series", "vertebrae_choice"]

#: Modalities a spine segmentation model is looked for, in order of preference.
MODALITIES = ("CT", "MR")


def vertebrae_choice(choice: str | None = None) -> str:
    """What reads the vertebrae: ``choice`` (``--vertebrae``), else the ``vertebrae`` setting
    ($SPINEVIEWER_VERTEBRAE, the config file), else ``detector``. A choice or a variable that
    is none of :data:`~spineviewer.config.VERTEBRAE_METHODS` raises ValueError naming it; a
    wrong value in the config file is a logged warning and ignored."""
    known = ", ".join(config.VERTEBRAE_METHODS)
    if not choice:
        settings = config.load()
        env = config.SETTINGS["vertebrae"].env
        wrong = [p for p in settings.problems if p.setting == "vertebrae" and p.where == env]
        if wrong:
            raise ValueError(f"{wrong[0]}; choose one of {known}")
        return settings.vertebrae
    value = choice.strip().lower()
    if value not in config.VERTEBRAE_METHODS:
        raise ValueError(f"unknown vertebrae method {choice!r}; choose one of {known}")
    return value


def _segments(entry: ModelEntry) -> bool:
    """Whether ``entry`` is an available sliding-window segmentation model."""
    m = entry.manifest
    return bool(
        entry.available and m is not None and m.task == "segmentation"
        and m.preprocessing.sliding_window
    )  # fmt: skip


def _stands_in_for(segmenter: ModelEntry, detector: ModelEntry) -> bool:
    """Whether ``segmenter`` reads images ``detector`` reads (a modality and a view shared)."""
    assert segmenter.manifest is not None and detector.manifest is not None
    a, b = segmenter.manifest.applies_to, detector.manifest.applies_to
    return bool(set(a.modality) & set(b.modality)) and bool(set(a.view) & set(b.view))


def chosen_models(entries: Sequence[ModelEntry], choice: str | None = None) -> list[ModelEntry]:
    """The models an analysis runs when the vertebrae are read by :func:`vertebrae_choice`
    (``choice``, else the setting): every one of ``entries`` for ``detector``; for
    ``segmentation`` every one but the detection models an available sliding-window
    segmentation model stands in for (one modality and view in common: a sagittal MR
    segmentation model drops the sagittal MR detector, not the radiograph's), so that the
    segmentation pipeline reads those series. Without such a model nothing is left out: the
    detector reads the vertebrae, and the findings say so (:func:`~spineviewer.ai.
    segmentation_findings.vertebrae_methods`). ValueError for a choice that is no method."""
    method = vertebrae_choice(choice)
    kept = list(entries)
    if method == "detector":
        return kept
    segmenters = [e for e in kept if _segments(e)]

    def replaced(entry: ModelEntry) -> bool:
        m = entry.manifest
        if m is None or m.task != "detection":
            return False
        return any(_stands_in_for(s, entry) for s in segmenters)

    return [e for e in kept if not replaced(e)]


@dataclass
class SegmentationState:
    stack: Stack | None = None
    entry: ModelEntry | None = None
    contrast: str | None = None
    label_map: LabelMap | None = None
    column: MaskColumn | None = None


def _detector_reads(ctx: Context, stack: Stack, contrast: str | None, part: str | None) -> bool:
    """Whether the lumbar MR pipeline's detector accepts this sagittal MR series."""
    if stack.modality != "MR" or stack.plane != "sagittal":
        return False
    found = best_for("detection", "MR", "sagittal", ctx.entries, contrast=contrast, body_part=part)
    return found is not None


def chosen_series(ctx: Context) -> tuple[Stack, ModelEntry, str | None] | None:
    """The series to segment and the model for it (None: none)."""
    contrasts = {id(s.stack): (s.contrast, s.body_part) for s in mr_stacks(ctx.stacks())}
    candidates = [s for s in ctx.stacks() if s.modality in MODALITIES and len(s) > 1]
    candidates.sort(key=lambda s: (MODALITIES.index(s.modality), -len(s)))
    for stack in candidates:
        contrast, part = contrasts.get(id(stack), (None, None))
        if part is None:
            part = stack.first.instance.study.get("BodyPartExamined", "").strip() or None
        if _detector_reads(ctx, stack, contrast, part):
            continue
        entry = best_for(
            "segmentation",
            stack.modality,
            stack.plane,
            ctx.entries,
            contrast=contrast,
            body_part=part,
        )
        if entry is not None and _segments(entry):
            return stack, entry, contrast
    return None


def select_series(ctx: Context, state: SegmentationState) -> None:
    if not any(
        e.available and e.manifest is not None and e.manifest.task == "segmentation"
        for e in ctx.entries
    ):
        raise Skip("no segmentation model installed")
    found = chosen_series(ctx)
    if found is None:
        raise Skip(
            "no series a segmentation model accepts (a sagittal MR series the detector reads "
            "is left to the lumbar MR pipeline)"
        )
    state.stack, state.entry, state.contrast = found


def label_map(ctx: Context, state: SegmentationState) -> None:
    if state.stack is None or state.entry is None:
        raise Skip("no series")
    session = ctx.use(state.entry)
    volume = load_volume(state.stack)
    state.label_map = found = segment(session, volume.array, volume.spacing, check=ctx.check)
    labels = found.labels
    ctx.label_maps.append(
        LabelMapFinding(
            state.stack.series_uid,
            found.model_id,
            found.model_version,
            volume.frame_of_reference_uid,
            labels,
            dict(found.values),
            tuple(tuple(float(v) for v in row) for row in volume.affine),
            (labels.shape[0], labels.shape[1], labels.shape[2]),
        ),
    )
    uids = [f.instance.sop_instance_uid for f in state.stack.frames]
    state.column = column_from_mask(
        state.label_map, volume.affine, state.stack.series_uid, uids, ctx.check
    )


def vertebrae(ctx: Context, state: SegmentationState) -> None:
    column = state.column
    if column is None:
        raise Skip("no label map")
    if not column.vertebrae:
        raise Skip("no vertebra in the label map")
    ctx.vertebrae += column.vertebrae
    ctx.labelling.append(column.review.result)
    ctx.warnings += [f"vertebra labels: {w}" for w in column.warnings]


def disc_levels(ctx: Context, state: SegmentationState) -> None:
    column, stack = state.column, state.stack
    if column is None or stack is None:
        raise Skip("no label map")
    if not column.disc_centres:
        raise Skip("no two adjacent vertebrae: no disc level")
    if stack.modality == "MR":
        _mr_disc_states(ctx, state)
        return
    usable = usable_slices(stack, ctx.check, decode=False)
    found = assign_slices_to_levels(
        list(usable.planes), column.disc_centres, default_threshold(column.disc_centres)
    )
    for index, a in zip(usable.indices, found, strict=True):
        uid = stack.frames[index].instance.sop_instance_uid
        distance = round(float(a.distance_mm or 0.0), 3)
        ctx.axial_levels.append(AxialAssignment(stack.series_uid, uid, a.level, distance))


def _mr_disc_states(ctx: Context, state: SegmentationState) -> None:
    """The lumbar MR pipeline's disc steps on the vertebrae from the mask (the axial series'
    slices assigned to the levels, their crops classified)."""
    assert state.stack is not None and state.column is not None
    mr = lumbar_mr.LumbarMrState(column_uid=state.stack.series_uid)
    mr.axial = [s for s in mr_stacks(ctx.stacks()) if s.stack.plane == "axial"]
    mr.labelling = state.column.labelling
    lumbar_mr.disc_levels(ctx, mr)
    mr.centres.update(state.column.disc_centres)  # the discs' own centres where segmented
    lumbar_mr.classify_discs(ctx, mr)


PIPELINE: Pipeline[SegmentationState] = Pipeline(
    name="segmentation",
    applies_to=(
        "series a sliding-window segmentation model accepts (CT; sagittal MR when no detector "
        "reads it)"
    ),
    new_state=SegmentationState,
    steps=(
        ("series", select_series),
        ("label map", label_map),
        ("vertebrae", vertebrae),
        ("disc levels", disc_levels),
    ),
)
