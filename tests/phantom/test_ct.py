"""Lumbar CT phantom: HU values, volume geometry, label map and vertebra boxes."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from .conftest import Study, hu, plane_of


def _volume(ct_study: Study) -> tuple[np.ndarray, list]:
    datasets = ct_study.datasets("ct")
    return np.stack([hu(ds) for ds in datasets]), datasets


def test_headers_and_hu(ct_study: Study):
    volume, datasets = _volume(ct_study)
    first = datasets[0]
    assert first.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2"
    assert (float(first.RescaleIntercept), float(first.RescaleSlope)) == (-1024.0, 1.0)
    assert first.Rows == first.Columns == 256 and 0.7 <= float(first.PixelSpacing[0]) <= 1.0
    assert 70 <= len(datasets) <= 130
    params = ct_study.truth.parameters
    assert 700 <= params["cortex_hu"] <= 1000 and 200 <= params["marrow_hu"] <= 300
    assert volume.min() < -900  # air outside the body
    assert np.percentile(volume, 99.9) > 500  # cortical bone
    fat = volume[(volume > -160) & (volume < -40)]
    assert fat.size > 1000 and abs(float(np.median(fat)) + 100) < 15


def test_slices_evenly_spaced_axial_head_first(ct_study: Study):
    _, datasets = _volume(ct_study)
    planes = [plane_of(ds) for ds in datasets]
    z = np.array([float(p.origin[2]) for p in planes])
    assert np.all(np.diff(z) < 0)  # instance 1 is the most superior slice
    assert np.allclose(np.diff(z), -float(datasets[0].SpacingBetweenSlices), atol=1e-3)
    assert all(np.allclose(p.normal, [0, 0, 1]) for p in planes)


def test_vertebra_centres_from_bone_voxels(ct_study: Study):
    volume, datasets = _volume(ct_study)
    planes = [plane_of(ds) for ds in datasets]
    checked = 0
    for vertebra in ct_study.truth.vertebrae:
        if vertebra.label not in ("T12", "L1", "L2", "L3", "L4", "L5"):
            continue
        x0, y0, z0, x1, y1, z1 = vertebra.views[0].voxel_box
        assert z1 - z0 >= 5 and x1 - x0 > 30
        block = volume[z0 : z1 + 1, y0 : y1 + 1, x0 : x1 + 1]
        z, y, x = np.nonzero(block > 150)
        k = z0 + z.mean()
        plane = planes[round(k)]
        measured = plane.to_patient(y0 + y.mean(), x0 + x.mean())
        measured[2] = np.interp(k, np.arange(len(planes)), [p.origin[2] for p in planes])
        error = np.linalg.norm(measured - np.array(vertebra.centre_mm))
        assert error < 2.0, (vertebra.label, error)
        checked += 1
    assert checked == 6


def test_label_map_matches_the_volume(ct_study: Study):
    truth = ct_study.truth
    assert truth.label_map is not None
    image = sitk.ReadImage(str(ct_study.path / truth.label_map.file))
    labels = sitk.GetArrayFromImage(image)
    volume, datasets = _volume(ct_study)
    assert labels.shape == volume.shape
    assert np.allclose(
        image.GetOrigin(), [float(v) for v in datasets[0].ImagePositionPatient], atol=1e-3
    )
    assert np.isclose(image.GetSpacing()[2], float(datasets[0].SpacingBetweenSlices), atol=1e-3)
    values = truth.label_map.values
    assert set(values) >= {"T12", "L1", "L5", "S1", "L4-L5", "spinal_canal"}
    assert set(np.unique(labels)) <= {0, *values.values()}
    # Every voxel labelled as a vertebra is bone-dense; every body box holds its own label.
    bone = np.isin(labels, [values[v.label] for v in truth.vertebrae])
    assert np.median(volume[bone]) > 150
    for vertebra in truth.vertebrae[1:]:
        x0, y0, z0, x1, y1, z1 = vertebra.views[0].voxel_box
        block = labels[z0 : z1 + 1, y0 : y1 + 1, x0 : x1 + 1]
        assert np.mean(block == values[vertebra.label]) > 0.4, vertebra.label
