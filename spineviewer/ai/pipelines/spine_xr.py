"""The spine X-ray pipeline: the radiograph, vertebrae with their tilts, implants, Cobb angle.

Nothing is reported on a radiograph that is not of the spine:

1. Radiograph: a single-image projection (CR, DX) whose ViewPosition is AP or PA (or absent:
   taken as AP, with a warning), and whose BodyPartExamined, when given, is a part of the
   spine (:data:`SPINE_PARTS`), one that says so before one that says nothing; a hand, a chest
   or a knee is skipped with that reason (a chest PA beside a lumbar AP: the lumbar one).
2. Vertebrae: the keypoints model; each body's corners give its upper and lower endplate
   angles (:mod:`spineviewer.ai.cobb`); bodies labelled by order from the sacral one
   (:func:`~spineviewer.ai.vertebra_labels.assign_labels`, "up" = the top of the image). A
   spine must be seen: at least :data:`MIN_SPINE_BODIES` bodies stacked one above the other
   (:func:`spine_present`); otherwise nothing is reported and the later steps are skipped.
   The labels are checked as on sagittal MR (:func:`check_bodies`): a bottom body at the lower
   edge of the image, no sacral-looking body, a gap, possible transitional anatomy mark them
   for review, with the reasons in the findings' labelling check and warnings.
3. Implants: the detection model for the view; boxes with classes and scores.
4. Cobb angle: between the upper endplate of one body and the lower endplate of one below it,
   the largest over the bodies above the sacrum, with the two end vertebrae.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from spineviewer.ai.cobb import cobb_angle, endplate_tilts
from spineviewer.ai.detection import Detections, detect
from spineviewer.ai.findings import CobbFinding, ImplantFinding, VertebraFinding, rounded
from spineviewer.ai.label_check import LabelReview, check_column, restated
from spineviewer.ai.manifest import DetectionDecoding
from spineviewer.ai.manifest_applies_to import canonical_body_part, canonical_projection
from spineviewer.ai.pipelines.base import Context, Pipeline, Skip, monochrome1
from spineviewer.ai.preprocessing import Letterbox, box_to_image
from spineviewer.ai.runtime import ModelSession
from spineviewer.ai.vertebra_labels import CLASS_NAMES, Body, Labelling, assign_labels
from spineviewer.dicom import Stack, StackPixels

__all__ = [
    "MIN_SPINE_BODIES",
    "PIPELINE",
    "LabelledBody",
    "check_bodies",
    "label_bodies",
    "spine_present",
]

RADIOGRAPH_MODALITIES = ("CR", "DX")
#: BodyPartExamined values (PS3.16 CID 4031 code meanings as stored) that show the spine.
SPINE_PARTS = frozenset(
    {"SPINE", "LSPINE", "TSPINE", "CSPINE", "SSPINE", "WHOLESPINE", "TLSPINE", "LSSPINE",
     "SACRUM", "COCCYX", "ABDOMEN", "PELVIS", "BACK", "TORSO"}
)  # fmt: skip
#: A spine is seen when at least this many bodies are stacked one above the other.
MIN_SPINE_BODIES = 4

Point3 = tuple[float, float, float]


@dataclass
class SpineXrState:
    """What the X-ray steps hand each other for one study."""

    radiograph: Stack | None = None
    values: np.ndarray | None = None
    #: Scaling bounds already computed for the radiograph (both models need them once).
    bounds: dict[Any, tuple[float, float]] = field(default_factory=dict)
    spine: bool = False
    bodies: list[LabelledBody] = field(default_factory=list)
    model_id: str = ""


@dataclass(frozen=True)
class LabelledBody:
    """A body on a radiograph: label, score, box and corners in image pixel edges, centre in
    image index coordinates (row, col), endplate angles (upper, lower)."""

    label: str
    score: float
    box_px: tuple[float, float, float, float]
    corners_px: tuple[tuple[float, float], ...]
    centre_rc: tuple[float, float]
    tilts: tuple[float, float]
    #: How sacral it looks (its S1 class score): what the labelling check reads.
    sacral: float = 0.0


def label_bodies(
    found: Detections, box: Letterbox, threshold: float
) -> tuple[list[LabelledBody], list[str]]:
    """Bodies scoring >= ``threshold`` labelled by order from S1, top to bottom, and warnings."""
    kept = found.take(np.flatnonzero(found.scores >= threshold))
    if kept.keypoints is None:
        raise ValueError("the model gives no corners; it cannot measure tilts")
    rows, cols = box.to_image(kept.centres[:, 0], kept.centres[:, 1])
    sacral = kept.scores_of(CLASS_NAMES.index("S1"))
    labels, warnings = assign_labels(-rows, sacral, kept.scores)
    bodies = []
    for k, label in enumerate(labels):
        if label is None:
            continue
        corners = tuple(
            ((float(x) - box.pad_left) / box.scale, (float(y) - box.pad_top) / box.scale_r)
            for x, y, _ in kept.keypoints[k]
        )
        bodies.append(
            LabelledBody(
                label,
                float(kept.scores[k]),
                box_to_image(box, kept.boxes[k]),
                corners,
                (float(rows[k]), float(cols[k])),
                endplate_tilts(kept.keypoints[k]),
                float(sacral[k]),
            )
        )
    return sorted(bodies, key=lambda b: b.centre_rc[0]), warnings


def _centre_mm(centre_rc: tuple[float, float], spacing: tuple[float, float]) -> Point3:
    """A radiograph's point in the detector plane: ``[x, 0, -y]`` mm from the image origin."""
    row, col = centre_rc
    return (col * spacing[1], 0.0, -row * spacing[0])


def check_bodies(
    stack: Stack, bodies: Sequence[LabelledBody], spacing: tuple[float, float]
) -> tuple[list[LabelledBody], LabelReview]:
    """The labelling check of a radiograph's column (:func:`~spineviewer.ai.label_check.
    check_column`: sacrum in view, gaps, transitional anatomy, image edges), as on sagittal MR,
    and the bodies (top to bottom) relabelled when the check moves the labels."""
    column = Labelling(
        tuple(
            Body(b.label, "", b.score, b.box_px, b.centre_rc, _centre_mm(b.centre_rc, spacing),
                 sacral=b.sacral)
            for b in reversed(bodies)  # bottom first
        )
    )  # fmt: skip
    rows = stack.shape[0]
    edges = (-(rows - 0.5) * spacing[0], 0.5 * spacing[0])  # bottom, top (z up)
    review = check_column(column, stack.series_uid, lambda body: edges)
    labels = {b.centre_px: b.label for b in review.labelling.bodies}
    kept = [replace(b, label=labels[b.centre_rc]) for b in bodies if b.centre_rc in labels]
    return kept, review


def spine_present(bodies: Sequence[LabelledBody]) -> bool:
    """At least :data:`MIN_SPINE_BODIES` bodies, each next one below the last (the rows'
    steps larger than the columns' steps: a column, not a scatter of boxes)."""
    if len(bodies) < MIN_SPINE_BODIES:
        return False
    centres = np.array([b.centre_rc for b in bodies])  # top to bottom
    steps = np.diff(centres, axis=0)
    return bool(np.all(steps[:, 0] > 0) and np.all(np.abs(steps[:, 1]) < steps[:, 0]))


def _part(stack: Stack) -> str:
    """The radiograph's BodyPartExamined as written ("" when absent)."""
    return stack.first.instance.study.get("BodyPartExamined", "").strip()


def _view(stack: Stack) -> str:
    """Its ViewPosition as a projection ("ap" -> "AP", "LL" -> "lateral"; "" when absent)."""
    return canonical_projection(stack.first.instance.view_position)


def select_radiograph(ctx: Context, state: SpineXrState) -> None:
    candidates = [
        s
        for s in ctx.stacks()
        if s.modality in RADIOGRAPH_MODALITIES and s.plane == "projection" and len(s) == 1
    ]
    if not candidates:
        raise Skip("no radiograph (CR or DX) in the study")
    frontal = [s for s in candidates if _view(s) in ("AP", "PA", "")]
    if not frontal:
        views = ", ".join(sorted({s.first.instance.view_position for s in candidates}))
        raise Skip(f"no AP radiograph (views: {views})")
    spine = [s for s in frontal if not _part(s) or canonical_body_part(_part(s)) in SPINE_PARTS]
    if not spine:
        parts = sorted({_part(s) for s in frontal})
        what = "the radiograph is" if len(frontal) == 1 else "the radiographs are"
        raise Skip(f"{what} of {', '.join(parts)}, not of the spine")
    # one whose header says spine before one that says nothing (a chest PA beside a lumbar AP
    # in one study: the lumbar one, whichever series comes first)
    stack = min(spine, key=lambda s: not _part(s))
    if not stack.first.instance.view_position:
        ctx.warnings.append("the radiograph has no ViewPosition: taken as AP")
    state.radiograph = stack
    state.values = StackPixels(stack).slice(0)


def _run(
    ctx: Context, state: SpineXrState, task: str
) -> tuple[Stack, ModelSession, Detections, Letterbox]:
    stack = state.radiograph
    if stack is None or state.values is None:
        raise Skip("no radiograph")
    part = stack.first.instance.study.get("BodyPartExamined", "").upper() or None
    projection = stack.first.instance.view_position or "AP"
    session = ctx.session(task, stack.modality, "projection", projection=projection, body_part=part)
    mono1 = monochrome1(stack)
    ((found, box),) = detect(
        session.manifest,
        session.session,
        [state.values],
        monochrome1=mono1,
        bounds=state.bounds,  # both models: computed once
        spacing=stack.pixel_spacing,  # a manifest's mm_per_pixel needs it
    )
    return stack, session, found, box


def detect_implants(ctx: Context, state: SpineXrState) -> None:
    if not state.spine:
        raise Skip("no spine seen on the radiograph")
    stack, session, found, box = _run(ctx, state, "detection")
    names = session.class_names
    uid = stack.frames[0].instance.sop_instance_uid
    for k in range(len(found)):
        ctx.implants.append(
            ImplantFinding(
                implant_class=names[int(found.classes[k])],
                score=round(float(found.scores[k]), 4),
                sop_instance_uid=uid,
                box_px=rounded(box_to_image(box, found.boxes[k]), 2),
                model_id=session.manifest.id,
            )
        )


def detect_vertebrae(ctx: Context, state: SpineXrState) -> None:
    stack, session, found, box = _run(ctx, state, "keypoints")
    decoding = session.manifest.decoding
    assert isinstance(decoding, DetectionDecoding)
    bodies, warnings = label_bodies(found, box, decoding.score_threshold)
    if not spine_present(bodies):
        raise Skip(
            f"no spine seen on the radiograph ({len(bodies)} vertebra-like boxes, "
            f"not {MIN_SPINE_BODIES} in a column): nothing reported"
        )
    state.spine = True
    ctx.warnings += [f"radiograph vertebrae: {w}" for w in warnings if not restated(w)]
    spacing = stack.pixel_spacing or (1.0, 1.0)
    bodies, check = check_bodies(stack, bodies, spacing)
    ctx.labelling.append(check.result)
    ctx.warnings += [f"radiograph vertebra labels: {w}" for w in check.warnings]
    uid = stack.frames[0].instance.sop_instance_uid
    for b in bodies:
        status, reasons = check.review.get(b.label, (check.result.status, ()))
        ctx.vertebrae.append(
            VertebraFinding(
                label=b.label,
                score=round(b.score, 4),
                series_uid=stack.series_uid,
                sop_instance_uid=uid,
                box_px=rounded(b.box_px, 2),
                centre_mm=rounded(_centre_mm(b.centre_rc, spacing)),
                tilt_deg=(round(b.tilts[0], 3), round(b.tilts[1], 3)),
                corners_px=tuple((round(x, 2), round(y, 2)) for x, y in b.corners_px),
                model_id=session.manifest.id,
                review=status,
                review_reasons=reasons,
            )
        )
    state.bodies = bodies
    state.model_id = session.manifest.id


def measure_cobb(ctx: Context, state: SpineXrState) -> None:
    if not state.spine or state.radiograph is None:
        raise Skip("no spine seen on the radiograph")
    spine = [b for b in state.bodies if b.label != "S1"]
    cobb = cobb_angle([b.label for b in spine], [b.tilts for b in spine])
    if cobb is None:
        raise Skip("fewer than two vertebrae above the sacrum: no Cobb angle")
    ctx.cobb = CobbFinding(
        round(cobb.angle_deg, 2),
        cobb.upper,
        cobb.lower,
        round(cobb.upper_tilt_deg, 2),
        round(cobb.lower_tilt_deg, 2),
        state.radiograph.frames[0].instance.sop_instance_uid,
        state.model_id,
    )


PIPELINE: Pipeline[SpineXrState] = Pipeline(
    name="spine X-ray",
    applies_to="AP radiographs (CR, DX) of the spine",
    new_state=SpineXrState,
    steps=(
        ("radiograph", select_radiograph),
        ("vertebrae", detect_vertebrae),
        ("implants", detect_implants),
        ("Cobb angle", measure_cobb),
    ),
)
