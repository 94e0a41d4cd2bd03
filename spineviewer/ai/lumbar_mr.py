"""The lumbar MR pipeline (SPINE_PIPELINE.md): series, vertebrae, disc levels, disc states,
fractures. Each step is ``pre_process -> predict -> post_process`` on one model.

1. Series: the sagittal MR stack (T2 by its description when there is a choice, then the one
   with most slices) and the axial MR stacks (T2 ones when there are any).
2. Vertebrae: every sagittal slice through the detector, slices fused, bodies labelled by
   order from S1 (:mod:`spineviewer.ai.vertebra_labels`).
3. Disc levels: each disc centre is the midpoint of the centres of its two bodies (on 12
   held-out phantoms 0.95 mm from the true centre on average, at most 1.9 mm; the midpoint of
   the bodies' box edges, SPINE_PIPELINE.md's endplate rule applied to axis-aligned boxes of
   tilted bodies, gave 1.13 mm and 2.6 mm). Every axial slice goes to the nearest disc when
   its centre lies within half the smallest gap between discs (at most 5 mm) of the slice's
   plane (PS3.3 C.7.6.2 geometry,
   :func:`~spineviewer.geometry.levels.assign_slices_to_levels`); all assignments are reported.
4. Disc states: a crop of the model's physical ROI around the disc centre projected into each
   of its axial slices within :data:`AXIAL_MAX_DISTANCE_MM`, classified; the probabilities of a
   level's slices averaged.
5. Fractures: sagittal crops around each body T12 to L5 (slices within
   :data:`FRACTURE_MAX_DISTANCE_MM` of its centre), classified normal / fractured, averaged.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from spineviewer.ai.analysis import Context, Skip, Step
from spineviewer.ai.crops import crop_box_px, roi_crop
from spineviewer.ai.detection import box_to_image, detect
from spineviewer.ai.findings import AxialAssignment, DiscFinding, VertebraFinding, rounded
from spineviewer.ai.vertebra_labels import SliceDetections, fuse_slices
from spineviewer.dicom import Stack, StackPixels
from spineviewer.geometry.levels import assign_slices_to_levels, default_threshold

__all__ = ["AXIAL_MAX_DISTANCE_MM", "FRACTURE_MAX_DISTANCE_MM", "STEPS"]

#: An ROI box in pixel edge coordinates: x_min, y_min, x_max, y_max.
Box = tuple[float, float, float, float]

#: An axial slice belongs to a disc when the disc centre is this close to its plane (the disc
#: state model's training crops come from the same distance; on 12 held-out phantoms 3 mm
#: classified 72 of 72 discs right, 4 and 5 mm 71).
AXIAL_MAX_DISTANCE_MM = 3.0
#: Sagittal slices this close to a body's centre are cropped for the fracture model.
FRACTURE_MAX_DISTANCE_MM = 8.0
#: The vertebrae the lumbar pipeline classifies for fractures (the thoracolumbar junction and
#: the lumbar spine; the demo model saw no others).
FRACTURE_LEVELS = ("T12", "L1", "L2", "L3", "L4", "L5")


def _t2_first(stacks: list[Stack]) -> list[Stack]:
    def key(stack: Stack) -> tuple[bool, int]:
        description = (stack.first.instance.series_description or stack.name).upper()
        return ("T2" not in description, -len(stack))

    return sorted(stacks, key=key)


def _monochrome1(stack: Stack) -> bool:
    return stack.first.instance.photometric == "MONOCHROME1"


def select_series(ctx: Context) -> None:
    mr = [s for s in ctx.stacks() if s.modality == "MR" and s.pixel_spacing is not None]
    if not mr:
        raise Skip("no MR series in the study")
    sagittal = _t2_first([s for s in mr if s.plane == "sagittal"])
    axial = _t2_first([s for s in mr if s.plane == "axial"])
    if not sagittal:
        raise Skip("no sagittal MR series: vertebrae and disc levels cannot be found")
    t2 = [s for s in axial if "T2" in (s.first.instance.series_description or s.name).upper()]
    ctx.state["sagittal"] = sagittal[0]
    ctx.state["axial"] = t2 or axial
    if not axial:
        ctx.warnings.append("no axial MR series: disc states cannot be classified")


def _slices(ctx: Context, stack: Stack) -> list[np.ndarray]:
    pixels = StackPixels(stack)
    out = []
    for index in range(len(stack)):
        ctx.check()
        out.append(pixels.slice(index))
    return out


def detect_vertebrae(ctx: Context) -> None:
    stack: Stack | None = ctx.state.get("sagittal")
    if stack is None:
        raise Skip("no sagittal series")
    session = ctx.session("detection", "MR", "sagittal")
    values = _slices(ctx, stack)
    found = detect(session.manifest, session.session, values, monochrome1=_monochrome1(stack))
    per_slice = [
        SliceDetections(dets, box, stack.plane_of(i), i) for i, (dets, box) in enumerate(found)
    ]
    labelling = fuse_slices(per_slice, reference=len(stack) // 2)
    ctx.warnings += [f"vertebrae: {w}" for w in labelling.warnings]
    ctx.state.update(labelling=labelling, sagittal_values=values)
    # every body is reported on the middle slice (where it was labelled, so a reader sees the
    # whole column on one image); its box is the one of the slice it was best seen on, which
    # has the same pixel grid (the slices of a stack are parallel)
    middle = stack.frames[len(stack) // 2].instance.sop_instance_uid
    for body in reversed(labelling.bodies):  # top to bottom
        if body.centre_mm is None:
            continue
        letterbox = found[body.slice_index][1]
        ctx.vertebrae.append(
            VertebraFinding(
                label=body.label,
                score=round(body.score, 4),
                series_uid=stack.series_uid,
                sop_instance_uid=middle,
                box_px=rounded(box_to_image(letterbox, body.box)),
                centre_mm=rounded(body.centre_mm),
                model_id=session.manifest.id,
            )
        )
    if not labelling.bodies:
        raise Skip("no vertebral body found on the sagittal series")


def disc_centres(bodies: list[VertebraFinding]) -> dict[str, np.ndarray]:
    """Disc level -> centre (patient mm): the midpoint of the centres of its two bodies
    (``bodies`` top to bottom)."""
    return {
        f"{upper.label}-{lower.label}": (np.asarray(upper.centre_mm) + np.asarray(lower.centre_mm))
        / 2
        for upper, lower in itertools.pairwise(bodies)
    }


def disc_levels(ctx: Context) -> None:
    stack: Stack | None = ctx.state.get("sagittal")
    bodies = [v for v in ctx.vertebrae if stack is not None and v.series_uid == stack.series_uid]
    if stack is None or len(bodies) < 2:
        raise Skip("fewer than two labelled vertebrae: no disc level")
    centres = disc_centres(bodies)
    ctx.state["disc_centres"] = centres
    limit = default_threshold(centres)
    levels: dict[str, list[tuple[Stack, int, float]]] = {level: [] for level in centres}
    for axial in ctx.state.get("axial", []):
        known = [(i, p) for i in range(len(axial)) if (p := axial.plane_of(i)) is not None]
        found = assign_slices_to_levels([p for _, p in known], centres, limit)
        for (index, _), a in zip(known, found, strict=True):
            uid = axial.frames[index].instance.sop_instance_uid
            distance = round(float(a.distance_mm or 0.0), 3)
            ctx.axial_levels.append(AxialAssignment(axial.series_uid, uid, a.level, distance))
            if a.level is not None and distance <= AXIAL_MAX_DISTANCE_MM:
                levels[a.level].append((axial, index, distance))
    ctx.state["axial_levels"] = {k: sorted(v, key=lambda t: t[2]) for k, v in levels.items()}


def classify_discs(ctx: Context) -> None:
    levels: dict[str, list[tuple[Stack, int, float]]] | None = ctx.state.get("axial_levels")
    if not levels:
        raise Skip("no disc level found")
    if not any(levels.values()):
        raise Skip("no axial slice passes through a disc")
    session = ctx.session("classification", "MR", "axial")
    manifest = session.manifest
    centres: dict[str, np.ndarray] = ctx.state["disc_centres"]
    readers: dict[int, StackPixels] = {}
    crops: list[np.ndarray] = []
    per_level: dict[str, tuple[slice, list[Box], list[str]]] = {}
    for level, slices in levels.items():
        if not slices:
            ctx.warnings.append(
                f"disc {level}: no axial slice within {AXIAL_MAX_DISTANCE_MM:g} mm of its centre"
            )
            continue
        start = len(crops)
        boxes: list[Box] = []
        uids: list[str] = []
        for stack, index, _ in slices:
            ctx.check()
            plane = stack.plane_of(index)
            assert plane is not None and stack.pixel_spacing is not None
            row, col = (float(v) for v in plane.to_pixel(centres[level]))
            values = readers.setdefault(id(stack), StackPixels(stack)).slice(index)
            crops.append(
                roi_crop(manifest, values, (row, col), stack.pixel_spacing, _monochrome1(stack))
            )
            boxes.append(rounded(crop_box_px(manifest, (row, col), stack.pixel_spacing)))
            uids.append(stack.frames[index].instance.sop_instance_uid)
        per_level[level] = (slice(start, len(crops)), boxes, uids)
    every = session.classify(np.stack(crops))  # all levels in one batch
    names = session.class_names
    for level, (rows, boxes, uids) in per_level.items():
        probs = every[rows].mean(axis=0)
        ctx.discs.append(
            DiscFinding(
                level=level,
                state=names[int(np.argmax(probs))],
                probabilities={n: round(float(p), 4) for n, p in zip(names, probs, strict=True)},
                centre_mm=rounded(tuple(centres[level])),
                axial_instances=tuple(uids),
                roi_boxes_px=tuple(boxes),
                model_id=manifest.id,
            )
        )


def classify_fractures(ctx: Context) -> None:
    stack: Stack | None = ctx.state.get("sagittal")
    values: list[np.ndarray] | None = ctx.state.get("sagittal_values")
    if stack is None or values is None:
        raise Skip("no sagittal series")
    bodies = [
        v for v in ctx.vertebrae if v.label in FRACTURE_LEVELS and v.series_uid == stack.series_uid
    ]
    if not bodies:
        raise Skip("no labelled lumbar or thoracic vertebra")
    session = ctx.session("classification", "MR", "sagittal")
    planes = [stack.plane_of(i) for i in range(len(stack))]
    assert stack.pixel_spacing is not None
    crops: list[np.ndarray] = []
    rows: dict[str, slice] = {}
    for finding in bodies:
        ctx.check()
        centre = np.asarray(finding.centre_mm, dtype=np.float64)
        start = len(crops)
        for index, plane in enumerate(planes):
            if plane is None or abs(float(plane.distance(centre))) > FRACTURE_MAX_DISTANCE_MM:
                continue
            row, col = (float(v) for v in plane.to_pixel(centre))
            crops.append(
                roi_crop(
                    session.manifest,
                    values[index],
                    (row, col),
                    stack.pixel_spacing,
                    _monochrome1(stack),
                )
            )
        if len(crops) > start:
            rows[finding.label] = slice(start, len(crops))
    if not crops:
        return
    every = session.classify(np.stack(crops))  # all bodies in one batch
    names = session.class_names
    updated = {}
    for finding in bodies:
        if finding.label not in rows:
            continue
        probs = every[rows[finding.label]].mean(axis=0)
        best = int(np.argmax(probs))
        fractured = names.index("fractured") if "fractured" in names else best
        updated[finding.label] = replace(
            finding, fracture=names[best], fracture_probability=round(float(probs[fractured]), 4)
        )
    ctx.vertebrae[:] = [updated.get(v.label, v) if v in bodies else v for v in ctx.vertebrae]


STEPS: list[Step] = [
    ("lumbar MR: series", select_series),
    ("lumbar MR: vertebrae", detect_vertebrae),
    ("lumbar MR: disc levels", disc_levels),
    ("lumbar MR: disc states", classify_discs),
    ("lumbar MR: fractures", classify_fractures),
]
