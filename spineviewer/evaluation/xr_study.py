"""Generating one AP spine radiograph for evaluation, and its ground truth.

``generate_xr_study(out_dir, seed)`` writes ``out_dir/eval-spine-xr-<seed:06d>/`` with
``S01_ap/IM00001.dcm`` (one frontal radiograph, DX or CR) and ``ground_truth.json``. The case
comes from :func:`~spineviewer.evaluation.xr_case_mix.xr_case_for`; the anatomy, the technique
and the noise from three independent branches of the seed (:data:`XR_SALT`: another patient
than the MR and CT studies of the same seed).

What is drawn: the column (:mod:`~spineviewer.evaluation.xr_column`: T8-L5 on the sacrum,
straight or with one or two curves, apical rotation), the bones (:mod:`~spineviewer.
evaluation.xr_bones`: bodies with pedicles and arches, ribs, sacrum and pelvis), implants
(:mod:`~spineviewer.evaluation.xr_implants`), soft tissue (:mod:`~spineviewer.evaluation.
xr_soft`) and the attenuation table (:mod:`~spineviewer.evaluation.xr_tissues`); a patient
turned on the table turns all of it. The projection (:mod:`~spineviewer.evaluation.xr_project`)
is a diverging beam: source-to-detector 1000-1150 mm (CR 1000-1020), the spine's mid-plane
90-135 mm in front of the detector (55-75 mm from the back's skin plus a 35-60 mm table gap),
so the magnification there is about 1.08-1.16. The detector
(:mod:`~spineviewer.evaluation.xr_detector`):
ImagerPixelSpacing 0.139-0.2 mm (the finest that keeps the rows at most 3000), scatter, noise,
log and processing, 12-16 bits stored. DX files carry PixelSpacing equal to ImagerPixelSpacing
and EstimatedRadiographicMagnificationFactor; CR files (whose IOD has no such factor) carry
ImagerPixelSpacing, DistanceSourceToDetector and DistanceSourceToPatient.

Ground truth (``kind`` ``spine-xr``, the truth schema's common head, :func:`~spineviewer.
evaluation.truth.truth_head`). Image points are ``[x, y]`` = (column, row) in index
coordinates (the centre of pixel (0, 0) is (0, 0)); boxes ``[x0, y0, x1, y1]`` in pixel edges
(pixel ``i`` spans ``i .. i + 1``), as the product's findings write them; ``centre_mm`` is the
product's radiograph convention ``[x, 0, -y]`` in mm at the spine's mid-plane (the pixel
spacing over the magnification) from pixel (0, 0); ``centre_patient_mm`` the body's centre in
the generator's patient frame (LPS, z up).

- ``vertebrae``: T8..L5 and S1: ``label``, ``centre_px``, ``centre_mm``,
  ``centre_patient_mm``, ``in_view`` (its centre inside the image), ``upper_endplate_px`` and
  ``lower_endplate_px`` (the endplates' projected ends, the image's left end first),
  ``upper_tilt_deg`` and ``lower_tilt_deg`` (counter-clockwise as displayed);
- ``cobb``: ``angle_deg`` with ``upper_vertebra`` and ``lower_vertebra``: the largest angle
  between the upper endplate of a vertebra above S1 in view and the lower endplate of one in
  view below it, measured on the projected endplates; ``curves``: each drawn curve with its end
  vertebrae, apex, side, ``drawn_deg`` (the bend put into the column) and ``angle_deg`` (its
  end vertebrae's projected endplates; null when one is out of view);
- ``implants``: ``implant_class`` (``pedicle_screw``, ``rod``, ``interbody_cage``), ``where``
  and ``box_px`` (where at least 0.5 mm of metal lies on the ray);
- ``parameters``: the case, every drawn value (age, column, soft tissue, geometry, detector,
  attenuation table, implants).
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.uid import ComputedRadiographyImageStorage, DigitalXRayImageStorageForPresentation

from spineviewer.evaluation.column import Body, turned
from spineviewer.evaluation.dicom_file import StudyIds, common_dataset, save, uid
from spineviewer.evaluation.render import StackGeometry
from spineviewer.evaluation.sdf import Frame
from spineviewer.evaluation.truth import mm, save_truth, truth_head
from spineviewer.evaluation.xr_bones import bone_solids
from spineviewer.evaluation.xr_case_mix import XrCase, xr_case_for
from spineviewer.evaluation.xr_column import (
    XrColumn,
    build_xr_column,
    endplate_points,
    rotate_frame,
)
from spineviewer.evaluation.xr_detector import Detector, draw_detector, resample, to_stored
from spineviewer.evaluation.xr_implants import Implant, draw_implants
from spineviewer.evaluation.xr_project import XrGeometry, project_solids
from spineviewer.evaluation.xr_soft import SoftTissue, draw_soft_tissue, project_soft_tissue
from spineviewer.evaluation.xr_tissues import XrTable, draw_xr_table

__all__ = [
    "SPACINGS",
    "XR_SALT",
    "XrStudyPlan",
    "generate_xr_study",
    "line_angle",
    "plan_xr_study",
    "vertebra_truth",
    "xr_study_folder_name",
]

#: Mixed into every radiograph seed: its draws share nothing with the MR or CT studies'.
XR_SALT = 0xA9E7
SPACINGS = (0.139, 0.143, 0.148, 0.15, 0.16, 0.175, 0.2)
MAX_ROWS = 3000
FOLDER = "S01_ap"
ROLE = "ap"
#: Work grid pixel (mm at the detector) and depth step (mm) of the projection.
WORK_MM = 0.6
STEP_MM = 0.6


def xr_study_folder_name(seed: int) -> str:
    return f"eval-spine-xr-{seed:06d}"


@dataclass(frozen=True)
class XrStudyPlan:
    """Everything drawn for a radiograph seed before any pixel is rendered."""

    case: XrCase
    age: float
    column: XrColumn
    pelvis: Frame
    implants: tuple[Implant, ...]
    implant_parameters: dict[str, object]
    soft: SoftTissue
    table: XrTable
    detector: Detector
    geometry: XrGeometry
    field: dict[str, Any]
    manufacturer: str
    noise_seed: np.random.SeedSequence


def line_angle(start: NDArray[np.float64], end: NDArray[np.float64]) -> float:
    """The angle of an image line (x right, y down), counter-clockwise as displayed, folded into
    [-90, 90)."""
    angle = math.degrees(math.atan2(-(end[1] - start[1]), end[0] - start[0]))
    return (angle + 90.0) % 180.0 - 90.0


def _turned_column(column: XrColumn, centre: NDArray[np.float64], degrees: float) -> XrColumn:
    def body(b: Body) -> Body:
        return replace(b, frame=rotate_frame(b.frame, centre, degrees))

    return replace(
        column,
        bodies=tuple(map(body, column.bodies)),
        sacrum=tuple(map(body, column.sacrum)),
        discs=tuple((n, rotate_frame(f, centre, degrees), h) for n, f, h in column.discs),
    )


def _top(body: Body) -> NDArray[np.float64]:
    return np.asarray(body.centre + body.frame.axes[2] * body.height / 2)


def plan_xr_study(seed: int, spacing: float | None = None) -> XrStudyPlan:
    """The case, anatomy, technique and detector of ``seed`` (cheap: no rendering).
    ``spacing`` replaces the drawn detector pixel (tests use coarse ones): every draw stays."""
    case = xr_case_for(seed)
    anatomy_seq, technique_seq, noise_seq = np.random.SeedSequence([seed, XR_SALT]).spawn(3)
    geometry_rng, implant_rng, soft_rng, person_rng = (
        np.random.default_rng(s) for s in anatomy_seq.spawn(4)
    )
    age = float(person_rng.uniform(12.0, 80.0))
    column = build_xr_column(case, geometry_rng, age)
    turn = float(person_rng.uniform(5.0, 10.0) if case.rotated else person_rng.uniform(-2.0, 2.0))
    turn *= 1 if person_rng.random() < 0.5 else -1
    centre = column.body("L3").centre.copy()
    column = _turned_column(column, centre, turn)
    s1 = column.sacrum[0]
    pelvis = rotate_frame(
        Frame(_top(s1), turned(np.eye(3), 1, column.parameters["sacral_obliquity_deg"])),
        centre,
        turn,
    )
    table = draw_xr_table(person_rng, age)
    implants, implant_parameters = draw_implants(case, column, table, implant_rng)
    spine_y = float(centre[1])
    soft = draw_soft_tissue(
        soft_rng, spine_y, float(_top(column.body("T10"))[2]), float(_top(s1)[2]), turn
    )
    rng = np.random.default_rng(technique_seq)
    detector = draw_detector(rng)
    geometry, field = _geometry(case, column, soft, spine_y, rng, spacing)
    manufacturer = str(rng.choice(["AGFA", "Carestream Health", "FUJIFILM Corporation", "SIEMENS"]))
    return XrStudyPlan(
        case,
        age,
        column,
        pelvis,
        tuple(implants),
        implant_parameters,
        soft,
        table,
        detector,
        geometry,
        field,
        manufacturer,
        noise_seq,
    )


def _geometry(
    case: XrCase,
    column: XrColumn,
    soft: SoftTissue,
    spine_y: float,
    rng: np.random.Generator,
    spacing: float | None,
) -> tuple[XrGeometry, dict[str, Any]]:
    s1 = column.sacrum[0]
    s1_top = float(_top(s1)[2])
    if case.fov == "T10-S1":
        top = float(_top(column.body("T10"))[2]) + float(rng.uniform(15.0, 45.0))
        bottom = float(s1.centre[2]) - float(rng.uniform(25.0, 50.0))
        width = float(rng.uniform(260.0, 320.0))
    else:
        top = float(_top(column.body("T12"))[2]) + float(rng.uniform(15.0, 40.0))
        bottom = s1_top - float(rng.uniform(175.0, 205.0))
        width = float(rng.uniform(320.0, 370.0))
    sid = float(
        rng.uniform(1000.0, 1020.0) if case.modality == "CR" else rng.uniform(1000.0, 1150.0)
    )
    back = soft.centre_y + soft.half_depth
    oid = back - spine_y + float(rng.uniform(35.0, 60.0))
    sod = sid - oid
    m = sid / sod
    drawn = float(rng.choice(SPACINGS))
    height = top - bottom
    fine = [s for s in SPACINGS if s >= drawn and height * m / s <= MAX_ROWS]
    chosen = spacing if spacing is not None else (fine[0] if fine else SPACINGS[-1])
    x_c = float(np.mean([b.centre[0] for b in column.bodies])) + float(rng.uniform(-10, 10))
    geometry = XrGeometry(
        sid=sid,
        sod=sod,
        y_ref=spine_y,
        x_c=x_c,
        z_c=(top + bottom) / 2,
        rows=round(height * m / chosen),
        cols=round(width * m / chosen),
        spacing=chosen,
        work=max(WORK_MM, chosen),
    )
    field = {
        "top_z_mm": round(top, 2),
        "bottom_z_mm": round(bottom, 2),
        "width_mm": round(width, 2),
        "drawn_spacing_mm": drawn,
    }
    return geometry, field


@dataclass(frozen=True)
class Rendered:
    stored: NDArray[np.uint16]
    implant_boxes: dict[str, list[float]]
    processing: dict[str, float]


def render(plan: XrStudyPlan) -> Rendered:
    """The radiograph's stored pixels and the implants' boxes."""
    g = plan.geometry
    solids = bone_solids(plan.column, plan.pelvis, plan.table, plan.column.parameters["size_scale"])
    lines = project_solids(g, solids, STEP_MM)
    metal = project_solids(g, [i.solid for i in plan.implants], STEP_MM)
    total = project_soft_tissue(g, plan.soft, plan.table)
    for part in (*lines.values(), *metal.values()):
        total += part
    boxes = {}
    wr, wc = total.shape
    for implant in plan.implants:
        mask = metal[implant.solid.name] >= 0.5 * implant.solid.mu
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows.size:
            boxes[implant.solid.name] = [
                round(cols[0] * g.cols / wc, 2),
                round(rows[0] * g.rows / wr, 2),
                round((cols[-1] + 1) * g.cols / wc, 2),
                round((rows[-1] + 1) * g.rows / wr, 2),
            ]
    detector_lines = resample(total, (g.rows, g.cols))
    xs = [float(v) for v in g.to_pixel(np.array([b.centre for b in plan.column.bodies]))[:, 1]]
    spine = (max(0, int(min(xs)) - 20), min(g.cols, int(max(xs)) + 20))
    stored, processing = to_stored(
        detector_lines,
        plan.detector,
        g.spacing,
        plan.case.noise_factor,
        spine,
        plan.case.monochrome1,
        np.random.default_rng(plan.noise_seed),
    )
    return Rendered(stored, boxes, processing)


def generate_xr_study(
    out_dir: str | Path, seed: int, spacing: float | None = None, plan: XrStudyPlan | None = None
) -> Path:
    """Write the radiograph study of ``seed`` under ``out_dir``; returns its folder."""
    plan = plan_xr_study(seed, spacing) if plan is None else plan
    rendered = render(plan)
    case = plan.case
    ids = StudyIds(
        seed,
        uid(seed, "spine-xr", "study"),
        uid(seed, "spine-xr", "frame of reference"),
        f"EV-SPINEXR-{seed:06d}",
        plan.manufacturer,
        0.0,
        case.modality,
        "SPINEXR",
        "EX",
    )
    final = Path(out_dir) / xr_study_folder_name(seed)
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    series_uid = uid(seed, "spine-xr", "series", ROLE)
    sop = uid(seed, "spine-xr", "image", ROLE, 1)
    file = f"{FOLDER}/IM00001.dcm"
    _write(partial / file, plan, ids, series_uid, sop, rendered.stored)
    image = {"sop_instance_uid": sop, "file": file, "instance_number": 1}
    save_truth(partial, _truth(plan, ids, series_uid, image, rendered))
    if final.exists():
        shutil.rmtree(final)
    partial.rename(final)
    return final


def _write(
    path: Path,
    plan: XrStudyPlan,
    ids: StudyIds,
    series_uid: str,
    sop: str,
    pixels: NDArray[np.uint16],
) -> None:
    g, case = plan.geometry, plan.case
    dx = case.modality == "DX"
    sop_class = DigitalXRayImageStorageForPresentation if dx else ComputedRadiographyImageStorage
    flat = StackGeometry(
        np.zeros(3),
        np.array([1.0, 0, 0]),
        np.array([0, 0, -1.0]),
        (g.spacing, g.spacing),
        pixels.shape,
        1,
        1.0,
        1.0,
    )
    ds = common_dataset(ids, sop_class, sop, "AP L-SPINE", 1, series_uid, 1, flat, 0, pixels)
    for keyword in (
        "ImagePositionPatient",
        "ImageOrientationPatient",
        "SliceThickness",
        "SpacingBetweenSlices",
        "SliceLocation",
        "FrameOfReferenceUID",
        "PositionReferenceIndicator",
        "PatientPosition",
        "PixelSpacing",
    ):
        delattr(ds, keyword)
    bits = plan.detector.bits
    ds.BitsStored, ds.HighBit = bits, bits - 1
    ds.PhotometricInterpretation = "MONOCHROME1" if case.monochrome1 else "MONOCHROME2"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.ViewPosition = "AP"
    ds.PatientOrientation = ["L", "F"]
    spacing = f"{g.spacing:.4f}"
    ds.ImagerPixelSpacing = [spacing, spacing]
    ds.KVP = f"{plan.table.kvp:g}"
    ds.DistanceSourceToDetector = f"{g.sid:.1f}"
    ds.DistanceSourceToPatient = f"{g.sod:.1f}"
    ds.ExposureTime = 120
    ds.XRayTubeCurrent = 320
    ds.Grid = "IN"
    top = 2**bits - 1
    ds.WindowCenter = f"{top / 2:.1f}"
    ds.WindowWidth = f"{top * 0.96:.1f}"
    if dx:
        ds.PixelSpacing = [spacing, spacing]
        ds.EstimatedRadiographicMagnificationFactor = f"{g.magnification:.4f}"
        ds.PresentationIntentType = "FOR PRESENTATION"
        ds.ImageLaterality = "U"
        ds.PixelIntensityRelationship = "LOG"
        ds.PixelIntensityRelationshipSign = 1 if case.monochrome1 else -1
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "0", "1", "US"
        ds.PresentationLUTShape = "IDENTITY"
        ds.DetectorType = "SCINTILLATOR"
        ds.PositionerType = "TABLE"
    save(ds, path)


def _point(p: NDArray[np.float64]) -> list[float]:
    """An image point [x, y] (column, row) of a (row, col) pair."""
    return [round(float(p[1]), 3), round(float(p[0]), 3)]


def vertebra_truth(plan: XrStudyPlan) -> list[dict[str, Any]]:
    """The truth's ``vertebrae`` (module docstring)."""
    g = plan.geometry
    out = []
    for body in (*plan.column.bodies, plan.column.sacrum[0]):
        centre = g.to_pixel(body.centre)
        corners = g.to_pixel(endplate_points(body))
        upper, lower = (
            [_point(corners[0]), _point(corners[1])],
            [_point(corners[2]), _point(corners[3])],
        )
        patient_mm = g.spacing / g.magnification
        out.append(
            {
                "label": body.label,
                "centre_px": _point(centre),
                "centre_mm": mm([centre[1] * patient_mm, 0.0, -centre[0] * patient_mm]),
                "centre_patient_mm": mm(body.centre),
                "in_view": bool(0 <= centre[0] <= g.rows - 1 and 0 <= centre[1] <= g.cols - 1),
                "upper_endplate_px": upper,
                "lower_endplate_px": lower,
                "upper_tilt_deg": round(line_angle(*map(np.asarray, upper)), 4),
                "lower_tilt_deg": round(line_angle(*map(np.asarray, lower)), 4),
                "views": [],
            }
        )
    return out


def cobb_from_tilts(
    labels: list[str], upper: list[float], lower: list[float]
) -> tuple[float, str, str] | None:
    """The largest angle between the upper endplate of one vertebra and the lower endplate of
    one below it (vertebrae top to bottom); None for fewer than two."""
    best: tuple[float, str, str] | None = None
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            angle = abs(upper[i] - lower[j])
            if best is None or angle > best[0]:
                best = (angle, labels[i], labels[j])
    return best


def _cobb(plan: XrStudyPlan, vertebrae: list[dict[str, Any]]) -> dict[str, Any]:
    seen = [v for v in vertebrae if v["in_view"] and v["label"] != "S1"]
    found = cobb_from_tilts(
        [v["label"] for v in seen],
        [v["upper_tilt_deg"] for v in seen],
        [v["lower_tilt_deg"] for v in seen],
    )
    by_label = {v["label"]: v for v in vertebrae}
    curves = []
    for c in plan.column.curves:
        up, low = by_label[c.upper], by_label[c.lower]
        both = up["in_view"] and low["in_view"]
        curves.append(
            {
                "upper_vertebra": c.upper,
                "apex": c.apex,
                "lower_vertebra": c.lower,
                "side": "convex right" if c.side > 0 else "convex left",
                "drawn_deg": round(c.cobb_deg, 3),
                "angle_deg": round(abs(up["upper_tilt_deg"] - low["lower_tilt_deg"]), 3)
                if both
                else None,
            }
        )
    return {
        "angle_deg": None if found is None else round(found[0], 3),
        "upper_vertebra": None if found is None else found[1],
        "lower_vertebra": None if found is None else found[2],
        "curves": curves,
    }


def _truth(
    plan: XrStudyPlan, ids: StudyIds, series_uid: str, image: dict[str, Any], rendered: Rendered
) -> dict[str, Any]:
    case, g = plan.case, plan.geometry
    vertebrae = vertebra_truth(plan)
    parameters: dict[str, Any] = {
        "case_kind": case.kind,
        "slot": case.slot,
        "tags": list(case.tags),
        "fov_levels": case.fov,
        "case_cobb_deg": case.cobb_deg,
        "apex": case.apex,
        "modality": case.modality,
        "photometric": "MONOCHROME1" if case.monochrome1 else "MONOCHROME2",
        "noise_factor": case.noise_factor,
        "age_years": round(plan.age, 1),
        **plan.column.parameters,
        **plan.soft.parameters(),
        "turn_on_table_deg": round(plan.soft.turn_deg, 2),
        "implants": plan.implant_parameters,
        "attenuation_per_mm": plan.table.as_dict(),
        "detector": plan.detector.parameters(),
        "processing": {k: round(float(v), 6) for k, v in rendered.processing.items()},
        "geometry": {
            "source_to_detector_mm": round(g.sid, 2),
            "source_to_spine_mm": round(g.sod, 2),
            "magnification": round(g.magnification, 5),
            "imager_pixel_spacing_mm": g.spacing,
            "patient_pixel_spacing_mm": round(g.spacing / g.magnification, 6),
            "rows": g.rows,
            "columns": g.cols,
            **plan.field,
        },
        "manufacturer": plan.manufacturer,
    }
    return {
        **truth_head("spine-xr", case.seed, ids, parameters),
        "series": [
            {
                "series_instance_uid": series_uid,
                "folder": FOLDER,
                "description": "AP L-SPINE",
                "role": ROLE,
                "plane": "projection",
                "contrast": None,
                "modality": case.modality,
                "sop_class_uid": str(
                    DigitalXRayImageStorageForPresentation
                    if case.modality == "DX"
                    else ComputedRadiographyImageStorage
                ),
                "number_of_images": 1,
                "images": [image],
            }
        ],
        "vertebrae": vertebrae,
        "discs": [],
        "axial_levels": [],
        "implants": [
            {
                "implant_class": i.implant_class,
                "where": i.where,
                "box_px": rendered.implant_boxes[i.solid.name],
            }
            for i in plan.implants
            if i.solid.name in rendered.implant_boxes
        ],
        "cobb": _cobb(plan, vertebrae),
        "label_map": None,
    }
