"""MPR reformats: every displayed pixel is the voxel its plane says, with true spacing."""

from __future__ import annotations

import numpy as np
import pytest

from spineviewer.dicom import Volume, load_volume, scan
from spineviewer.viewing.mpr import CONVENTIONS, MprSource, is_volumetric, mpr_sources
from spineviewer.viewing.source import nearest_slice


def _check_source(volume: Volume, source: MprSource) -> None:
    for index in (0, len(source) // 2, len(source) - 1):
        values = source.values(index)
        plane = source.info(index).plane
        assert values.shape == plane.shape and values.flags.c_contiguous
        rows, cols = values.shape
        for r, c in ((0, 0), (rows - 1, 0), (0, cols - 1), (rows // 2, cols // 3)):
            patient = plane.to_patient(r, c)
            kji = np.rint(volume.patient_to_index(patient)).astype(int)
            assert np.allclose(volume.index_to_patient(kji), patient, atol=1e-6)
            assert values[r, c] == volume.array[tuple(kji)]


def _synthetic(affine: np.ndarray) -> Volume:
    array = np.arange(6 * 5 * 4, dtype=np.int16).reshape(6, 5, 4)
    return Volume(array, affine, "1.2.3")


@pytest.mark.parametrize("plane", sorted(CONVENTIONS))
def test_reformats_of_a_permuted_flipped_volume_follow_display_conventions(plane: str) -> None:
    # k runs towards the feet, j to the patient's right, i posterior: nothing like axial.
    affine = np.eye(4)
    affine[:3, 0] = (0, 0, -2.5)
    affine[:3, 1] = (-0.8, 0, 0)
    affine[:3, 2] = (0, 1.2, 0)
    affine[:3, 3] = (10, -20, 30)
    volume = _synthetic(affine)
    source = MprSource(volume, plane)
    _check_source(volume, source)
    want_row, want_col = CONVENTIONS[plane]
    info = source.info(0)
    assert np.allclose(info.plane.row_dir, want_row) and np.allclose(info.plane.col_dir, want_col)
    positions = [source.info(i).position_mm for i in range(len(source))]
    assert positions == sorted(positions)
    assert source.plane_name == plane


def test_real_ct_reformats_have_true_spacing_and_find_points(real_ct_dir) -> None:
    stack = scan(real_ct_dir).stacks()[0]
    assert is_volumetric(stack)
    volume = load_volume(stack)
    sources = mpr_sources(volume, modality="CT")
    for source in sources.values():
        _check_source(volume, source)
    sag = sources["sagittal"]
    assert sag.info(0).pixel_spacing == pytest.approx((2.0, 0.977), abs=0.01)
    assert len(sag) == volume.shape[2] and len(sources["axial"]) == volume.shape[0]
    point = sources["coronal"].info(200).plane.to_patient(7, 300)
    found = nearest_slice(sources["coronal"], point)
    assert found is not None and found[0] == 200 and found[1] < 1e-6


def test_short_or_uneven_stacks_are_not_volumes(demo_study_dir) -> None:
    study = scan(demo_study_dir).studies[0]
    assert not is_volumetric(study.series[0].stacks[0])  # 3.3 mm slices of 0.96 mm pixels
    assert not is_volumetric(study.series[1].stacks[0])  # 5 angled slices
    assert not is_volumetric(study.series[2].stacks[0])  # 41 slices, 4.4 mm of 0.75 mm pixels
