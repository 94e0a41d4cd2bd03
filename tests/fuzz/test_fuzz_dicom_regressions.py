"""The DICOM bugs the fuzz tests found, each as its smallest input (plain tests, no hypothesis).

Before the fixes, each of these raised out of ``scan`` or out of loading (or, where said,
dropped a file silently, printed invalid JSON, or printed NaN on screen).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicom_dataset_mutants import unknown_vr
from dicom_helpers import sample_path
from fuzz_support import assert_one_line
from pydicom.dataset import Dataset

from spineviewer.cli import main
from spineviewer.dicom import DicomLoadError, FrameCache, StackPixels, scan
from spineviewer.dicom.display import to_display

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pydicom", "ignore::RuntimeWarning")


def skipped_reason(path: Path) -> str:
    """The one reason ``scan`` gives for skipping ``path`` (the only file in its folder)."""
    result = scan(path.parent)
    assert result.stacks() == []
    [skipped] = result.skipped
    assert skipped.path == str(path)
    assert_one_line(skipped.reason)
    return skipped.reason


def write(tmp_path: Path, source: str = "CT_small.dcm", **tags: object) -> Path:
    """A copy of a pydicom test file with ``tags`` set (bytes values are stored raw)."""
    ds = pydicom.dcmread(sample_path(source))
    for keyword, value in tags.items():
        if isinstance(value, bytes):
            ds[keyword] = unknown_vr(keyword, value)
        else:
            setattr(ds, keyword, value)
    path = tmp_path / "case.dcm"
    ds.save_as(path)
    return path


def patched(tmp_path: Path, source: str, find: bytes, offset: int, new: bytes) -> Path:
    """A pydicom test file with ``new`` written ``offset`` bytes after ``find``."""
    data = sample_path(source).read_bytes()
    at = data.index(find) + offset
    path = tmp_path / "case.dcm"
    path.write_bytes(data[:at] + new + data[at + len(new) :])
    return path


def test_corrupt_deflated_data_set_is_skipped(tmp_path: Path) -> None:
    """zlib.error escaped scan."""
    path = tmp_path / "case.dcm"
    path.write_bytes(sample_path("image_dfl.dcm").read_bytes()[:1000])
    assert "unreadable DICOM header" in skipped_reason(path)


def test_meta_element_with_a_wrong_vr_is_skipped(tmp_path: Path) -> None:
    """pydicom's BytesLengthException escaped scan."""
    path = patched(tmp_path, "CT_small.dcm", b"\x02\x00\x01\x00OB", 4, b"UL")
    assert "unreadable DICOM header" in skipped_reason(path)


def test_unknown_vr_is_skipped(tmp_path: Path) -> None:
    """NotImplementedError ("Unknown Value Representation") escaped scan."""
    path = patched(tmp_path, "CT_small.dcm", b"\x10\x00\x10\x00PN", 4, b"ZZ")
    assert "Unknown Value Representation" in skipped_reason(path)


@pytest.mark.parametrize("keyword", ["Rows", "Columns", "BitsAllocated", "PixelRepresentation"])
def test_multi_valued_integer_attribute_is_skipped(tmp_path: Path, keyword: str) -> None:
    """int() of a list (TypeError) escaped scan."""
    path = write(tmp_path, **{keyword: b"\x10\x00\x10\x00"})
    assert skipped_reason(path).startswith(f"{keyword} [16, 16] is not a whole number")


def test_a_value_where_a_sequence_belongs_is_ignored(tmp_path: Path) -> None:
    """A UI value under the PerFrameFunctionalGroupsSequence tag: AttributeError escaped scan."""
    path = patched(tmp_path, "MR_small.dcm", b"\x08\x00\x16\x00UI", 0, b"\x00\x52\x30\x92")
    [stack] = scan(path).stacks()
    assert StackPixels(stack, FrameCache()).slice(0).shape == (64, 64)


def test_bits_stored_beyond_bits_allocated_is_skipped(tmp_path: Path) -> None:
    """OverflowError (int too large to convert to float) escaped StackPixels."""
    path = write(tmp_path, BitsStored=b"\x12\x0a")
    assert skipped_reason(path) == "BitsStored 2578 is more than BitsAllocated 16"


def test_bits_allocated_7_is_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, BitsAllocated=b"\x07\x00")
    assert skipped_reason(path) == "BitsAllocated 7 is not 1 or a multiple of 8 up to 64"


def test_negative_number_of_frames_is_skipped(tmp_path: Path) -> None:
    """The file was dropped silently: neither loaded nor listed as skipped."""
    path = write(tmp_path, NumberOfFrames="-1")
    assert skipped_reason(path) == "NumberOfFrames -1 is negative"


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_non_finite_rescale_is_skipped(tmp_path: Path, value: str) -> None:
    """NaN on screen, then a ValueError from the data window."""
    path = write(tmp_path, RescaleSlope=value.encode())
    assert skipped_reason(path) == f"RescaleSlope {float(value)} is not a finite number"


def test_nan_slice_thickness_keeps_info_json_valid(tmp_path: Path) -> None:
    """``info --json`` printed ``NaN``, which is not JSON."""
    path = write(tmp_path, SliceThickness=b"nan ")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["info", str(path), "--json"]) == 0

    def refuse(name: str) -> None:
        raise AssertionError(name)

    [study] = json.loads(out.getvalue(), parse_constant=refuse)["studies"]
    assert study["series"][0]["stacks"][0]["slice_thickness_mm"] is None


def lut_item(descriptor: list[int], data: list[int]) -> Dataset:
    item = Dataset()
    item.add_new(0x00283002, "US", descriptor)
    item.add_new(0x00283006, "US", data)
    return item


def test_modality_lut_of_an_implicit_vr_file_applies(tmp_path: Path) -> None:
    """A valid file: the LUT item, out of its file, could not tell its byte order
    (AttributeError from pydicom at the first slice)."""
    lut = [4095 - v for v in range(4096)]
    path = write(tmp_path, "MR_small_implicit.dcm")
    ds = pydicom.dcmread(path)
    ds.ModalityLUTSequence = [lut_item([4096, 0, 16], lut)]
    ds.save_as(path)
    stored = pydicom.dcmread(path).pixel_array

    [stack] = scan(path).stacks()

    values = StackPixels(stack, FrameCache()).slice(0)
    np.testing.assert_array_equal(values, np.asarray(lut)[np.clip(stored, 0, 4095)])


def test_modality_lut_shorter_than_its_descriptor_is_skipped(tmp_path: Path) -> None:
    """IndexError / TypeError escaped StackPixels.slice."""
    path = write(tmp_path, "MR_small.dcm")
    ds = pydicom.dcmread(path)
    ds.ModalityLUTSequence = [lut_item([4096, 0, 16], [1, 2])]
    ds.save_as(path)
    reason = skipped_reason(path)
    assert reason == "ModalityLUTSequence LUTData has 2 values for 4096 LUTDescriptor entries"


def test_broken_voi_lut_falls_back_to_the_window(tmp_path: Path) -> None:
    """NotImplementedError ('118 bits per LUT entry') escaped to_display."""
    path = write(tmp_path, "MR_small.dcm")
    ds = pydicom.dcmread(path)
    ds.VOILUTSequence = [lut_item([4096, 0, 118], [0] * 4096)]
    ds.save_as(path)
    [stack] = scan(path).stacks()
    frame = stack.frames[0]
    assert frame.instance.voi_lut is None
    shown = to_display(StackPixels(stack, FrameCache()).slice(0), frame)
    assert np.isfinite(shown).all()


def test_colour_volume_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rgb.dcm"
    shutil.copy(sample_path("SC_rgb.dcm"), path)
    [stack] = scan(path).stacks()
    with pytest.raises(DicomLoadError, match=r"rgb\.dcm"):
        StackPixels(stack, FrameCache()).volume()


@pytest.mark.parametrize(
    ("source", "keyword", "value"),
    [
        ("MR_small.dcm", "RescaleSlope", "1e38"),  # 4290 x 1e38 is beyond float32
        ("CT_small.dcm", "RescaleIntercept", "9" * 40),  # a flat image at 1e40
        ("SC_rgb.dcm", "RescaleSlope", "9" * 40),  # colour: 0 x inf was NaN
    ],
)
def test_rescale_beyond_float32_is_shown(
    tmp_path: Path, source: str, keyword: str, value: str
) -> None:
    """Infinite values, NaN on screen, or a ValueError (window width 0) from to_display."""
    path = write(tmp_path, source, **{keyword: value.encode()})
    [stack] = scan(path).stacks()
    values = StackPixels(stack, FrameCache()).slice(0)
    assert values.dtype == np.float64 and np.isfinite(values).all()
    assert np.isfinite(to_display(values, stack.frames[0])).all()


def test_non_image_reason_quotes_an_odd_sop_class_on_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "MR_small_implicit.dcm", SOPClassUID=b"a\nb")
    ds = pydicom.dcmread(path)
    del ds.Columns
    ds.save_as(path)
    assert skipped_reason(path) == "not an image (SOP class 'a\\nb': no Rows/Columns)"


# -- DICOMDIR ------------------------------------------------------------------------------------


def test_dicomdir_cut_inside_its_records_is_skipped(media: Path) -> None:
    """The record sequence is parsed lazily: OSError escaped scan."""
    dicomdir = media / "DICOMDIR"
    dicomdir.write_bytes(dicomdir.read_bytes()[:400])
    result = scan(dicomdir)
    [skipped] = result.skipped
    assert skipped.path == str(dicomdir) and skipped.reason.startswith("unreadable DICOMDIR")


@pytest.mark.parametrize(
    "file_id", [["..", "outside.dcm"], ["/etc/passwd"], ["PT000000", "..", "..", "outside.dcm"]]
)
def test_dicomdir_reference_outside_its_folder_is_refused(media: Path, file_id: list[str]) -> None:
    """Files outside the media folder were read (and a NUL in a name raised ValueError)."""
    dicomdir = media / "DICOMDIR"
    ds = pydicom.dcmread(dicomdir)
    ds.DirectoryRecordSequence[-1].ReferencedFileID = file_id
    ds.save_as(dicomdir)

    result = scan(dicomdir)

    [refused] = result.skipped
    assert refused.path == str(dicomdir)
    assert "does not name a file inside the DICOMDIR's folder" in refused.reason
    [stack] = result.stacks()
    assert all(f.instance.ref.path.is_relative_to(media) for f in stack.frames)
