"""Ground-truth records built from the phantom's anatomy."""

from __future__ import annotations

import dataclasses
from typing import Any

from spineviewer.phantom.anatomy import Disc, Vertebra
from spineviewer.phantom.dicom_files import StudyInfo
from spineviewer.phantom.fractures import Fracture
from spineviewer.phantom.truth import DiscTruth, StudyGroundTruth, VertebraTruth, View


def study_truth(study: StudyInfo, **fields: Any) -> StudyGroundTruth:
    """The study's ground truth: identity from ``study``, content from ``fields``."""
    return StudyGroundTruth(
        kind=study.kind,
        seed=study.seed,
        study_instance_uid=study.study_uid,
        frame_of_reference_uid=study.frame_uid,
        patient_id=study.patient_id,
        **fields,
    )


def vertebra_truth(v: Vertebra, views: list[View], in_sagittal_fov: bool = True) -> VertebraTruth:
    """A vertebral body's record: label, centre in patient mm, where it is seen, any fracture."""
    centre = [float(c) for c in v.centre]
    truth = VertebraTruth(v.label, centre, views, in_sagittal_fov=in_sagittal_fov)
    return with_fracture(truth, v.fracture)


def with_fracture(truth: VertebraTruth, fracture: Fracture | None) -> VertebraTruth:
    """``truth`` with the fracture fields of ``fracture`` (unchanged when ``None`` or a normal
    shape variant, which the study's ``parameters`` record)."""
    if fracture is None or fracture.normal_variant:
        return truth
    return dataclasses.replace(
        truth,
        fracture=fracture.kind,
        height_loss=fracture.height_loss,
        genant_grade=fracture.grade,
    )


def disc_truth(d: Disc, views: list[View], in_sagittal_fov: bool = True) -> DiscTruth:
    """A disc's record: state, sizes, centre and axis in patient mm, where it is seen, and its
    degeneration when drawn (wide profile)."""
    return DiscTruth(
        level=d.level,
        state=d.state,
        centre_mm=[float(c) for c in d.frame.origin],
        normal=[float(c) for c in d.frame.superior],
        height_mm=d.height,
        width_mm=d.width,
        depth_mm=d.depth,
        bulge_mm=d.bulge_mm,
        herniation_mm=d.herniation_mm,
        herniation_side=d.herniation_side,
        views=views,
        in_sagittal_fov=in_sagittal_fov,
        pfirrmann=None if d.draw is None else d.draw.pfirrmann,
        degeneration=None if d.draw is None else d.draw.degeneration,
        height_loss=None if d.draw is None else d.draw.height_loss,
    )
