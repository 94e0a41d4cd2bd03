"""The lumbar MR pipeline (docs/SPINE_PIPELINE.md): series, vertebrae, disc levels, disc states,
fractures. Each step is ``pre_process -> predict -> post_process`` on one model.

1. Series (:mod:`spineviewer.ai.mr_series`): each MR stack's contrast from its DICOM header
   (T1 / T2 / STIR / PD); the sagittal stack for the vertebrae and the axial stacks for the
   disc states are the ones the models accept (T2 first, then the most slices). A model never
   runs on a contrast its manifest does not accept; the step says so instead.
2. Vertebrae: every usable sagittal slice through the detector (a slice that cannot be decoded
   or has unusable geometry is left out and named in the warnings), slices fused, bodies
   labelled by order from S1 (:mod:`spineviewer.ai.vertebra_labels`), then the labelling is
   checked (:mod:`spineviewer.ai.label_check`): sacrum in view, gaps, possible transitional
   anatomy; labels a reader must confirm are marked "needs review".
3. Disc levels: a disc exists only between two adjacent bodies, centred midway
   (:func:`spineviewer.geometry.levels.disc_centres`); every axial slice goes to the nearest
   disc within the assignment threshold (:func:`~spineviewer.geometry.levels.default_threshold`)
   and all assignments are reported.
4. Disc states: a crop of the model's physical ROI around the disc centre projected into each
   of its axial slices within :data:`~spineviewer.geometry.levels.AXIAL_MAX_DISTANCE_MM`,
   classified; the probabilities of a level's slices averaged. A disc between bodies whose
   labels need review inherits that review need.
5. Disc contours: each reported disc's posterior margin measured against its bodies' on the
   sagittal slices beside it, and its posterior outline on its axial T2 slices
   (:mod:`spineviewer.ai.pipelines.disc_check`); a state the measurements contradict is
   reported "uncertain" with both.
6. Fractures: sagittal crops around each body T12 to L6 (slices within
   :data:`FRACTURE_MAX_DISTANCE_MM` of its centre), classified normal / fractured, averaged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from spineviewer.ai.contrast_check import disc_to_marrow, looks_t1
from spineviewer.ai.disc_contour_axial import AxialContour, measure_axial
from spineviewer.ai.findings import (
    CONFIDENT,
    UNCERTAIN,
    AxialAssignment,
    DiscFinding,
    VertebraFinding,
    rounded,
    worst,
)
from spineviewer.ai.manifest import ClassificationDecoding, ModelManifest
from spineviewer.ai.mr_series import MrStack, choose, mr_stacks, preference
from spineviewer.ai.pipelines.base import Context, Pipeline, Skip, monochrome1
from spineviewer.ai.pipelines.disc_check import checked as contour_checked
from spineviewer.ai.pipelines.disc_check import disc_contours
from spineviewer.ai.pipelines.fracture_check import checked, column_heights
from spineviewer.ai.pipelines.sagittal_columns import (
    ColumnRead,
    best_read,
    disagreement,
    doubted,
    read_column,
)
from spineviewer.ai.pipelines.sagittal_crops import Classified, classify_near
from spineviewer.ai.preprocessing import box_to_image, crop_box_px, roi_crop
from spineviewer.ai.runtime import ModelSession
from spineviewer.ai.usable import UsableSlices, decode_reason, usable_slices
from spineviewer.ai.vertebra_labels import Labelling
from spineviewer.dicom import Stack, StackPixels
from spineviewer.geometry.levels import (
    AXIAL_MAX_DISTANCE_MM,
    assign_slices_to_levels,
    default_threshold,
    disc_centres,
)

__all__ = ["FRACTURE_LEVELS", "FRACTURE_MAX_DISTANCE_MM", "PIPELINE", "LumbarMrState"]

#: An ROI box in pixel edge coordinates: x_min, y_min, x_max, y_max.
Box = tuple[float, float, float, float]

#: Sagittal slices this close to a body's centre are cropped for the fracture model.
FRACTURE_MAX_DISTANCE_MM = 8.0
#: The vertebrae the lumbar pipeline classifies for fractures (the thoracolumbar junction and
#: the lumbar spine; the demo model saw no others).
FRACTURE_LEVELS = ("T12", "L1", "L2", "L3", "L4", "L5", "L6")
#: The labels a disc-state model has (axial or sagittal).
DISC_FINDS = ("normal", "bulge", "herniation")
#: Sagittal slices this close (left-right) to a disc centre are cropped for the sagittal
#: disc-state model (a paracentral herniation shows beside the midline).
SAGITTAL_DISC_MAX_DISTANCE_MM = 12.0


@dataclass
class LumbarMrState:
    """What the lumbar MR steps hand each other for one study."""

    sagittal: MrStack | None = None
    #: The other sagittal contrasts in ``sagittal``'s frame of reference (T1, STIR): the
    #: vertebrae are read on each (:mod:`~spineviewer.ai.pipelines.sagittal_columns`).
    other_sagittal: list[MrStack] = field(default_factory=list)
    #: The series the vertebrae were reported on (``sagittal``'s unless another read won).
    column_uid: str | None = None
    axial: list[MrStack] = field(default_factory=list)
    #: The usable sagittal slices, decoded (the detector's and the fracture model's input).
    slices: UsableSlices | None = None
    labelling: Labelling | None = None
    centres: dict[str, np.ndarray] = field(default_factory=dict)
    #: Level -> (stack, slice index, distance mm) of the axial slices to classify, nearest first.
    axial_slices: dict[str, list[tuple[Stack, int, float]]] = field(default_factory=dict)
    #: The levels some axial slice was assigned to (the others lie outside the axial images).
    covered: set[str] = field(default_factory=set)


def select_series(ctx: Context, state: LumbarMrState) -> None:
    stacks = mr_stacks(ctx.stacks())
    if not stacks:
        raise Skip("no MR series in the study")
    if all(s.stack.pixel_spacing is None for s in stacks):
        raise Skip(
            "the MR series have no pixel spacing (PixelSpacing, or PixelMeasuresSequence in "
            "enhanced MR): nothing can be measured in mm"
        )
    sagittal = [s for s in stacks if s.stack.plane == "sagittal"]
    if not sagittal:
        planes = ", ".join(sorted({s.stack.plane for s in stacks}))
        raise Skip(f"no sagittal MR series (the MR series are {planes})")
    state.sagittal = choose(sagittal, ctx.entries, "detection")
    frame = state.sagittal.stack.first.instance.frame_of_reference_uid
    seen = {state.sagittal.contrast}
    for other in sorted(sagittal, key=preference):
        if (
            other.contrast not in seen
            and frame
            and (other.stack.first.instance.frame_of_reference_uid == frame)
        ):
            seen.add(other.contrast)
            state.other_sagittal.append(other)
    state.axial = [s for s in stacks if s.stack.plane == "axial"]
    for chosen in (state.sagittal, *state.axial):
        if chosen.note:  # why the contrast is not what its name says, or unknown
            ctx.warnings.append(f"{_series_name(chosen.stack)}: {chosen.note}")
    if not state.axial:
        ctx.warnings.append(
            "no axial MR series: disc states only from the sagittal slices (less sure)"
        )


def _series_name(stack: Stack) -> str:
    """'sagittal series "SAG T2"' (its number when it has no description)."""
    instance = stack.first.instance
    if instance.series_description:
        return f'{stack.plane} series "{instance.series_description}"'
    if instance.series_number is not None:
        return f"{stack.plane} series {instance.series_number}"
    return f"{stack.plane} series"


def detect_vertebrae(ctx: Context, state: LumbarMrState) -> None:
    """The vertebrae read on the chosen sagittal series and on each other sagittal contrast
    of its frame of reference: the read whose labels passed their checks is reported (then
    the one with more bodies, then the chosen series'), every label "needs review" when
    another read numbers a body they share differently. The crop models keep the chosen
    series' slices.

    On 30 held-out wide-profile phantoms of the training generator (T2, T1 and STIR in some):
    bodies identified 186 -> 192 of 192 in the standard studies, axial images on a wrong level
    20 -> 0 of 535, disc states 108 -> 113 of 143; no study's labels wrong and unflagged.
    (Reporting the chosen series' read whenever two reads disagree gave 186 and 20: the
    better read is not always the chosen contrast's.)"""
    if state.sagittal is None:
        raise Skip("no sagittal series")
    reads: list[ColumnRead] = []
    failed: Skip | None = None
    for mr in (state.sagittal, *state.other_sagittal):
        what = "sagittal series" if mr is state.sagittal else _series_name(mr.stack)
        try:
            reads.append(read_column(ctx, mr, what))
        except Skip as exc:
            failed = failed or exc  # the chosen series' reason, if it failed
    if not reads:
        raise failed or Skip("no sagittal series")
    primary = reads[0]
    if primary.mr is state.sagittal:
        ctx.warnings += primary.warnings
        state.slices = primary.usable
    elif failed is not None:
        ctx.warnings.append(f"sagittal series: {failed}")
    read, why = best_read(reads)
    if read.mr is not state.sagittal:  # the chosen series' warnings are in already
        ctx.warnings += [*read.warnings, *why]
    others = [r for r in reads if r is not read]
    read = doubted(read, [d for r in others if (d := disagreement(read, r)) is not None])
    check, usable, found, stack = read.review, read.usable, read.found, read.mr.stack
    labelling = check.labelling
    state.labelling = labelling
    state.column_uid = stack.series_uid
    ctx.labelling.append(check.result)
    ctx.warnings += [f"vertebra labels: {w}" for w in check.warnings]
    # every body is reported on the middle slice (where it was labelled, so a reader sees the
    # whole column on one image); its box is the one of the slice it was best seen on, which
    # has the same pixel grid (the slices of a stack are parallel)
    middle = stack.frames[usable.indices[len(usable.indices) // 2]].instance.sop_instance_uid
    boxes = {index: box for index, (_, box) in zip(usable.indices, found, strict=True)}
    for body in reversed(labelling.bodies):  # top to bottom
        if body.centre_mm is None:
            continue
        status, reasons = check.review.get(body.label, (check.result.status, ()))
        ctx.vertebrae.append(
            VertebraFinding(
                label=body.label,
                score=round(body.score, 4),
                series_uid=stack.series_uid,
                sop_instance_uid=middle,
                box_px=rounded(box_to_image(boxes[body.slice_index], body.box)),
                centre_mm=rounded(body.centre_mm),
                model_id=read.model_id,
                review=status,
                review_reasons=reasons,
            )
        )
    _check_contrast(ctx, state)


def _check_contrast(ctx: Context, state: LumbarMrState) -> None:
    """The image's own look against its header's T2 / STIR
    (:mod:`spineviewer.ai.contrast_check`): a mismatch is a warning, and makes every label
    uncertain when the vertebrae were read on that series (the detector ran on a contrast it
    may not know)."""
    usable, sagittal = state.slices, state.sagittal
    bodies = _column(ctx, state)
    if usable is None or sagittal is None or sagittal.contrast not in ("T2", "STIR"):
        return
    if len(bodies) < 2:
        return
    mean = np.mean([b.centre_mm for b in bodies], axis=0)
    nearest = int(np.argmin([abs(float(p.distance(mean))) for p in usable.planes]))
    ratios = disc_to_marrow(
        usable.values[nearest],
        usable.planes[nearest],
        {b.label: b.centre_mm for b in bodies},
        disc_centres([(b.label, b.centre_mm) for b in bodies]),
    )
    if not looks_t1(ratios):
        return
    doubt = (
        f"the sagittal series is named {sagittal.contrast} but looks T1-weighted (every disc "
        f"darker than the marrow, at most {max(ratios):.2f} of it)"
    )
    ctx.warnings.append(doubt)
    if state.column_uid != sagittal.stack.series_uid:
        return  # the labels were read on another series: only the crop models' input doubts
    ctx.labelling[-1] = replace(
        ctx.labelling[-1],
        status=worst(ctx.labelling[-1].status, UNCERTAIN),
        confidence=round(ctx.labelling[-1].confidence * 0.7, 3),
        reasons=(*ctx.labelling[-1].reasons, doubt),
    )
    ctx.vertebrae[:] = [
        replace(
            v,
            review=worst(v.review, UNCERTAIN),
            review_reasons=(*v.review_reasons, doubt),
        )
        if v in bodies
        else v
        for v in ctx.vertebrae
    ]


def _column(ctx: Context, state: LumbarMrState) -> list[VertebraFinding]:
    """The vertebrae the pipeline reported (on the series it read them on)."""
    if state.column_uid is None:
        return []
    return [v for v in ctx.vertebrae if v.series_uid == state.column_uid]


def disc_levels(ctx: Context, state: LumbarMrState) -> None:
    bodies = _column(ctx, state)
    if len(bodies) < 2:
        raise Skip("fewer than two labelled vertebrae: no disc level")
    centres = disc_centres([(b.label, b.centre_mm) for b in bodies])
    if not centres:
        raise Skip("no two adjacent vertebrae: no disc level")
    state.centres = centres
    limit = default_threshold(centres)
    levels: dict[str, list[tuple[Stack, int, float]]] = {level: [] for level in centres}
    for chosen in state.axial:
        axial = chosen.stack
        usable = usable_slices(axial, ctx.check, decode=False)
        ctx.warnings += usable.warnings("axial series")
        found = assign_slices_to_levels(list(usable.planes), centres, limit)
        for index, a in zip(usable.indices, found, strict=True):
            uid = axial.frames[index].instance.sop_instance_uid
            distance = round(float(a.distance_mm or 0.0), 3)
            ctx.axial_levels.append(AxialAssignment(axial.series_uid, uid, a.level, distance))
            if a.level is not None:
                state.covered.add(a.level)
            if a.level is not None and distance <= AXIAL_MAX_DISTANCE_MM:
                levels[a.level].append((axial, index, distance))
    state.axial_slices = {k: sorted(v, key=lambda t: t[2]) for k, v in levels.items()}


def classify_discs(ctx: Context, state: LumbarMrState) -> None:
    levels = state.axial_slices
    if not levels:
        raise Skip("no disc level found")
    if not any(levels.values()):
        raise Skip("no axial slice passes through a disc")
    session = _disc_session(ctx, state)
    manifest = session.manifest
    accepted = {
        id(s.stack)
        for s in state.axial
        if manifest.applies_to.matches("MR", "axial", contrast=s.contrast, body_part=s.body_part)
    }
    review = {v.label: (v.review, v.review_reasons) for v in _column(ctx, state)}
    readers: dict[int, StackPixels] = {}
    crops: list[np.ndarray] = []
    per_level: dict[str, tuple[slice, list[Box], list[str]]] = {}
    for level, near in levels.items():
        slices = [s for s in near if id(s[0]) in accepted]
        if near and not slices:
            ctx.warnings.append(
                f"disc {level}: not classified: {manifest.id} does not accept the contrast of "
                "its axial slices"
            )
            continue
        if not slices:
            if level in state.covered:  # imaged, but no slice through its middle
                ctx.warnings.append(
                    f"disc {level}: no axial slice within {AXIAL_MAX_DISTANCE_MM:g} mm of its "
                    "centre"
                )
            continue
        start = len(crops)
        boxes: list[Box] = []
        uids: list[str] = []
        for stack, index, _ in slices:
            ctx.check()
            plane = stack.plane_of(index)
            assert plane is not None and stack.pixel_spacing is not None
            row, col = (float(v) for v in plane.to_pixel(state.centres[level]))
            try:
                values = readers.setdefault(id(stack), StackPixels(stack)).slice(index)
            except Exception as exc:  # one undecodable slice must not lose the level
                label = stack.frames[index].label
                ctx.warnings.append(f"disc {level}: {label} left out: {decode_reason(exc, label)}")
                continue
            crops.append(
                roi_crop(manifest, values, (row, col), stack.pixel_spacing, monochrome1(stack))
            )
            boxes.append(rounded(crop_box_px(manifest, (row, col), stack.pixel_spacing)))
            uids.append(stack.frames[index].instance.sop_instance_uid)
        if len(crops) > start:
            per_level[level] = (slice(start, len(crops)), boxes, uids)
    if not crops:
        raise Skip("no axial slice of a disc could be read")
    every = session.classify(np.stack(crops))  # all levels in one batch
    for level, (rows, boxes, uids) in per_level.items():
        finding = _disc_finding(manifest, level, every[rows].mean(axis=0), state, review)
        ctx.discs.append(replace(finding, axial_instances=tuple(uids), roi_boxes_px=tuple(boxes)))


Review = dict[str, tuple[str, tuple[str, ...]]]


def _disc_finding(
    manifest: ModelManifest,
    level: str,
    probs: np.ndarray,
    state: LumbarMrState,
    review: Review,
    view: str = "axial",
) -> DiscFinding:
    """One disc's finding: the state of highest probability; the review of its two bodies'
    labels, and "uncertain" when the top probability is under the manifest's
    ``min_confidence``."""
    names = manifest.label_names
    upper, lower = level.split("-")
    statuses = [review.get(upper, (CONFIDENT, ())), review.get(lower, (CONFIDENT, ()))]
    decoding = manifest.decoding
    if isinstance(decoding, ClassificationDecoding) and decoding.unsure(probs):
        limit = decoding.min_confidence
        statuses.append(
            (UNCERTAIN, (f"the disc model is not sure ({max(probs):.2f} < {limit:.2f})",))
        )
    reasons = tuple(dict.fromkeys(r for _, rs in statuses for r in rs))
    return DiscFinding(
        level=level,
        state=names[int(np.argmax(probs))],
        probabilities={n: round(float(p), 4) for n, p in zip(names, probs, strict=True)},
        centre_mm=rounded(tuple(state.centres[level])),
        axial_instances=(),
        model_id=manifest.id,
        review=worst(*(s for s, _ in statuses)),
        review_reasons=reasons,
        view=view,
    )


def _disc_session(ctx: Context, state: LumbarMrState) -> ModelSession:
    """The disc model for the axial stacks with a slice through a disc: one that accepts their
    T2 first, then their other contrasts (a study with axial T2 and axial T1, or a T1-weighted
    localiser, still gets its T2 discs classified; only the stacks the model accepts are
    used). Skip with the first contrast's reason when no model accepts any of them."""
    near = {id(stack) for slices in state.axial_slices.values() for stack, _, _ in slices}
    kinds = {(s.contrast, s.body_part) for s in state.axial if id(s.stack) in near}
    skipped: Skip | None = None
    for contrast, part in sorted(kinds, key=lambda k: (k[0] != "T2", k[0] is None, str(k))):
        try:
            return ctx.session(
                "classification", "MR", "axial", contrast=contrast, body_part=part, finds=DISC_FINDS
            )
        except Skip as exc:
            skipped = skipped or exc
    assert skipped is not None  # classify_discs runs only with a slice near a disc
    raise skipped


def _sagittal_classifier(ctx: Context, sagittal: MrStack, finds: tuple[str, ...]) -> ModelSession:
    """The classifier of crops of this sagittal series that has the labels ``finds``."""
    return ctx.session(
        "classification",
        "MR",
        "sagittal",
        contrast=sagittal.contrast,
        body_part=sagittal.body_part,
        finds=finds,
    )


def classify_fractures(ctx: Context, state: LumbarMrState) -> None:
    usable = state.slices
    sagittal = state.sagittal
    if usable is None or sagittal is None:
        raise Skip("no sagittal series")
    bodies = [v for v in _column(ctx, state) if v.label in FRACTURE_LEVELS]
    if not bodies:
        raise Skip("no labelled lumbar or thoracic vertebra")
    session = _sagittal_classifier(ctx, sagittal, ("fractured",))
    centres = {v.label: np.asarray(v.centre_mm, dtype=np.float64) for v in bodies}
    found = classify_near(session, usable, centres, FRACTURE_MAX_DISTANCE_MM, ctx.check)
    names = session.class_names
    column = _column(ctx, state)
    heights = column_heights(usable, column)
    order = [v.label for v in sorted(column, key=lambda v: float(v.centre_mm[2]))]
    updated = {}
    for finding in bodies:
        if finding.label not in found:
            continue
        probs = found[finding.label].probabilities
        best = int(np.argmax(probs))
        fractured = names.index("fractured") if "fractured" in names else best
        probability = round(float(probs[fractured]), 4)
        updated[finding.label] = checked(finding, names[best], probability, heights, order)
    ctx.vertebrae[:] = [updated.get(v.label, v) if v in bodies else v for v in ctx.vertebrae]


def classify_discs_sagittal(ctx: Context, state: LumbarMrState) -> None:
    """Every lumbar disc's state from the sagittal slices near its centre, with a sagittal
    disc-state model. A disc the axial step classified gets both views' probabilities pooled
    (:func:`pooled`; its ``sagittal_instances`` say so; the view stays "axial"); one no axial
    slice reached gets the sagittal state alone (``view="sagittal"``).

    Why both: on the second generator the axial model alone gave 84 of 184 disc states, the
    mean of both views 107; on held-out phantoms of the training generator 100 -> 106 of 143
    (wide profile) and 91 -> 95 of 100 (standard). The two views fail differently (the axial
    model over-calls herniation, the sagittal one misses it).
    """
    usable = state.slices
    sagittal = state.sagittal
    lumbar = {level: c for level, c in state.centres.items() if level.startswith("L")}
    if usable is None or sagittal is None or not lumbar:
        return
    session = _sagittal_classifier(ctx, sagittal, DISC_FINDS)
    found = classify_near(session, usable, lumbar, SAGITTAL_DISC_MAX_DISTANCE_MM, ctx.check)
    review = {v.label: (v.review, v.review_reasons) for v in _column(ctx, state)}
    axial = {d.level: i for i, d in enumerate(ctx.discs)}
    # a fused state must pass both models' thresholds (min_confidence)
    manifests = (session.manifest, _disc_session(ctx, state).manifest) if axial else ()
    for level, result in found.items():
        if level in axial:
            ctx.discs[axial[level]] = _fused(
                ctx.discs[axial[level]], manifests, result, state, review
            )
            continue
        finding = _disc_finding(
            session.manifest, level, result.probabilities, state, review, "sagittal"
        )
        ctx.discs.append(replace(finding, sagittal_instances=result.instances))
    order = list(state.centres)
    ctx.discs.sort(key=lambda d: order.index(d.level) if d.level in order else len(order))


def pooled(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Two views' class probabilities as one: their product, renormalised (log-linear
    pooling: each view's evidence counts, as for independent observations; where the views
    disagree the result is less sure than either).

    Chosen over the mean on held-out phantoms of the training generator (30 wide-profile
    studies, 140 discs, at the shipped 0.55 threshold): 122 right instead of 116, coverage
    0.96 instead of 0.86, top-label ECE 0.078 instead of 0.158 (the mean of two calibrated
    models is underconfident: a disc both call herniated at 0.7 stays at 0.7). Checked
    afterwards on the second generator: 128 of 173 instead of 108, ECE 0.096 instead of 0.144.
    """
    product = np.clip(a, 1e-9, None) * np.clip(b, 1e-9, None)
    return product / product.sum()


def _fused(
    disc: DiscFinding,
    manifests: Sequence[ModelManifest],
    result: Classified,
    state: LumbarMrState,
    review: Review,
) -> DiscFinding:
    """``disc`` (axial) with its and the sagittal model's probabilities :func:`pooled`
    (``manifests``: the sagittal model's first, then the axial one's; the review is the
    worst either model's threshold gives)."""
    names = manifests[0].label_names
    if set(names) != set(disc.probabilities):  # models of other classes: keep the axial one
        return disc
    axial = np.array([disc.probabilities[n] for n in names], dtype=np.float64)
    both = pooled(axial, np.asarray(result.probabilities, dtype=np.float64))
    each = [_disc_finding(m, disc.level, both, state, review) for m in manifests]
    return replace(
        disc,
        state=each[0].state,
        probabilities=each[0].probabilities,
        review=worst(*(f.review for f in each)),
        review_reasons=tuple(dict.fromkeys(r for f in each for r in f.review_reasons)),
        sagittal_instances=result.instances,
    )


def check_disc_contours(ctx: Context, state: LumbarMrState) -> None:
    """Every reported lumbar disc's state (L1-L2 down) checked against its measured posterior
    margin (:mod:`~spineviewer.ai.pipelines.disc_check`): on the usable slices of the chosen
    sagittal series with the reported vertebrae's centres, and on its axial T2 slices (the
    ones assigned to it, :mod:`~spineviewer.ai.disc_contour_axial`). T12-L1 is left
    unchecked: the conus medullaris lies against it, darker than the fluid around it on T2, so
    the disc's margin cannot be told from the canal's contents by signal."""
    usable = state.slices
    lumbar = [d.level for d in ctx.discs if d.level.startswith("L")]
    if not lumbar:
        return
    contours = {} if usable is None else disc_contours(usable, _column(ctx, state), lumbar)
    outlines = _axial_outlines(ctx, state, lumbar)
    ctx.discs[:] = [
        contour_checked(d, contours.get(d.level), outlines.get(d.level)) if d.level in lumbar else d
        for d in ctx.discs
    ]


def _axial_outlines(
    ctx: Context, state: LumbarMrState, levels: Sequence[str]
) -> dict[str, AxialContour]:
    """Each of ``levels``' posterior outline on its axial T2 slices (those within
    :data:`~spineviewer.geometry.levels.AXIAL_MAX_DISTANCE_MM` of its centre); levels without
    such a slice, or not measurable on them, are left out."""
    t2 = {id(s.stack) for s in state.axial if s.contrast == "T2"}
    readers: dict[int, StackPixels] = {}
    found: dict[str, AxialContour] = {}
    for level in levels:
        images = []
        for stack, index, _ in state.axial_slices.get(level, []):
            plane = stack.plane_of(index)
            if id(stack) not in t2 or plane is None:
                continue
            ctx.check()
            try:
                values = readers.setdefault(id(stack), StackPixels(stack)).slice(index)
            except Exception:  # an undecodable slice: the disc step named it already
                continue
            images.append((values, plane))
        outline = measure_axial(images, state.centres[level]) if images else None
        if outline is not None:
            found[level] = outline
    return found


PIPELINE: Pipeline[LumbarMrState] = Pipeline(
    name="lumbar MR",
    applies_to="MR studies of the lumbar spine with a sagittal series (axial for disc states)",
    new_state=LumbarMrState,
    steps=(
        ("series", select_series),
        ("vertebrae", detect_vertebrae),
        ("disc levels", disc_levels),
        ("disc states", classify_discs),
        ("disc states (sagittal)", classify_discs_sagittal),
        ("disc contours", check_disc_contours),
        ("fractures", classify_fractures),
    ),
)
