"""Spine radiograph phantom: IOD details, Cobb angle, vertebra boxes and tilts, implants."""

from __future__ import annotations

import numpy as np
import pydicom

from spineviewer.phantom.xr import cobb_from_tilts

from .conftest import Study

CR, DX = "1.2.840.10008.5.1.4.1.1.1", "1.2.840.10008.5.1.4.1.1.1.1"


def _image(study: Study) -> tuple[pydicom.Dataset, np.ndarray]:
    """Dataset and pixels with bone bright (MONOCHROME1 inverted)."""
    ds = pydicom.dcmread(study.path / study.truth.series[0].images[0].file)
    pixels = ds.pixel_array.astype(np.float64)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        pixels = (2**ds.BitsStored - 1) - pixels
    return ds, pixels


def test_headers(xr_studies: list[Study]):
    kinds = set()
    for study in xr_studies:
        ds, _ = _image(study)
        kinds.add((ds.SOPClassUID, ds.PhotometricInterpretation))
        assert ds.SOPClassUID in (CR, DX)
        assert ds.Modality == ("DX" if ds.SOPClassUID == DX else "CR")
        assert list(ds.PatientOrientation) == ["L", "F"] and ds.ViewPosition == "AP"
        assert ds.BodyPartExamined == "LSPINE"
        assert 0.3 <= float(ds.ImagerPixelSpacing[0]) <= 0.4
        if ds.SOPClassUID == DX:
            assert ds.PresentationIntentType == "FOR PRESENTATION"
            shape = "INVERSE" if ds.PhotometricInterpretation == "MONOCHROME1" else "IDENTITY"
            assert ds.PresentationLUTShape == shape
    assert {p for _, p in kinds} == {"MONOCHROME1", "MONOCHROME2"}
    assert {c for c, _ in kinds} == {CR, DX}


def test_cobb_equals_largest_tilt_difference(xr_studies: list[Study]):
    angles = []
    for study in xr_studies:
        truth = study.truth
        verts = [v for v in truth.vertebrae if v.label != "S1"]
        tilts = [v.views[0].tilt_deg for v in verts]
        recomputed = max(abs(a - b) for a in tilts for b in tilts)
        assert abs(recomputed - truth.cobb.angle_deg) < 0.5
        tilt = {v.label: v.views[0].tilt_deg for v in verts}
        upper, lower = truth.cobb.upper_end_vertebra, truth.cobb.lower_end_vertebra
        assert abs(abs(tilt[upper] - tilt[lower]) - truth.cobb.angle_deg) < 1e-3
        assert [v.label for v in verts].index(upper) < [v.label for v in verts].index(lower)
        angles.append(truth.cobb.angle_deg)
    assert min(angles) < 5 and max(angles) > 20  # a near-straight spine and a real curve
    assert cobb_from_tilts(["A", "B", "C"], [5.0, -10.0, 2.0]).angle_deg == 15.0


def _body_moments(pixels: np.ndarray, box: list[int]) -> tuple[float, float, float]:
    """Centroid (row, col) and principal-axis tilt (degrees, counter-clockwise) of bone in box."""
    x0, y0, x1, y1 = box
    crop = pixels[y0 : y1 + 1, x0 : x1 + 1]
    soft = np.median(pixels)
    rows, cols = np.nonzero(crop > soft + 0.45 * (np.percentile(crop, 90) - soft))
    r, c = rows.mean(), cols.mean()
    cov = np.cov(np.stack([cols - c, rows - r]))
    _, v = np.linalg.eigh(cov)
    major = v[:, 1]
    angle = np.degrees(np.arctan2(-major[1], major[0]))
    angle = (angle + 90) % 180 - 90
    return y0 + r, x0 + c, angle


def test_vertebra_boxes_and_tilts_from_pixels(xr_studies: list[Study]):
    checked = 0
    for study in xr_studies:
        if study.truth.implants:
            continue
        _, pixels = _image(study)
        spacing = study.truth.parameters["pixel_spacing_mm"]
        ends = {study.truth.cobb.upper_end_vertebra, study.truth.cobb.lower_end_vertebra}
        for vertebra in study.truth.vertebrae:
            view = vertebra.views[0]
            if view.truncated or vertebra.label == "S1":
                continue
            row, col, tilt = _body_moments(pixels, view.box_px)
            x, _, z = vertebra.centre_mm
            assert np.hypot(col * spacing - x, row * spacing + z) < 1.0, vertebra.label
            x0, y0, x1, y1 = view.box_px
            assert abs((x0 + x1) / 2 - col) < 3 and abs((y0 + y1) / 2 - row) < 3
            if vertebra.label in ends:
                assert abs(tilt - view.tilt_deg) < 3.0, (vertebra.label, tilt, view.tilt_deg)
                checked += 1
    assert checked >= 4


def test_implants_are_bright_metal(xr_studies: list[Study]):
    with_implants = [s for s in xr_studies if s.truth.implants]
    assert with_implants
    classes = set()
    for study in with_implants:
        _, pixels = _image(study)
        bone = max(
            np.percentile(pixels[y0 : y1 + 1, x0 : x1 + 1], 50)
            for v in study.truth.vertebrae
            for x0, y0, x1, y1 in [v.views[0].box_px]
        )
        for implant in study.truth.implants:
            classes.add(implant.implant_class)
            x0, y0, x1, y1 = implant.box_px
            assert x1 > x0 and y1 > y0
            assert pixels[y0 : y1 + 1, x0 : x1 + 1].max() > bone
            assert implant.sop_instance_uid == study.truth.series[0].images[0].sop_instance_uid
    assert {"pedicle_screw", "rod"} <= classes
