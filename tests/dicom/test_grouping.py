"""Grouping into series and stacks, and slice order, on folders of rewritten real CT slices."""

from __future__ import annotations

import random
import shutil

import numpy as np
import pytest
from dicom_helpers import AXIAL, CORONAL, CT_SMALL_INTERCEPT, SAGITTAL, load_all

from spineviewer.dicom import FrameCache, StackPixels, scan


def rotated_about_x(degrees: float) -> tuple[float, ...]:
    """Axial orientation tilted about the patient's left-right axis."""
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return (1.0, 0.0, 0.0, 0.0, float(c), float(s))


def normal_of(orientation) -> np.ndarray:
    return np.cross(orientation[:3], orientation[3:])


def markers(volume) -> list[int]:
    """The marker written into pixel (0, 0) of each slice, in volume order."""
    return [int(v) - CT_SMALL_INTERCEPT for v in volume.array[:, 0, 0]]


def only_series(result):
    [study] = result.studies
    [series] = study.series
    return series


ORIENTATIONS = {
    "axial": AXIAL,
    "sagittal": SAGITTAL,
    "coronal": CORONAL,
    "tilted-30-is-axial": rotated_about_x(30),
    "oblique-45": rotated_about_x(45),
}
PLANE_NAMES = {
    "axial": "axial",
    "sagittal": "sagittal",
    "coronal": "coronal",
    "tilted-30-is-axial": "axial",
    "oblique-45": "oblique",
}


@pytest.mark.parametrize("name", sorted(ORIENTATIONS))
def test_shuffled_files_are_ordered_along_the_normal(tmp_path, write_ct_slice, name) -> None:
    orientation = ORIENTATIONS[name]
    normal = normal_of(orientation)
    origin = np.array([-40.0, 25.0, 100.0])
    n = 6
    rng = random.Random(7)
    file_order = rng.sample(range(n), n)
    instance_numbers = rng.sample(range(1, n + 1), n)
    for k in range(n):
        write_ct_slice(
            tmp_path / "s" / f"file{file_order[k]}.dcm",
            position=tuple(origin + 2.5 * k * normal),
            orientation=orientation,
            instance_number=instance_numbers[k],
            marker=k,
            PixelSpacing=[0.5, 2.0],  # rows 0.5 mm apart, columns 2.0 mm apart
        )

    result = scan(tmp_path / "s")

    [stack] = result.stacks()
    assert stack.plane == PLANE_NAMES[name]
    assert stack.slice_spacing == pytest.approx(2.5)
    assert stack.warnings == ()
    assert stack.confidence == 1.0
    positions = np.array([f.position for f in stack.frames])
    np.testing.assert_allclose(positions, origin + 2.5 * np.outer(np.arange(n), normal), atol=1e-4)
    volume = StackPixels(stack, FrameCache()).volume()
    assert markers(volume) == list(range(n))
    np.testing.assert_allclose(volume.spacing[0], 2.5, atol=1e-4)
    np.testing.assert_allclose(volume.affine[:3, 0] / 2.5, normal, atol=1e-4)
    # Voxel (k, j, i) is at position_k + i * 2.0 * IOP[0:3] + j * 0.5 * IOP[3:6] ...
    row_dir, col_dir = np.asarray(orientation[:3]), np.asarray(orientation[3:])
    for k, j, i in [(0, 0, 0), (2, 10, 3), (5, 127, 127)]:
        expected = positions[k] + i * 2.0 * row_dir + j * 0.5 * col_dir
        np.testing.assert_allclose(volume.index_to_patient([k, j, i]), expected, atol=1e-4)
        # ... which is also where the stack's plane puts pixel (j, i) of slice k.
        np.testing.assert_allclose(stack.plane_of(k).to_patient(j, i), expected, atol=1e-4)


@pytest.mark.parametrize(
    ("modality", "expected"), [("DX", "projection"), ("CR", "projection"), ("CT", "unknown")]
)
def test_images_without_geometry_are_projection_or_unknown(
    tmp_path, write_ct_slice, modality, expected
) -> None:
    write_ct_slice(tmp_path / "x.dcm", position=None, orientation=None, Modality=modality)

    [stack] = scan(tmp_path / "x.dcm").stacks()

    assert stack.plane == expected
    assert stack.warnings == ()  # a single projection image is not a defective stack


def test_two_orientations_in_one_series_are_split(tmp_path, write_ct_slice) -> None:
    for k in range(3):
        write_ct_slice(tmp_path / f"ax{k}.dcm", position=(0, 0, 2.0 * k), instance_number=k)
        write_ct_slice(
            tmp_path / f"sag{k}.dcm",
            position=(3.0 * k, 0, 0),
            orientation=SAGITTAL,
            instance_number=10 + k,
        )

    series = only_series(scan(tmp_path))

    assert len(series.stacks) == 2
    names = [s.name for s in series.stacks]
    assert len(set(names)) == 2
    assert any("axial" in n for n in names)
    assert any("sagittal" in n for n in names)
    assert sorted(s.plane for s in series.stacks) == ["axial", "sagittal"]
    assert {len(s) for s in series.stacks} == {3}
    assert sorted(s.slice_spacing for s in series.stacks) == pytest.approx([2.0, 3.0])
    assert any("orientations" in w for w in series.warnings)


def test_orientation_jitter_does_not_split_a_stack(tmp_path, write_ct_slice) -> None:
    for k, jitter in enumerate([0.0004999, 0.0005001, 0.0004999, 0.0005001]):
        write_ct_slice(
            tmp_path / f"s{k}.dcm",
            position=(0, 0, 2.0 * k),
            orientation=(1.0, 0.0, 0.0, 0.0, 1.0, jitter),
            instance_number=k,
        )

    series = only_series(scan(tmp_path))

    assert [len(s) for s in series.stacks] == [4]
    assert series.warnings == ()


def test_two_sizes_in_one_series_are_split(tmp_path, write_ct_slice, scan_and_load_unchanged):
    for k in range(3):
        write_ct_slice(tmp_path / f"big{k}.dcm", position=(0, 0, 2.0 * k), instance_number=k)
    for k in range(2):
        write_ct_slice(
            tmp_path / f"small{k}.dcm", position=(0, 0, 2.0 * k), size=(64, 32), instance_number=k
        )

    result, volumes = scan_and_load_unchanged(tmp_path)

    series = only_series(result)
    assert sorted((s.shape, len(s)) for s in series.stacks) == [((64, 32), 2), ((128, 128), 3)]
    names = [s.name for s in series.stacks]
    assert any("64x32" in n for n in names) and any("128x128" in n for n in names)
    assert any("sizes" in w for w in series.warnings)
    assert sorted(v.shape for v in volumes) == [(2, 64, 32), (3, 128, 128)]


def test_uneven_spacing_warns_with_the_gaps_and_still_loads(tmp_path, write_ct_slice) -> None:
    zs = [0.0, 2.0, 4.0, 9.0, 11.0]
    for k, z in enumerate(zs):
        write_ct_slice(tmp_path / f"s{k}.dcm", position=(0, 0, z), instance_number=k, marker=k)

    [stack] = scan(tmp_path).stacks()

    [warning] = stack.warnings
    assert "uneven" in warning
    assert "2.00" in warning and "5.00" in warning
    assert stack.confidence < 1.0
    assert stack.slice_spacing == pytest.approx(2.0)  # the median gap
    volume = StackPixels(stack, FrameCache()).volume()
    assert markers(volume) == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(volume.positions[:, 2], zs)


def test_gantry_tilt_is_a_warning(tmp_path, write_ct_slice) -> None:
    for k in range(4):
        write_ct_slice(tmp_path / f"s{k}.dcm", position=(0, 1.0 * k, 2.0 * k), instance_number=k)

    [stack] = scan(tmp_path).stacks()

    [warning] = stack.warnings
    assert "offset sideways" in warning
    assert "26.6 degrees" in warning  # atan(1 / 2)
    assert stack.slice_spacing == pytest.approx(2.0)


@pytest.fixture
def one_position_missing(tmp_path, write_ct_slice):
    """Four slices; file names and positions disagree with InstanceNumber; the third slice
    (InstanceNumber 3) has no ImagePositionPatient. Marker k is on InstanceNumber k + 1."""
    for k, z in enumerate([30.0, 10.0, None, 0.0]):
        write_ct_slice(
            tmp_path / f"{9 - k}.dcm",
            position=None if z is None else (0, 0, z),
            instance_number=k + 1,
            marker=k,
        )
    return tmp_path


def test_missing_positions_fall_back_to_instance_number(one_position_missing) -> None:
    [stack] = scan(one_position_missing).stacks()

    [warning] = stack.warnings
    assert "1 of 4 images have no ImagePositionPatient" in warning
    assert "InstanceNumber" in warning
    assert [f.instance.instance_number for f in stack.frames] == [1, 2, 3, 4]
    assert stack.confidence < 1.0
    assert stack.slice_spacing is None


def test_stack_with_some_missing_positions_loads(one_position_missing) -> None:
    [stack] = scan(one_position_missing).stacks()

    volume = StackPixels(stack, FrameCache()).volume()

    assert markers(volume) == [0, 1, 2, 3]
    assert np.linalg.det(volume.affine) != 0


def test_slices_missing_position_and_orientation_warn_and_load(
    tmp_path, write_ct_slice, scan_and_load_unchanged
) -> None:
    for k in range(4):
        write_ct_slice(
            tmp_path / f"s{k}.dcm",
            position=None if k == 0 else (0, 0, 2.0 * k),
            orientation=None if k == 0 else AXIAL,
            instance_number=k + 1,
            marker=k,
        )

    result, volumes = scan_and_load_unchanged(tmp_path)

    series = only_series(result)
    all_warnings = [*series.warnings, *(w for s in series.stacks for w in s.warnings)]
    assert all_warnings, "images without geometry must be reported"
    assert sorted(m for v in volumes for m in markers(v)) == [0, 1, 2, 3]


def test_duplicated_instance_is_kept_once_with_a_warning_naming_both(
    tmp_path, axial_series
) -> None:
    paths = axial_series(n=3)
    copy = tmp_path / "series" / "zz_copy" / "again.dcm"
    copy.parent.mkdir()
    shutil.copy2(paths[1], copy)

    result = scan(tmp_path / "series")

    series = only_series(result)
    [stack] = series.stacks
    assert len(stack) == 3
    assert stack.warnings == ()
    [warning] = series.warnings
    assert "duplicate" in warning
    assert str(paths[1]) in warning and str(copy) in warning
    assert [f.instance.ref.path for f in stack.frames] == paths
    assert result.skipped == ()


def test_echoes_at_the_same_positions_are_split_by_echo(tmp_path, write_ct_slice) -> None:
    for echo in (1, 2):
        for k in range(3):
            write_ct_slice(
                tmp_path / f"e{echo}_{k}.dcm",
                position=(0, 0, 4.0 * k),
                instance_number=10 * echo + k,
                marker=10 * echo + k,
                EchoNumbers=echo,
            )

    series = only_series(scan(tmp_path))

    assert len(series.stacks) == 2
    by_name = {s.name: s for s in series.stacks}
    [echo1] = [s for n, s in by_name.items() if "echo 1" in n]
    [echo2] = [s for n, s in by_name.items() if "echo 2" in n]
    for stack, echo in ((echo1, 1), (echo2, 2)):
        assert len(stack) == 3
        assert stack.warnings == ()
        assert stack.slice_spacing == pytest.approx(4.0)
        assert markers(StackPixels(stack, FrameCache()).volume()) == [
            10 * echo + k for k in range(3)
        ]


def test_same_positions_without_a_telling_attribute_warn(tmp_path, write_ct_slice) -> None:
    for k in range(2):
        write_ct_slice(tmp_path / f"a{k}.dcm", position=(0, 0, 0), instance_number=k)

    [stack] = scan(tmp_path).stacks()

    assert len(stack) == 2
    assert any("share a slice position" in w for w in stack.warnings)
    assert stack.confidence < 1.0


@pytest.mark.parametrize("how", ["blank", "absent"])
def test_blank_study_and_series_uids_still_group_into_one_series(
    tmp_path, write_ct_slice, how
) -> None:
    for k in range(4):
        path = tmp_path / f"s{k}.dcm"
        if how == "blank":
            write_ct_slice(
                path,
                position=(0, 0, 2.0 * k),
                instance_number=k,
                StudyInstanceUID="",
                SeriesInstanceUID="",
            )
        else:
            write_ct_slice(
                path,
                position=(0, 0, 2.0 * k),
                instance_number=k,
                remove=("StudyInstanceUID", "SeriesInstanceUID"),
            )

    result = scan(tmp_path)

    [study] = result.studies
    [series] = study.series
    [stack] = series.stacks
    assert len(stack) == 4
    assert stack.slice_spacing == pytest.approx(2.0)


def test_blank_uids_still_separate_different_series(tmp_path, write_ct_slice) -> None:
    for number in (2, 5):
        for k in range(3):
            write_ct_slice(
                tmp_path / f"{number}_{k}.dcm",
                position=(0, 0, 2.0 * k),
                instance_number=k,
                StudyInstanceUID="",
                SeriesInstanceUID="",
                SeriesNumber=number,
            )

    [study] = scan(tmp_path).studies

    assert [(s.number, len(s.stacks), len(s.stacks[0])) for s in study.series] == [
        (2, 1, 3),
        (5, 1, 3),
    ]


def test_two_series_are_two_series_in_series_number_order(tmp_path, write_ct_slice) -> None:
    for number, uid in (
        (7, "1.2.826.0.1.3680043.8.498.4242.70"),
        (3, "1.2.826.0.1.3680043.8.498.4242.30"),
    ):
        for k in range(2):
            write_ct_slice(
                tmp_path / f"{number}_{k}.dcm",
                position=(0, 0, 2.0 * k),
                SeriesInstanceUID=uid,
                SeriesNumber=number,
                SeriesDescription=f"series {number}",
            )

    result = scan(tmp_path)

    [study] = result.studies
    assert [s.number for s in study.series] == [3, 7]
    assert [s.description for s in study.series] == ["series 3", "series 7"]
    assert [len(s.stacks[0]) for s in study.series] == [2, 2]
    assert len(load_all(result)) == 2
