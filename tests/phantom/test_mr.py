"""Lumbar MR phantom: DICOM geometry, and ground truth re-derived from the pixels."""

from __future__ import annotations

import numpy as np

from spineviewer.geometry import assign_slices_to_levels
from spineviewer.phantom.anatomy import GRADED_LEVELS

from .conftest import Study, marrow_centroid, plane_of

ROLES = ("sagittal_t2", "axial_t2_angled", "axial_t2_stack")


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    cos = abs(float(a @ b)) / float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.degrees(np.arccos(min(1.0, cos))))


def test_series_headers(mr_study: Study):
    truth = mr_study.truth
    assert [s.role for s in truth.series] == list(ROLES)
    uids = set()
    for role in ROLES:
        for ds in mr_study.datasets(role):
            assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.4"
            assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
            assert ds.Modality == "MR" and ds.Manufacturer == "SpineViewer phantom"
            assert ds.PatientName == "PHANTOM^LUMBAR^00007"
            assert ds.StudyInstanceUID == truth.study_instance_uid
            assert ds.FrameOfReferenceUID == truth.frame_of_reference_uid
            assert (ds.PhotometricInterpretation, ds.BitsAllocated, ds.PixelRepresentation) == (
                "MONOCHROME2",
                16,
                0,
            )
            assert "NOT FOR CLINICAL USE" in ds.SeriesDescription
            assert float(ds.RepetitionTime) > 2500 and 80 < float(ds.EchoTime) < 130
            uids.add(ds.SOPInstanceUID)
    assert len(uids) == sum(s.number_of_images for s in truth.series)


def test_sagittal_slices_evenly_spaced_and_sagittal(mr_study: Study):
    datasets = mr_study.datasets("sagittal_t2")
    assert len(datasets) >= 11
    planes = [plane_of(ds) for ds in datasets]
    normal = planes[0].normal
    assert _angle_deg(normal, np.array([1.0, 0, 0])) < 1e-6
    positions = np.sort([float(p.origin @ normal) for p in planes])
    gaps = np.diff(positions)
    assert np.allclose(gaps, float(datasets[0].SpacingBetweenSlices), atol=1e-3)
    assert 3.0 <= gaps[0] <= 4.0
    assert 0.8 <= float(datasets[0].PixelSpacing[0]) <= 1.1


def test_angled_stacks_follow_the_discs(mr_study: Study):
    truth = mr_study.truth
    series = truth.series_by_role("axial_t2_angled")
    planes = [plane_of(ds) for ds in mr_study.datasets("axial_t2_angled")]
    levels = [a for a in truth.axial_levels if a.series_instance_uid == series.series_instance_uid]
    centres = {v.label: np.array(v.centre_mm) for v in truth.vertebrae}
    stacks = sorted({a.stack for a in levels})
    assert stacks == list(range(len(GRADED_LEVELS)))
    for stack, level in zip(stacks, GRADED_LEVELS, strict=True):
        members = [a for a in levels if a.stack == stack]
        assert 3 <= len(members) <= 5
        upper, lower = level.split("-")
        tangent = centres[upper] - centres[lower]
        for a in members:
            assert _angle_deg(planes[a.slice_index].normal, tangent) < 2.0
        nearest = min(members, key=lambda a: a.distance_mm)
        assert nearest.level == level and nearest.distance_mm < 2.5
    # One series, several orientations (one per stack).
    orientations = {tuple(np.round(p.normal, 3)) for p in planes}
    assert len(orientations) == len(GRADED_LEVELS)


def test_axial_levels_match_geometry(mr_study: Study):
    truth = mr_study.truth
    centres = {d.level: d.centre_mm for d in truth.discs}
    for role in ("axial_t2_angled", "axial_t2_stack"):
        series = truth.series_by_role(role)
        planes = [plane_of(ds) for ds in mr_study.datasets(role)]
        expected = [
            a for a in truth.axial_levels if a.series_instance_uid == series.series_instance_uid
        ]
        found = assign_slices_to_levels(planes, centres)
        assert [a.level for a in found] == [a.level for a in expected]
        assert np.allclose(
            [a.distance_mm for a in found], [a.distance_mm for a in expected], atol=1e-3
        )
    stack = truth.series_by_role("axial_t2_stack").series_instance_uid
    assert {a.level for a in truth.axial_levels if a.series_instance_uid == stack} >= set(
        GRADED_LEVELS
    )


def test_vertebra_centres_from_sagittal_pixels(mr_study: Study):
    truth = mr_study.truth
    datasets = mr_study.datasets("sagittal_t2")
    checked = 0
    for vertebra in truth.vertebrae:
        central = [v for v in vertebra.views if v.central]
        assert len(central) == 1, vertebra.label
        view = central[0]
        if view.truncated:
            continue
        ds = datasets[view.slice_index]
        plane = plane_of(ds)
        row, col = marrow_centroid(ds.pixel_array, view.box_px)
        measured = plane.to_patient(row, col)
        centre = np.array(vertebra.centre_mm)
        in_plane = (measured - centre) - ((measured - centre) @ plane.normal) * plane.normal
        assert np.linalg.norm(in_plane) < 2.0, (vertebra.label, in_plane)
        assert abs(float(plane.distance(centre))) <= float(ds.SpacingBetweenSlices) / 2 + 1e-6
        checked += 1
    assert checked >= 6


def _canal_intensity(mr_study: Study, level: str) -> float:
    """Mean signal 2.2 mm behind the disc's normal posterior margin, on its central slice."""
    truth = mr_study.truth
    disc = next(d for d in truth.discs if d.level == level)
    series = truth.series_by_role("axial_t2_angled")
    view = next(
        v for v in disc.views if v.series_instance_uid == series.series_instance_uid and v.central
    )
    ds = mr_study.datasets("axial_t2_angled")[view.slice_index]
    plane = plane_of(ds)
    normal = np.array(disc.normal)
    posterior = np.array([0.0, 1.0, 0.0]) - normal[1] * normal
    posterior /= np.linalg.norm(posterior)
    left = np.cross(posterior, normal)
    side = {"left": 0.22, "right": -0.22}.get(disc.herniation_side or "", 0.0) * disc.width_mm / 2
    point = np.array(disc.centre_mm) + (disc.depth_mm / 2 + 2.2) * posterior + side * left
    row, col = (round(float(v)) for v in plane.to_pixel(point))
    return float(ds.pixel_array[row - 1 : row + 2, col - 1 : col + 2].mean())


def test_herniation_fills_the_front_of_the_canal(mr_study: Study):
    truth = mr_study.truth
    csf = truth.parameters["csf_signal"]
    states = {d.level: d.state for d in truth.discs if d.level in GRADED_LEVELS}
    assert "herniation" in states.values() and "normal" in states.values()
    for level, state in states.items():
        value = _canal_intensity(mr_study, level) / csf
        if state == "herniation":
            assert value < 0.45, (level, value)
        elif state == "normal":
            assert value > 0.5, (level, value)
