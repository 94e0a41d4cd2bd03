"""Generating one lumbar CT evaluation study: an axial stack in HU and its label map.

``generate_ct_study(out_dir, seed)`` writes ``out_dir/eval-lumbar-ct-<seed:06d>/`` with
``S01_axial_ct/IM00001.dcm`` ... (instance 1 the most superior slice), ``labels.nii.gz``
(:mod:`~spineviewer.evaluation.label_map`, on the stack's grid) and ``ground_truth.json``.
The case comes from :func:`~spineviewer.evaluation.ct_case_mix.ct_case_for`; the anatomy is
the MR studies' model (:func:`~spineviewer.evaluation.anatomy.build_anatomy`) drawn from its
own branch of the seed (another patient than the MR study of the same seed), the protocol and
CT numbers from a second branch, the noise from a third. The stack is rendered with the CT
table (:mod:`~spineviewer.evaluation.ct_tissues`) a few slices at a time, so memory stays
bounded, then gets Gaussian noise (smoothed in plane for a soft kernel) and is stored.

The truth has the MR studies' schema with ``kind`` ``lumbar-ct``: ``vertebrae`` and ``discs``
as for MR with ``in_sagittal_fov`` meaning inside the CT volume, the series, ``label_map`` and
in ``parameters`` the case, every drawn value and ``label_map``'s details.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spineviewer.evaluation.anatomy import Anatomy, build_anatomy
from spineviewer.evaluation.ct_case_mix import CtCase, ct_case_for
from spineviewer.evaluation.ct_dicom import write_ct_image
from spineviewer.evaluation.ct_protocol import CT_PROFILE, MATRIX, CtProtocol, plan_ct_protocol
from spineviewer.evaluation.ct_tissues import AIR_HU, CtTable, draw_ct_table
from spineviewer.evaluation.dicom_file import StudyIds, uid
from spineviewer.evaluation.label_map import (
    LABEL_MAP_FILE,
    label_entries,
    label_map_truth,
    label_shapes,
    write_label_map,
)
from spineviewer.evaluation.render import label_stack, render_stack
from spineviewer.evaluation.truth import disc_entries, save_truth, truth_head, vertebra_entries

__all__ = [
    "CT_SALT",
    "CtStudyPlan",
    "ct_study_folder_name",
    "generate_ct_study",
    "plan_ct_study",
]

#: Mixed into every CT seed: its draws share nothing with the MR study of the same seed.
CT_SALT = 0xC7A15
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ROLE = "axial_ct"
FOLDER = "S01_axial_ct"
MAX_STORED = 4095
#: Slices rendered, made noisy and written together.
_SLICES = 16


def ct_study_folder_name(seed: int) -> str:
    return f"eval-lumbar-ct-{seed:06d}"


@dataclass(frozen=True)
class CtStudyPlan:
    """Everything drawn for a CT seed before any pixel is rendered."""

    case: CtCase
    anatomy: Anatomy
    protocol: CtProtocol
    table: CtTable
    noise_seed: np.random.SeedSequence


def plan_ct_study(seed: int, matrix: int = MATRIX) -> CtStudyPlan:
    """The case, anatomy, stack and CT numbers of ``seed`` (cheap: no rendering). ``matrix``
    changes only the pixel grid (tests use small ones): every draw stays the same."""
    case = ct_case_for(seed)
    anatomy_seq, protocol_seq, noise_seq = np.random.SeedSequence([seed, CT_SALT]).spawn(3)
    anatomy = build_anatomy(anatomy_seq, case.plan)
    rng = np.random.default_rng(protocol_seq)
    protocol = plan_ct_protocol(case, anatomy.column, rng, matrix)
    table = draw_ct_table(rng, anatomy.age)
    return CtStudyPlan(case, anatomy, protocol, table, noise_seq)


def _noise(rng: np.random.Generator, shape: tuple[int, ...], smooth: bool) -> NDArray[np.float32]:
    """Unit-variance Gaussian noise; ``smooth``: correlated over neighbouring pixels (a [1 2 1]
    binomial in both in-plane directions, rescaled to unit variance)."""
    white = rng.standard_normal(size=shape, dtype=np.float32)
    if not smooth:
        return white
    out: NDArray[np.floating[Any]] = white
    for axis in (1, 2):
        padded = np.pad(out, [(0, 0) if a != axis else (1, 1) for a in range(3)], mode="edge")
        n = out.shape[axis]
        out = (
            padded.take(range(0, n), axis=axis)
            + 2 * padded.take(range(1, n + 1), axis=axis)
            + padded.take(range(2, n + 2), axis=axis)
        ) / 4
    return np.asarray(out / 0.375, dtype=np.float32)  # the 2D kernel's root sum of squares


def generate_ct_study(
    out_dir: str | Path, seed: int, matrix: int = MATRIX, plan: CtStudyPlan | None = None
) -> Path:
    """Write the CT study of ``seed`` under ``out_dir``; returns its folder."""
    plan = plan_ct_study(seed, matrix) if plan is None else plan
    protocol, anatomy = plan.protocol, plan.anatomy
    geometry = protocol.geometry
    ids = StudyIds.for_ct(seed, protocol.vendor)
    final = Path(out_dir) / ct_study_folder_name(seed)
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    series_uid = uid(seed, "lumbar-ct", "series", ROLE)
    shapes = label_shapes(anatomy.column, anatomy.primitives)
    labels = np.zeros((geometry.count, *geometry.shape), dtype=np.uint8)
    noise_rng = np.random.default_rng(plan.noise_seed)
    images: list[dict[str, Any]] = []
    for first in range(0, geometry.count, _SLICES):
        part = geometry.part(first, min(_SLICES, geometry.count - first))
        clean = render_stack(part, anatomy.primitives, [plan.table], CT_PROFILE)[0]
        noise = _noise(noise_rng, clean.shape, not protocol.bone_kernel)
        hu = clean + np.float32(AIR_HU) + noise * np.float32(protocol.noise_sigma_hu)
        stored = np.clip(np.rint(hu - protocol.rescale_intercept), 0, MAX_STORED)
        for i in range(part.count):
            index = first + i
            number = geometry.count - index  # instance 1: the most superior slice
            sop = uid(seed, "lumbar-ct", "image", ROLE, number)
            file = f"{FOLDER}/IM{number:05d}.dcm"
            pixels = stored[i].astype(np.uint16)
            write_ct_image(partial / file, ids, protocol, series_uid, sop, number, index, pixels)
            images.append({"sop_instance_uid": sop, "file": file, "instance_number": number})
        labels[first : first + part.count] = label_stack(part, shapes)
    write_label_map(partial / LABEL_MAP_FILE, geometry, labels)
    label_map = label_map_truth(label_entries(anatomy.column), labels, geometry, [series_uid])
    images.sort(key=lambda i: int(i["instance_number"]))
    save_truth(partial, _truth(plan, ids, series_uid, images, label_map))
    if final.exists():
        shutil.rmtree(final)
    partial.rename(final)
    return final


def _truth(
    plan: CtStudyPlan,
    ids: StudyIds,
    series_uid: str,
    images: list[dict[str, Any]],
    label_map: tuple[dict[str, Any], dict[str, Any]],
) -> dict[str, Any]:
    case, anatomy, protocol, table = plan.case, plan.anatomy, plan.protocol, plan.table
    column = anatomy.column
    parameters: dict[str, Any] = {
        "case_kind": case.kind,
        "slot": case.slot,
        "tags": list(case.tags),
        "fov_levels": case.fov,
        "lumbar_vertebrae": case.plan.lumbar,
        "sacralised_l5": case.plan.sacralised_l5,
        "rudimentary_discs": [d.level for d in column.discs if d.condition.rudimentary],
        "noise_factor": case.noise_factor,
        **anatomy.parameters,
        **protocol.parameters,
        "rescale_intercept": protocol.rescale_intercept,
        "ct_numbers_hu": {
            "cortical_bone": round(table.cortical_bone, 2),
            "trabecular_mineral": round(table.trabecular_mineral, 2),
            "fat": round(table.fat, 2),
            "muscle": round(table.muscle, 2),
        },
        "label_map": label_map[1],
    }
    return {
        **truth_head("lumbar-ct", case.seed, ids, parameters),
        "series": [
            {
                "series_instance_uid": series_uid,
                "folder": FOLDER,
                "description": protocol.description,
                "role": ROLE,
                "plane": "axial",
                "contrast": None,
                "modality": "CT",
                "sop_class_uid": CT_IMAGE_STORAGE,
                "number_of_images": len(images),
                "images": images,
            }
        ],
        "vertebrae": vertebra_entries(column, protocol.geometry),
        "discs": disc_entries(column, protocol.geometry),
        "axial_levels": [],
        "implants": [],
        "cobb": None,
        "label_map": label_map[0],
    }
