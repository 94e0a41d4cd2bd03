"""Volumes against SimpleITK: the real CT series, NIfTI, and the SimpleITK round trip."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from dicom_helpers import REAL_CT_DIR, REAL_CT_NIFTI, sample_path

from spineviewer.dicom import FrameCache, StackPixels, Volume, read_nifti, scan

pytestmark = pytest.mark.skipif(not REAL_CT_DIR.is_dir(), reason="real CT examples not present")


@pytest.fixture(scope="module")
def real_ct_scan():
    return scan(REAL_CT_DIR)


@pytest.fixture(scope="module")
def real_ct_volume(real_ct_scan) -> Volume:
    [stack] = real_ct_scan.stacks()
    return StackPixels(stack, FrameCache()).volume()


@pytest.fixture(scope="module")
def sitk_series() -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(REAL_CT_DIR)))
    return reader.Execute()


def assert_same_geometry(volume: Volume, image: sitk.Image, atol: float = 0.01) -> None:
    """Shape, spacing, origin and direction of a Volume equal a SimpleITK image's."""
    size_i, size_j, size_k = image.GetSize()
    assert volume.shape == (size_k, size_j, size_i)
    sx, sy, sz = image.GetSpacing()
    np.testing.assert_allclose(volume.spacing, (sz, sy, sx), atol=atol)
    np.testing.assert_allclose(volume.origin, image.GetOrigin(), atol=atol)
    direction = np.asarray(image.GetDirection()).reshape(3, 3)
    # Volume axes are (k, j, i); SimpleITK's direction columns are (i, j, k).
    unit_axes = volume.affine[:3, :3] / np.asarray(volume.spacing)
    np.testing.assert_allclose(unit_axes[:, ::-1], direction, atol=1e-6)
    corner = (size_i - 1, size_j - 1, size_k - 1)
    np.testing.assert_allclose(
        volume.index_to_patient(np.array(corner[::-1], dtype=float)),
        image.TransformIndexToPhysicalPoint(corner),
        atol=atol,
    )


def test_real_ct_is_one_stack_of_twenty_slices_2mm_apart(real_ct_scan) -> None:
    assert real_ct_scan.skipped == ()
    [study] = real_ct_scan.studies
    [series] = study.series
    [stack] = series.stacks
    assert len(stack) == 20
    assert stack.plane == "axial"
    assert stack.first.slice_thickness == 3.0  # what the header says ...
    assert stack.slice_spacing == pytest.approx(2.0)  # ... and what the positions say
    assert stack.pixel_spacing == pytest.approx((0.9765625, 0.9765625))
    assert stack.transfer_syntaxes == ("1.2.840.10008.1.2.4.90",)
    assert stack.warnings == ()


def test_real_ct_blank_uids_still_group_into_one_series(real_ct_scan) -> None:
    [stack] = real_ct_scan.stacks()
    instances = {f.instance for f in stack.frames}
    assert len(instances) == 20
    assert len({i.series_uid for i in instances}) == 1
    assert len({i.study_uid for i in instances}) == 1


def test_real_ct_volume_geometry_equals_simpleitk(real_ct_volume, sitk_series) -> None:
    assert_same_geometry(real_ct_volume, sitk_series)
    np.testing.assert_allclose(real_ct_volume.spacing, (2.0, 0.9765625, 0.9765625))


def test_real_ct_volume_values_equal_simpleitk_hounsfield(real_ct_volume, sitk_series) -> None:
    expected = sitk.GetArrayFromImage(sitk_series)
    np.testing.assert_array_equal(real_ct_volume.array, expected)
    assert real_ct_volume.array.min() < -900  # air in HU: the rescale was applied
    assert real_ct_volume.array.max() > 300  # bone


def test_volume_to_sitk_and_back_keeps_everything(real_ct_volume) -> None:
    image = real_ct_volume.to_sitk()
    assert_same_geometry(real_ct_volume, image, atol=1e-9)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(image), real_ct_volume.array)

    back = Volume.from_sitk(image, "1.2.3")

    np.testing.assert_allclose(back.affine, real_ct_volume.affine, atol=1e-9)
    np.testing.assert_array_equal(back.array, real_ct_volume.array)
    np.testing.assert_allclose(back.positions, real_ct_volume.positions, atol=1e-6)
    assert back.frame_of_reference_uid == "1.2.3"


def test_oblique_non_square_volume_round_trips_through_sitk() -> None:
    """Axis order matters: row spacing 0.5, column spacing 2.0, slices 3.0 mm, tilted."""
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    row_dir = np.array([1.0, 0.0, 0.0])  # columns grow along x
    col_dir = np.array([0.0, c, s])  # rows grow along y tilted towards z
    normal = np.cross(row_dir, col_dir)
    affine = np.eye(4)
    affine[:3, 0] = 3.0 * normal
    affine[:3, 1] = 0.5 * col_dir
    affine[:3, 2] = 2.0 * row_dir
    affine[:3, 3] = (10.0, -20.0, 30.0)
    array = np.arange(2 * 3 * 4, dtype=np.int16).reshape(2, 3, 4)
    volume = Volume(array, affine)

    image = volume.to_sitk()

    assert image.GetSize() == (4, 3, 2)
    np.testing.assert_allclose(image.GetSpacing(), (2.0, 0.5, 3.0))
    # voxel (k=1, j=2, i=3) = origin + 3*2.0*x + 2*0.5*col + 1*3.0*normal
    expected = np.array([10.0, -20.0, 30.0]) + 6.0 * row_dir + 1.0 * col_dir + 3.0 * normal
    np.testing.assert_allclose(image.TransformIndexToPhysicalPoint((3, 2, 1)), expected)
    np.testing.assert_allclose(volume.index_to_patient([1, 2, 3]), expected)
    np.testing.assert_allclose(volume.patient_to_index(expected), [1, 2, 3], atol=1e-9)
    assert image[3, 2, 1] == array[1, 2, 3]
    back = Volume.from_sitk(image)
    np.testing.assert_allclose(back.affine, affine, atol=1e-12)
    np.testing.assert_array_equal(back.array, array)


def test_read_nifti_equals_simpleitk() -> None:
    image = sitk.ReadImage(str(REAL_CT_NIFTI))

    volume = read_nifti(REAL_CT_NIFTI)

    assert volume.shape == (30, 101, 122)
    assert_same_geometry(volume, image, atol=1e-6)
    np.testing.assert_allclose(volume.spacing, (3.0, 3.0, 3.0))
    np.testing.assert_array_equal(volume.array, sitk.GetArrayFromImage(image))


def test_volume_rejects_wrong_shapes() -> None:
    with pytest.raises(ValueError, match="3D"):
        Volume(np.zeros((4, 4)), np.eye(4))
    with pytest.raises(ValueError, match="4x4"):
        Volume(np.zeros((1, 4, 4)), np.eye(3))


def test_zero_pixel_spacing_is_treated_as_unknown() -> None:
    [stack] = scan(sample_path("RG1_UNCR.dcm")).stacks()
    assert stack.pixel_spacing is None or min(stack.pixel_spacing) > 0
    volume = StackPixels(stack, FrameCache()).volume()
    assert min(volume.spacing) > 0
    assert np.linalg.det(volume.affine) != 0
