"""Every transfer syntax the viewer must read, on real files, against pydicom and known values.

The registry follows pydicom's ``tests/pixels/pixels_reference.py``: one entry per file with
what it holds and a few pixel values that pydicom's own reference tests assert (or, where
pydicom has none, values read once with pydicom and written down here).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pydicom
import pytest
from dicom_helpers import sample_path
from pydicom.dataset import Dataset
from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

from spineviewer.dicom import DicomLoadError, FrameCache, ScanResult, StackPixels, scan

#: (file frame, row, first column, values from that column on) after the modality LUT.
Spot = tuple[int, int, int, tuple[float, ...]]

# pydicom pixels_reference.py: MR_small in every syntax holds the same pixels.
MR_SMALL_SPOTS: tuple[Spot, ...] = (
    (0, 0, 31, (422, 319, 361)),
    (0, 31, 0, (366, 363, 322)),
    (0, 63, 61, (1369, 1129, 862)),
)
# pydicom pixels_reference.py EXPL_16_1_10F: emri_small frames 1, 5 and 10.
EMRI_SPOTS: tuple[Spot, ...] = (
    (0, 0, 31, (206, 197, 159)),
    (0, 31, 0, (49, 78, 128)),
    (0, 63, 61, (362, 219, 135)),
    (4, 0, 31, (67, 82, 44)),
    (4, 31, 0, (37, 41, 17)),
    (4, 63, 61, (225, 380, 355)),
    (9, 0, 31, (72, 86, 69)),
    (9, 31, 0, (25, 4, 9)),
    (9, 63, 61, (227, 300, 147)),
)


@dataclass(frozen=True)
class Reference:
    """A real file, what it holds, and where its reference pixel values come from."""

    name: str
    syntax: str
    frames: int
    shape: tuple[int, int]
    spots: tuple[Spot, ...] = ()
    #: pydicom decodes this file for the reference (an uncompressed twin where one exists).
    same_pixels_as: str | None = None
    photometric: str = "MONOCHROME2"
    plane: str = "unknown"

    def __str__(self) -> str:
        return self.name


REGISTRY = [
    Reference("MR_small.dcm", ExplicitVRLittleEndian, 1, (64, 64), MR_SMALL_SPOTS, plane="axial"),
    Reference(
        "MR_small_implicit.dcm", ImplicitVRLittleEndian, 1, (64, 64), MR_SMALL_SPOTS, plane="axial"
    ),
    Reference(
        "MR_small_bigendian.dcm", ExplicitVRBigEndian, 1, (64, 64), MR_SMALL_SPOTS, plane="axial"
    ),
    Reference(
        "image_dfl.dcm",
        DeflatedExplicitVRLittleEndian,
        1,
        (512, 512),
        ((0, 300, 255, (138, 65, 65, 65, 65, 35, 35, 35)),),  # pydicom DEFL_8_1_1F
    ),
    Reference("MR_small_RLE.dcm", RLELossless, 1, (64, 64), MR_SMALL_SPOTS, plane="axial"),
    Reference(
        "JPGExtended.dcm",
        JPEGExtended12Bit,
        1,
        (1024, 256),
        ((0, 420, 140, (244,)), (0, 230, 120, (95,))),  # pydicom JPGE_16_12_1_0_1F_M2
    ),
    Reference(
        "JPEG-LL.dcm",
        JPEGLosslessSV1,
        1,
        (1024, 256),
        (  # pydicom JPGS_16_16_1_1_1F_M2
            (0, 400, 124, (60, 58, 61, 68, 59, 65, 64, 67)),
            (0, 600, 124, (3, 1, 2, 0, 2, 1, 2, 0)),
        ),
    ),
    Reference(
        "JPGLosslessP14SV1_1s_1f_8b.dcm",
        JPEGLosslessSV1,
        1,
        (768, 1024),
        (  # pydicom JPGS_08_08_1_0_1F
            (0, 300, 512, (26, 26, 25, 22, 19, 16, 14, 15)),
            (0, 600, 512, (45, 43, 41, 38, 33, 30, 26, 21)),
        ),
    ),
    Reference(
        "MR_small_jpeg_ls_lossless.dcm",
        JPEGLSLossless,
        1,
        (64, 64),
        MR_SMALL_SPOTS,
        same_pixels_as="MR_small.dcm",
        plane="axial",
    ),
    Reference(
        "JPEGLSNearLossless_16.dcm",
        JPEGLSNearLossless,
        1,
        (50, 10),
        # Read once with pydicom: bands of five rows, each a constant value.
        tuple(
            (0, row, 5, (value,))
            for row, value in zip(
                range(0, 50, 5),
                (65535, 32765, 16385, 4095, 1025, 255, 65, 15, 5, 0),
                strict=True,
            )
        ),
    ),
    Reference(
        "MR_small_jp2klossless.dcm",
        JPEG2000Lossless,
        1,
        (64, 64),
        MR_SMALL_SPOTS,
        same_pixels_as="MR_small.dcm",
        plane="axial",
    ),
    Reference(
        "JPEG2000.dcm",
        JPEG2000,
        1,
        (1024, 256),
        # Read once with pydicom (JPEG2000_UNC.dcm holds the same values).
        ((0, 400, 124, (63, 65, 67, 68, 69, 68, 67, 65)), (0, 600, 124, (-5, -7, -7, -8))),
        same_pixels_as="JPEG2000_UNC.dcm",
    ),
    *(
        Reference(name, syntax, 10, (64, 64), EMRI_SPOTS, same_pixels_as="emri_small.dcm")
        for name, syntax in (
            ("emri_small.dcm", ExplicitVRLittleEndian),
            ("emri_small_big_endian.dcm", ExplicitVRBigEndian),
            ("emri_small_RLE.dcm", RLELossless),
            ("emri_small_jpeg_ls_lossless.dcm", JPEGLSLossless),
            ("emri_small_jpeg_2k_lossless.dcm", JPEG2000Lossless),
        )
    ),
    Reference(
        "eCT_Supplemental.dcm",
        ExplicitVRLittleEndian,
        2,
        (512, 512),
        # Stored 1105 and 1022 (read once with pydicom), minus the per-frame intercept 1024.
        ((0, 256, 256, (81,)), (1, 256, 256, (-2,))),
        plane="axial",
    ),
    *(
        Reference(
            name,
            syntax,
            1,
            (1955, 1841),
            # Read once with pydicom from RG1_UNCR.dcm.
            ((0, 1000, 900, (3606, 3585, 3730, 3594, 3564)), (0, 232, 1797, (26479,))),
            same_pixels_as="RG1_UNCR.dcm",
            photometric="MONOCHROME1",
            plane="projection",
        )
        for name, syntax in (
            ("RG1_UNCR.dcm", ExplicitVRLittleEndian),
            ("RG1_J2KR.dcm", JPEG2000Lossless),
        )
    ),
    Reference(
        "mlut_18.dcm",
        ExplicitVRLittleEndian,
        1,
        (512, 512),
        # Stored -83 and -1 (read once with pydicom) through the Modality LUT Sequence.
        ((0, 256, 256, (31447,)), (0, 0, 0, (32759,))),
    ),
    Reference(
        "vlut_04.dcm",
        ExplicitVRLittleEndian,
        1,
        (512, 512),
        ((0, 256, 250, (122, 122, 122, 122, 122, 122)),),  # read once with pydicom
    ),
]
IDS = [r.name for r in REGISTRY]


def modality_lut_by_hand(stored: np.ndarray, ds: Dataset) -> np.ndarray:
    """PS3.3 C.11.1 written out: LUT sequence, per-frame or image rescale; float64."""
    values = stored.astype(np.float64)
    if "ModalityLUTSequence" in ds:
        item = ds.ModalityLUTSequence[0]
        count, first, _bits = (int(v) for v in item.LUTDescriptor)
        lut = np.asarray(item.LUTData, dtype=np.float64)
        index = np.clip(values - first, 0, (count or 65536) - 1).astype(np.int64)
        return lut[index]
    if "PerFrameFunctionalGroupsSequence" in ds:
        out = np.empty_like(values)
        shared = ds.get("SharedFunctionalGroupsSequence", [Dataset()])[0]
        for k, group in enumerate(ds.PerFrameFunctionalGroupsSequence):
            source = group if "PixelValueTransformationSequence" in group else shared
            item = source.PixelValueTransformationSequence[0]
            out[k] = values[k] * float(item.RescaleSlope) + float(item.RescaleIntercept)
        return out
    return values * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))


@functools.cache
def reference_values(ref: Reference) -> np.ndarray:
    """pydicom's decoded pixels with the modality LUT by hand, shape (frames, rows, cols)."""
    ds = pydicom.dcmread(sample_path(ref.same_pixels_as or ref.name))
    stored = ds.pixel_array.reshape(ref.frames, *ref.shape)
    transform = pydicom.dcmread(sample_path(ref.name), stop_before_pixels=True)
    out = modality_lut_by_hand(stored, transform)
    out.setflags(write=False)
    return out


@functools.cache
def scanned(name: str) -> ScanResult:
    return scan(sample_path(name))


def assert_values_equal(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.shape == expected.shape
    if np.issubdtype(actual.dtype, np.integer):
        np.testing.assert_array_equal(actual.astype(np.float64), expected)
    else:
        np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-3)


@pytest.mark.parametrize("ref", REGISTRY, ids=IDS)
def test_scan_finds_one_stack_with_every_frame(ref: Reference) -> None:
    result = scanned(ref.name)

    assert result.skipped == ()
    [stack] = result.stacks()
    assert len(stack) == ref.frames
    assert sorted(f.index for f in stack.frames) == list(range(ref.frames))
    assert stack.shape == ref.shape
    assert stack.transfer_syntaxes == (ref.syntax,)
    assert stack.first.instance.photometric == ref.photometric
    assert stack.plane == ref.plane


@pytest.mark.parametrize("ref", REGISTRY, ids=IDS)
def test_volume_equals_pydicom_pixels_after_modality_lut(ref: Reference) -> None:
    [stack] = scanned(ref.name).stacks()
    expected = reference_values(ref)[[f.index for f in stack.frames]]

    volume = StackPixels(stack, FrameCache()).volume()

    assert_values_equal(volume.array, expected)


@pytest.mark.parametrize("ref", REGISTRY, ids=IDS)
def test_each_slice_equals_pydicom_and_known_values(ref: Reference) -> None:
    [stack] = scanned(ref.name).stacks()
    pixels = StackPixels(stack, FrameCache())
    slice_of_frame = {f.index: k for k, f in enumerate(stack.frames)}

    for k, frame in enumerate(stack.frames):
        assert_values_equal(pixels.slice(k), reference_values(ref)[frame.index])
    for frame_index, row, col, values in ref.spots:
        got = pixels.slice(slice_of_frame[frame_index])[row, col : col + len(values)]
        assert got.tolist() == pytest.approx(list(values))


def test_enhanced_ct_uses_per_frame_positions_and_rescale() -> None:
    [stack] = scanned("eCT_Supplemental.dcm").stacks()

    # IOP (-1,0,0 / 0,1,0): the normal is -z, so z = -149 comes before z = -159.
    assert [f.index for f in stack.frames] == [1, 0]
    assert [f.position for f in stack.frames] == [(99.5, -301.5, -149.0), (99.5, -301.5, -159.0)]
    assert {f.rescale_intercept for f in stack.frames} == {-1024.0}
    assert stack.pixel_spacing == (0.388672, 0.388672)
    assert stack.slice_spacing == pytest.approx(10.0)
    volume = StackPixels(stack, FrameCache()).volume()
    np.testing.assert_allclose(volume.positions, [[99.5, -301.5, -149.0], [99.5, -301.5, -159.0]])
    np.testing.assert_allclose(volume.origin, [99.5, -301.5, -149.0])
    np.testing.assert_allclose(volume.spacing, (10.0, 0.388672, 0.388672))
    assert volume.array.min() == -1024  # stored 0 in the corners


def test_modality_lut_sequence_is_applied_to_every_pixel() -> None:
    """mlut_18: signed 12-bit stored values index a 4096-entry LUT starting at -2048."""
    ds = pydicom.dcmread(sample_path("mlut_18.dcm"))
    item = ds.ModalityLUTSequence[0]
    assert [int(v) for v in item.LUTDescriptor] == [4096, -2048, 16]
    lut = np.asarray(item.LUTData)
    [stack] = scanned("mlut_18.dcm").stacks()

    values = StackPixels(stack, FrameCache()).slice(0)

    np.testing.assert_array_equal(values, lut[ds.pixel_array.astype(np.int64) + 2048])


def test_undecodable_jpeg_extended_file_raises_clear_error() -> None:
    """JPEG-lossy.dcm has an invalid scan stop value: no decoder reads it."""
    path = sample_path("JPEG-lossy.dcm")
    [stack] = scanned("JPEG-lossy.dcm").stacks()
    pixels = StackPixels(stack, FrameCache())

    with pytest.raises(DicomLoadError) as from_slice:
        pixels.slice(0)
    with pytest.raises(DicomLoadError) as from_volume:
        pixels.volume()

    for error in (from_slice, from_volume):
        assert str(path) in str(error.value)
        assert "JPEG Extended" in str(error.value)
