"""Bad input: each case is reported with the file and the problem, the rest loads, and no
source file is modified (sha256 of every file before and after scan + load)."""

from __future__ import annotations

import shutil
import tracemalloc

import pydicom
import pytest
from dicom_helpers import CT_SMALL_INTERCEPT, sample_path

from spineviewer.dicom import DicomLoadError
from spineviewer.dicom.header import read_instance_frames
from spineviewer.dicom.sources import FileRef

PNG_BYTES = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")

NOT_DICOM = {
    "notes.txt": b"Patient has back pain.\nL4-L5 disc bulge.\n",
    "scan.png": PNG_BYTES + bytes(300),
    "empty.dcm": b"",
    "short.dcm": b"DICM",
}


@pytest.fixture
def good_series(tmp_path, axial_series):
    """Three good CT slices in tmp_path/series."""
    return axial_series(n=3)


def assert_good_series_loaded(result, volumes) -> None:
    [stack] = result.stacks()
    assert len(stack) == 3
    [volume] = volumes
    assert [int(v) - CT_SMALL_INTERCEPT for v in volume.array[:, 0, 0]] == [0, 1, 2]


@pytest.mark.parametrize("name", sorted(NOT_DICOM))
def test_non_dicom_file_is_skipped_and_the_rest_loads(
    tmp_path, good_series, scan_and_load_unchanged, name
) -> None:
    bad = tmp_path / "series" / name
    bad.write_bytes(NOT_DICOM[name])

    result, volumes = scan_and_load_unchanged(tmp_path / "series")

    [skipped] = result.skipped
    assert skipped.path == str(bad)
    assert "not a DICOM file" in skipped.reason
    assert_good_series_loaded(result, volumes)


def test_all_non_dicom_files_together(tmp_path, good_series, scan_and_load_unchanged) -> None:
    for name, data in NOT_DICOM.items():
        (tmp_path / "series" / name).write_bytes(data)

    result, volumes = scan_and_load_unchanged(tmp_path / "series")

    assert sorted(s.path for s in result.skipped) == sorted(
        str(tmp_path / "series" / n) for n in NOT_DICOM
    )
    assert_good_series_loaded(result, volumes)


def test_truncated_pixel_data_is_skipped(tmp_path, good_series, scan_and_load_unchanged) -> None:
    truncated = tmp_path / "series" / "MR_truncated.dcm"
    shutil.copy2(sample_path("MR_truncated.dcm"), truncated)

    result, volumes = scan_and_load_unchanged(tmp_path / "series")

    [skipped] = result.skipped
    assert skipped.path == str(truncated)
    assert "truncated" in skipped.reason
    assert "8130 bytes present, 8192 expected" in skipped.reason
    assert_good_series_loaded(result, volumes)


def test_dicom_without_an_image_is_skipped(tmp_path, good_series, scan_and_load_unchanged) -> None:
    """A structured report has no Rows/Columns: not an image, named by its SOP class."""
    report = tmp_path / "series" / "report.dcm"
    shutil.copy2(sample_path("test-SR.dcm"), report)

    result, volumes = scan_and_load_unchanged(tmp_path / "series")

    [skipped] = result.skipped
    assert skipped.path == str(report)
    assert "not an image" in skipped.reason
    assert_good_series_loaded(result, volumes)


@pytest.mark.parametrize(
    ("rows", "columns", "frames", "gib"),
    [(65535, 65535, 100000, "799975.6"), (65535, 65535, 1, "8.0"), (4096, 4096, 2000, "62.5")],
)
def test_absurd_dimensions_are_refused_without_allocating(
    tmp_path, good_series, scan_and_load_unchanged, rows, columns, frames, gib
) -> None:
    ds = pydicom.dcmread(sample_path("CT_small.dcm"))
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, columns, frames
    ds.PixelData = bytes(16)
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.8.498.4242.99"
    huge = tmp_path / "series" / "huge.dcm"
    ds.save_as(huge)

    tracemalloc.start()
    try:
        result, volumes = scan_and_load_unchanged(tmp_path / "series")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    [skipped] = result.skipped
    assert skipped.path == str(huge)
    assert "GiB" in skipped.reason
    assert f"{gib} GiB" in skipped.reason
    assert_good_series_loaded(result, volumes)
    assert peak < 50 * 1024**2


def test_read_instance_frames_error_names_the_problem(tmp_path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(NOT_DICOM["notes.txt"])

    with pytest.raises(DicomLoadError, match="not a DICOM file"):
        read_instance_frames(FileRef(path))
