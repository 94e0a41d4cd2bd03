"""Generating one evaluation study (or several) into a folder.

``generate_study(out_dir, seed)`` writes ``out_dir/eval-lumbar-mr-<seed:06d>/`` with one
sub-folder per series (``S01_sagittal_t2/IM00001.dcm`` ...) and ``ground_truth.json``. The
case comes from :func:`~spineviewer.evaluation.case_mix.case_for`; the anatomy, the protocol
and the noise from three independent branches of the seed, so the same seed always gives the
same study. The sagittal contrasts share one geometry and are rendered together; their label
map (:mod:`~spineviewer.evaluation.label_map`, ``labels.nii.gz``) is made on that geometry too
(it draws nothing, so the images are what they were before label maps). A study is written
into a ``.partial`` folder first and renamed, so an interrupted run leaves no half-written
study under the final name.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spineviewer.evaluation.acquire import acquire, draw_bias, noise_sigma
from spineviewer.evaluation.anatomy import Anatomy, build_anatomy
from spineviewer.evaluation.case_mix import Case, case_for
from spineviewer.evaluation.dicom_file import StudyIds, uid, write_image
from spineviewer.evaluation.label_map import (
    LABEL_MAP_FILE,
    label_entries,
    label_map_truth,
    label_shapes,
    write_label_map,
)
from spineviewer.evaluation.protocol import Protocol, SeriesPlan, plan_protocol
from spineviewer.evaluation.render import label_stack, render_stack
from spineviewer.evaluation.truth import WrittenImage, WrittenSeries, ground_truth, save_truth

__all__ = [
    "SALT",
    "StudyPlan",
    "generate_study",
    "plan_study",
    "study_folder_name",
]

#: Mixed into every seed: this generator's draws share nothing with any other's.
SALT = 0x5E7A1
#: What ``generate`` writes: lumbar MR (:func:`generate_study`), lumbar CT
#: (:func:`spineviewer.evaluation.ct_study.generate_ct_study`) or an AP spine radiograph
#: (:func:`spineviewer.evaluation.xr_study.generate_xr_study`).


def study_folder_name(seed: int) -> str:
    return f"eval-lumbar-mr-{seed:06d}"


@dataclass(frozen=True)
class StudyPlan:
    """Everything drawn for a seed before any pixel is rendered."""

    case: Case
    anatomy: Anatomy
    protocol: Protocol
    noise_seed: np.random.SeedSequence


def plan_study(seed: int) -> StudyPlan:
    """The case, anatomy and protocol of ``seed`` (cheap: no rendering)."""
    case = case_for(seed)
    anatomy_seq, protocol_seq, noise_seq = np.random.SeedSequence([seed, SALT]).spawn(3)
    anatomy = build_anatomy(anatomy_seq, case.plan)
    protocol = plan_protocol(case, anatomy.column, np.random.default_rng(protocol_seq))
    return StudyPlan(case, anatomy, protocol, noise_seq)


def generate_study(out_dir: str | Path, seed: int, plan: StudyPlan | None = None) -> Path:
    """Write the study of ``seed`` under ``out_dir``; returns its folder. ``plan`` replaces
    :func:`plan_study` of ``seed``: the invariance check renders the seed's plan with one thing
    changed (:mod:`spineviewer.evaluation.invariance`)."""
    plan = plan_study(seed) if plan is None else plan
    case, anatomy, protocol = plan.case, plan.anatomy, plan.protocol
    noise_rng = np.random.default_rng(plan.noise_seed)
    reference = next(n.centre for n in anatomy.canal if n.label == "L3")
    bias = draw_bias(noise_rng, float(anatomy.parameters["skin_back_y_mm"]), reference)
    ids = StudyIds.for_seed(seed, protocol.vendor, protocol.field_t)
    final = Path(out_dir) / study_folder_name(seed)
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)

    sagittal = protocol.sagittal
    geometry = sagittal[0].stacks[0]
    clean = render_stack(geometry, anatomy.primitives, [s.sequence for s in sagittal])
    rendered: dict[str, list[np.ndarray]] = {s.role: [clean[k]] for k, s in enumerate(sagittal)}
    for s in protocol.series:
        if s.plane != "sagittal":
            rendered[s.role] = [
                render_stack(g, anatomy.primitives, [s.sequence])[0] for g in s.stacks
            ]
    written = []
    for number, s in enumerate(protocol.series, start=1):
        sigma = noise_sigma(s.sequence, case.noise_factor * (1.2 if s.plane == "axial" else 1.0))
        stored = acquire(list(zip(rendered[s.role], s.stacks, strict=True)), bias, sigma, noise_rng)
        written.append(_write_series(partial, ids, s, number, stored, sigma))
    labels = label_stack(geometry, label_shapes(anatomy.column, anatomy.primitives))
    write_label_map(partial / LABEL_MAP_FILE, geometry, labels)
    label_map = label_map_truth(
        label_entries(anatomy.column),
        labels,
        geometry,
        [w.series_instance_uid for w in written if w.plan.plane == "sagittal"],
    )
    save_truth(partial, ground_truth(case, anatomy, protocol, ids, written, label_map))
    if final.exists():
        shutil.rmtree(final)
    partial.rename(final)
    return final


def _write_series(
    study_dir: Path,
    ids: StudyIds,
    series: SeriesPlan,
    number: int,
    stored: list[np.ndarray],
    sigma: float,
) -> WrittenSeries:
    series_uid = uid(ids.seed, "series", series.role)
    images: list[WrittenImage] = []
    for stack_index, (geometry, pixels) in enumerate(zip(series.stacks, stored, strict=True)):
        for i in range(geometry.count):
            n = len(images) + 1
            sop = uid(ids.seed, "image", series.role, n)
            file = f"{series.folder}/IM{n:05d}.dcm"
            write_image(
                study_dir / file, ids, series, number, series_uid, sop, n, geometry, i, pixels[i]
            )
            images.append(WrittenImage(sop, file, n, stack_index, i))
    return WrittenSeries(series, series_uid, tuple(images), sigma)
