"""The prior study phantom: same patient, a year earlier, moved in the scanner, one disc changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pydicom
import pytest

from spineviewer.geometry import Plane
from spineviewer.phantom import StudyGroundTruth, load_ground_truth
from spineviewer.phantom.prior import SHIFT_MM, TURN_DEG, generate_prior

SEED = 7  # L4-L5 bulges today


@pytest.fixture(scope="module")
def pair(module_tmp: Path) -> tuple[Path, Path]:
    return generate_prior(module_tmp, SEED)


def _truths(pair: tuple[Path, Path]) -> tuple[StudyGroundTruth, StudyGroundTruth]:
    return load_ground_truth(pair[0]), load_ground_truth(pair[1])


def _header(study: Path, truth: StudyGroundTruth, role: str, index: int) -> pydicom.Dataset:
    return pydicom.dcmread(study / truth.series_by_role(role).images[index].file)


def _plane(ds: pydicom.Dataset) -> Plane:
    return Plane.from_dicom(
        ds.ImagePositionPatient, ds.ImageOrientationPatient, ds.PixelSpacing, ds.Rows, ds.Columns
    )


def test_prior_is_the_same_patient_a_year_earlier_in_another_frame(
    pair: tuple[Path, Path],
) -> None:
    current, prior = _truths(pair)
    a = _header(pair[0], current, "sagittal_t2", 0)
    b = _header(pair[1], prior, "sagittal_t2", 0)
    assert (a.PatientID, str(a.PatientName)) == (b.PatientID, str(b.PatientName))
    assert a.StudyInstanceUID != b.StudyInstanceUID == prior.study_instance_uid
    assert a.FrameOfReferenceUID != b.FrameOfReferenceUID == prior.frame_of_reference_uid
    days = dt.datetime.strptime(a.StudyDate, "%Y%m%d") - dt.datetime.strptime(b.StudyDate, "%Y%m%d")
    assert days.days == 365
    uids_a = {i.sop_instance_uid for s in current.series for i in s.images}
    uids_b = {i.sop_instance_uid for s in prior.series for i in s.images}
    assert not uids_a & uids_b
    assert b.SOPInstanceUID == b.file_meta.MediaStorageSOPInstanceUID
    assert prior.parameters["prior"]["of_study"] == current.study_instance_uid


def test_one_disc_changed(pair: tuple[Path, Path]) -> None:
    current, prior = _truths(pair)
    changed = [
        (a.level, a.state, b.state)
        for a, b in zip(current.discs, prior.discs, strict=True)
        if a.state != b.state
    ]
    assert changed == [("L4-L5", "bulge", "normal")]
    # the change is in the pixels: the disc's central axial image differs, L2-L3's does not
    for level, differs in (("L4-L5", True), ("L2-L3", False)):
        view = next(
            v
            for v in current.disc(level).views
            if v.central and v.series_instance_uid != current.series[0].series_instance_uid
        )
        role = next(
            s.role for s in current.series if s.series_instance_uid == view.series_instance_uid
        )
        assert view.slice_index is not None
        a = _header(pair[0], current, role, view.slice_index).pixel_array
        b = _header(pair[1], prior, role, view.slice_index).pixel_array
        assert bool(np.any(a != b)) is differs, level


def test_spine_moved_and_truth_follows_the_written_geometry(pair: tuple[Path, Path]) -> None:
    current, prior = _truths(pair)
    move = prior.parameters["prior"]
    assert SHIFT_MM[0] <= np.linalg.norm(move["shift_mm"]) <= SHIFT_MM[1]
    assert TURN_DEG[0] <= move["turn_deg"] <= TURN_DEG[1]
    shifts = [
        np.linalg.norm(np.subtract(a.centre_mm, b.centre_mm))
        for a, b in zip(current.vertebrae, prior.vertebrae, strict=True)
    ]
    assert min(shifts) > 5.0
    # each body's centre falls on the same pixel of the same image in both studies, as
    # read from each study's own (rewritten) headers
    for label in ("L1", "L3", "L5"):
        view = next(v for v in current.vertebra(label).views if v.central)
        assert view.slice_index is not None
        pa = _plane(_header(pair[0], current, "sagittal_t2", view.slice_index))
        pb = _plane(_header(pair[1], prior, "sagittal_t2", view.slice_index))
        ra, ca = pa.to_pixel(current.vertebra(label).centre_mm)
        rb, cb = pb.to_pixel(prior.vertebra(label).centre_mm)
        assert abs(float(ra) - float(rb)) < 0.01 and abs(float(ca) - float(cb)) < 0.01
        assert abs(float(pa.distance(current.vertebra(label).centre_mm))) == pytest.approx(
            abs(float(pb.distance(prior.vertebra(label).centre_mm))), abs=0.01
        )
    # the disc normals are turned with the spine
    a, b = current.disc("L4-L5"), prior.disc("L4-L5")
    angle = np.degrees(np.arccos(np.clip(np.dot(a.normal, b.normal), -1, 1)))
    assert 0.0 < angle <= move["turn_deg"] + 1e-6
