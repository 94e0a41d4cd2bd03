"""``ground_truth.json`` of an evaluation study, in the schema ``spineviewer.phantom`` writes
(schema_version 1; see that package's docstring), so one scorer reads both generators.

What this generator fills: ``vertebrae`` (every body T8..S1 of the anatomy: ``label``,
``centre_mm``, ``in_sagittal_fov``; ``views`` empty: no boxes), ``discs`` (``level``,
``state``, ``centre_mm``, ``normal``, sizes, ``bulge_mm``, ``herniation_mm``,
``herniation_side``, ``in_sagittal_fov``, and beyond the phantom's fields ``degeneration``
0..1, ``pfirrmann`` 1-5 and ``height_loss``, as the phantom's graded discs; the thin dark disc
below a sacralised L5 is listed in ``parameters.rudimentary_discs``),
``series`` (with ``contrast``) and ``axial_levels`` (the nearest truth disc centre to each
axial image plane within :func:`spineviewer.geometry.levels.default_threshold` of the truth
disc centres, else null). ``parameters`` hold the case (``case_kind``, ``slot``, ``tags``,
``fov_levels``), the phantom's MR option names (``sagittal_fov`` as the nearest of ``full``,
``T10-L5``, ``L2-S1``; ``lumbar_vertebrae``; ``sagittal_contrasts``) and every drawn value
(age, curves, field strength, maker, noise factor; per series in ``acquisition``: noise,
spacing, thickness, TR / TE / TI). ``label_map`` names the sagittal label map and its values;
its details are in ``parameters.label_map`` (:mod:`spineviewer.evaluation.label_map`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spineviewer.evaluation.anatomy import Anatomy
from spineviewer.evaluation.case_mix import Case
from spineviewer.evaluation.column import Column
from spineviewer.evaluation.dicom_file import GENERATOR, StudyIds
from spineviewer.evaluation.protocol import Protocol, SeriesPlan, in_view
from spineviewer.evaluation.render import StackGeometry
from spineviewer.geometry import Plane
from spineviewer.geometry.levels import assign_slices_to_levels, default_threshold

__all__ = [
    "GROUND_TRUTH_FILE",
    "SCHEMA_VERSION",
    "WrittenImage",
    "WrittenSeries",
    "disc_entries",
    "ground_truth",
    "mm",
    "save_truth",
    "vertebra_entries",
]

GROUND_TRUTH_FILE = "ground_truth.json"
SCHEMA_VERSION = 1
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
#: The phantom's name for each field of view of this generator.
_PHANTOM_FOV = {"T10-S1": "full", "L1-S1": "full", "L2-S1": "L2-S1", "T10-L5": "T10-L5"}


@dataclass(frozen=True)
class WrittenImage:
    sop_instance_uid: str
    file: str
    instance_number: int
    stack: int
    slice_in_stack: int


@dataclass(frozen=True)
class WrittenSeries:
    plan: SeriesPlan
    series_instance_uid: str
    images: tuple[WrittenImage, ...]
    noise_sigma: float


def mm(values: Any) -> list[float]:
    """Coordinates rounded to 0.1 um, as the truth writes them."""
    return [round(float(v), 4) for v in values]


def _plane(geometry: StackGeometry, index: int) -> Plane:
    return Plane(
        geometry.position(index),
        geometry.row_dir,
        geometry.col_dir,
        geometry.spacing,
        geometry.shape,
    )


def _axial_levels(
    series: list[WrittenSeries], centres: dict[str, np.ndarray]
) -> list[dict[str, Any]]:
    limit = default_threshold(centres)
    out = []
    for s in series:
        if s.plan.plane != "axial":
            continue
        planes = [_plane(s.plan.stacks[i.stack], i.slice_in_stack) for i in s.images]
        for index, (image, found) in enumerate(
            zip(s.images, assign_slices_to_levels(planes, centres, limit), strict=True)
        ):
            out.append(
                {
                    "series_instance_uid": s.series_instance_uid,
                    "sop_instance_uid": image.sop_instance_uid,
                    "slice_index": index,
                    "stack": image.stack if s.plan.role == "axial_t2_angled" else None,
                    "level": found.level,
                    "distance_mm": round(float(found.distance_mm or 0.0), 4),
                }
            )
    return out


def vertebra_entries(column: Column, view: StackGeometry) -> list[dict[str, Any]]:
    """The ``vertebrae`` of the truth: every body T8..S1, ``in_sagittal_fov`` meaning in
    ``view`` (the sagittal stack of an MR study, the volume of a CT study)."""
    return [
        {
            "label": b.label,
            "centre_mm": mm(b.centre),
            "views": [],
            "in_sagittal_fov": in_view(b.centre, view),
        }
        for b in column.bodies
    ]


def disc_entries(column: Column, view: StackGeometry) -> list[dict[str, Any]]:
    """The ``discs`` of the truth, ``in_sagittal_fov`` as for the vertebrae."""
    discs = []
    for d in column.discs:
        c = d.condition
        discs.append(
            {
                "level": d.level,
                "state": c.state,
                "centre_mm": mm(d.centre),
                "normal": [round(float(v), 5) for v in d.normal],
                "height_mm": round(d.height, 3),
                "width_mm": round(d.width, 3),
                "depth_mm": round(d.depth, 3),
                "bulge_mm": round(c.bulge_mm, 3),
                "herniation_mm": round(c.herniation_mm, 3),
                "herniation_side": c.side,
                "degeneration": round(c.degeneration, 4),
                "pfirrmann": c.pfirrmann,
                "height_loss": round(c.height_loss, 4),
                "views": [],
                "in_sagittal_fov": in_view(d.centre, view),
            }
        )
    return discs


def truth_head(kind: str, seed: int, ids: StudyIds, parameters: dict[str, Any]) -> dict[str, Any]:
    """The first entries of every study's ``ground_truth.json`` (MR and CT alike)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "seed": seed,
        "not_for_clinical_use": True,
        "generator": GENERATOR,
        "study_instance_uid": ids.study_uid,
        "frame_of_reference_uid": ids.frame_of_reference_uid,
        "patient_id": ids.patient_id,
        "parameters": parameters,
    }


def ground_truth(
    case: Case,
    anatomy: Anatomy,
    protocol: Protocol,
    ids: StudyIds,
    series: list[WrittenSeries],
    label_map: tuple[dict[str, Any], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The ground truth document of one study; ``label_map`` is the label map's truth entry
    and its details (:func:`spineviewer.evaluation.label_map.label_map_truth`)."""
    sagittal = protocol.sagittal[0].stacks[0]
    column = anatomy.column
    vertebrae = vertebra_entries(column, sagittal)
    discs = disc_entries(column, sagittal)
    parameters: dict[str, Any] = {
        "case_kind": case.kind,
        "slot": case.slot,
        "tags": list(case.tags),
        "fov_levels": case.fov,
        "sagittal_fov": _PHANTOM_FOV[case.fov],
        "lumbar_vertebrae": case.plan.lumbar,
        "sacralised_l5": case.plan.sacralised_l5,
        "sagittal_contrasts": list(case.sagittal_contrasts),
        "rudimentary_discs": [d.level for d in column.discs if d.condition.rudimentary],
        "axial_series": case.axial,
        "noise_factor": case.noise_factor,
        **anatomy.parameters,
        **protocol.parameters,
        "acquisition": {
            s.plan.role: {
                "noise_sigma": round(s.noise_sigma, 6),
                "pixel_spacing_mm": mm(s.plan.stacks[0].spacing),
                "slice_thickness_mm": round(s.plan.stacks[0].thickness, 3),
                "spacing_between_slices_mm": round(s.plan.stacks[0].step, 3),
                "repetition_time_ms": round(s.plan.sequence.tr, 1),
                "echo_time_ms": round(s.plan.sequence.te, 1),
                "inversion_time_ms": None
                if s.plan.sequence.ti is None
                else round(s.plan.sequence.ti, 1),
            }
            for s in series
        },
    }
    if label_map is not None:
        parameters["label_map"] = label_map[1]
    centres = {d.level: d.centre for d in column.discs}
    return {
        **truth_head("lumbar-mr", case.seed, ids, parameters),
        "series": [
            {
                "series_instance_uid": s.series_instance_uid,
                "folder": s.plan.folder,
                "description": s.plan.description,
                "role": s.plan.role,
                "plane": s.plan.plane,
                "contrast": s.plan.contrast,
                "modality": "MR",
                "sop_class_uid": MR_IMAGE_STORAGE,
                "number_of_images": len(s.images),
                "images": [
                    {
                        "sop_instance_uid": i.sop_instance_uid,
                        "file": i.file,
                        "instance_number": i.instance_number,
                    }
                    for i in s.images
                ],
            }
            for s in series
        ],
        "vertebrae": vertebrae,
        "discs": discs,
        "axial_levels": _axial_levels(series, centres),
        "implants": [],
        "cobb": None,
        "label_map": None if label_map is None else label_map[0],
    }


def save_truth(study_dir: Path, truth: dict[str, Any]) -> Path:
    path = study_dir / GROUND_TRUTH_FILE
    path.write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path
