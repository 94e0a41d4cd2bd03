"""Lumbar MR evaluation studies with vertebral compression fractures (``lumbar-mr-fracture``).

``write_fracture_study(out_root, seed)`` writes ``out_root/eval-lumbar-mr-fracture-<seed:06d>/``:
a lumbar MR study like :func:`~spineviewer.evaluation.study.generate_study` writes (the same
series, label map and ``ground_truth.json`` schema, ``kind`` ``lumbar-mr`` so every scorer
reads it), whose anatomy has the fractures of
:func:`~spineviewer.evaluation.fracture_case_mix.fracture_case_for` (shapes:
:mod:`~spineviewer.evaluation.fracture_shape`). The case (contrasts, field, noise) is the
lumbar MR case of the same seed; the anatomy, protocol, noise and fractures come from their own
branch of the seed, so the fracture study of seed S is another patient than the lumbar MR study
of seed S. Fractures exist only here: :func:`~spineviewer.evaluation.study.plan_study` never
asks for one, so every lumbar MR and CT seed is what it was.

The study is rendered by ``generate_study`` into a work folder and then written under its own
name with its own identifiers: StudyInstanceUID, SeriesInstanceUIDs, SOPInstanceUIDs and
FrameOfReferenceUID (hashes of the seed, ``lumbar-mr-fracture`` and the rendered UID), patient
ID ``EV-FRACTURE-<seed>``, accession ``EF<seed>``; pixels and geometry untouched.

Truth: every vertebra gets the fields ``spineviewer.phantom`` writes for fractures,
``fracture`` (``wedge``, ``biconcave``, ``crush`` or null), ``genant_grade`` (0-3) and
``height_loss`` (0 when intact), and beyond them ``fracture_acute`` (null when intact),
``endplate_step_mm``, ``endplate_step`` (``superior`` / ``inferior`` / null),
``marrow_oedema`` (the share of marrow replaced), ``oedema_reach`` (the share of the height
from the fractured endplate it covers) and ``fracture_line_depth_mm`` of an acute one, and the
anterior / middle / posterior ``body_heights_mm`` and
``intact_heights_mm`` of a fractured body. ``parameters`` add ``study_kind``
(``lumbar-mr-fracture``), ``fracture_slot_fractures`` and ``fractures`` (what was drawn).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pydicom

from spineviewer.evaluation.anatomy import build_anatomy
from spineviewer.evaluation.column import Body
from spineviewer.evaluation.dicom_file import uid
from spineviewer.evaluation.fracture_case_mix import (
    FractureCase,
    draw_fractures,
    fracture_case_for,
)
from spineviewer.evaluation.protocol import plan_protocol
from spineviewer.evaluation.restamp import restamp_images
from spineviewer.evaluation.study import SALT, StudyPlan, generate_study
from spineviewer.evaluation.truth import GROUND_TRUTH_FILE, save_truth

__all__ = [
    "FRACTURE_KIND",
    "FRACTURE_SALT",
    "FracturePlan",
    "fracture_study_folder_name",
    "generate_fracture_studies",
    "plan_fracture_study",
    "write_fracture_study",
]

FRACTURE_KIND = "lumbar-mr-fracture"
#: Mixed into every fracture seed: its draws share nothing with the MR study of the same seed.
FRACTURE_SALT = 0xF4AC7
_WORK = ".fracture-work"
_INTACT: dict[str, Any] = {"fracture": None, "genant_grade": 0, "height_loss": 0.0}


def fracture_study_folder_name(seed: int) -> str:
    return f"eval-{FRACTURE_KIND}-{seed:06d}"


@dataclass(frozen=True)
class FracturePlan:
    """The fracture case and the study plan (anatomy with its fractures) of a seed."""

    fracture_case: FractureCase
    study: StudyPlan


def plan_fracture_study(seed: int, with_fractures: bool = True) -> FracturePlan:
    """Everything drawn for the fracture study of ``seed`` (cheap: no rendering);
    ``with_fractures=False``: the same patient intact (every other draw the same)."""
    fracture_case = fracture_case_for(seed)
    case = fracture_case.case
    anatomy_seq, protocol_seq, noise_seq, fracture_seq = np.random.SeedSequence(
        [seed, SALT, FRACTURE_SALT]
    ).spawn(4)
    specs = draw_fractures(fracture_case, np.random.default_rng(fracture_seq))
    anatomy = build_anatomy(
        anatomy_seq, replace(case.plan, fractures=specs if with_fractures else ())
    )
    protocol = plan_protocol(case, anatomy.column, np.random.default_rng(protocol_seq))
    return FracturePlan(fracture_case, StudyPlan(case, anatomy, protocol, noise_seq))


def _vertebra_fields(body: Body) -> dict[str, Any]:
    if body.fracture is None:
        return dict(_INTACT)
    return body.fracture.truth()


def _restamped(truth: dict[str, Any], seed: int) -> tuple[dict[str, Any], dict[str, str]]:
    """The truth with every UID replaced (and the old -> new map)."""
    old = [truth["study_instance_uid"], truth["frame_of_reference_uid"]]
    for series in truth["series"]:
        old.append(series["series_instance_uid"])
        old += [i["sop_instance_uid"] for i in series["images"]]
    uids = {u: uid(seed, FRACTURE_KIND, u) for u in old}
    text = json.dumps(truth)
    for before, after in uids.items():
        text = text.replace(f'"{before}"', f'"{after}"')
    return json.loads(text), uids


def _patient_id(seed: int) -> str:
    return f"EV-FRACTURE-{seed:06d}"


def _write_images(
    source: Path, target: Path, truth: dict[str, Any], uids: dict[str, str], seed: int
) -> None:
    def adjust(ds: pydicom.Dataset) -> None:
        ds.PatientID = _patient_id(seed)
        ds.PatientName = f"EVALUATION^FRACTURE^{seed:06d}"
        ds.AccessionNumber = f"EF{seed:08d}"
        ds.ImageComments = f"{ds.ImageComments} ({FRACTURE_KIND})"

    restamp_images(source, target, truth, uids.__getitem__, adjust)


def write_fracture_study(out_root: str | Path, seed: int) -> Path:
    """Write the fracture study of ``seed`` under ``out_root``; returns its folder."""
    plan = plan_fracture_study(seed)
    out = Path(out_root)
    final = out / fracture_study_folder_name(seed)
    partial = final.with_name(final.name + ".partial")
    work = out / f"{_WORK}-{seed:06d}"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        rendered = generate_study(work, seed, plan.study)
        truth = json.loads((rendered / GROUND_TRUTH_FILE).read_text(encoding="utf-8"))
        restamped, uids = _restamped(truth, seed)
        partial.mkdir(parents=True)
        _write_images(rendered, partial, truth, uids, seed)
        if truth.get("label_map"):
            name = truth["label_map"]["file"]
            shutil.copyfile(rendered / name, partial / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    save_truth(partial, _fracture_truth(restamped, plan, seed))
    if final.exists():
        shutil.rmtree(final)
    partial.rename(final)
    return final


def _fracture_truth(truth: dict[str, Any], plan: FracturePlan, seed: int) -> dict[str, Any]:
    bodies = {b.label: b for b in plan.study.anatomy.column.bodies}
    truth["patient_id"] = _patient_id(seed)
    truth["vertebrae"] = [{**v, **_vertebra_fields(bodies[v["label"]])} for v in truth["vertebrae"]]
    parameters = truth["parameters"]
    parameters["study_kind"] = FRACTURE_KIND
    parameters["fracture_slot_fractures"] = [
        {"genant_grade": g, "fracture": m, "fracture_acute": a}
        for g, m, a in plan.fracture_case.fractures
    ]
    parameters["fractures"] = [
        {"label": b.label, **b.fracture.truth()} for b in bodies.values() if b.fracture is not None
    ]
    return truth


def generate_fracture_studies(out_root: str | Path, seed: int, count: int = 1) -> list[Path]:
    """The fracture studies of seeds ``seed .. seed + count - 1``."""
    return [write_fracture_study(out_root, s) for s in range(seed, seed + count)]
