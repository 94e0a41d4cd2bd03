"""One damaged file in a series: it stays in its stack, marked with the reason, and neither
splits the series nor takes the stack's plane, spacing or other slices away.

Each case damages one of five real CT slices (copies of pydicom's CT_small.dcm) with pydicom
(tests/damaged_dicom.py): a JPEG frame cut short, no Pixel Data, PixelSpacing 0 / negative /
NaN / "abc", a NaN position, an orientation whose row and column are not perpendicular.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from damaged_dicom import DAMAGES, to_jpeg
from dicom_helpers import CT_SMALL_INTERCEPT, STUDY_UID, tree_digest

from spineviewer.dicom import DicomLoadError, FrameCache, StackPixels, scan

SLICES = 5
DAMAGED = 2  # the middle slice
#: CT_small's PixelSpacing.
SPACING = (0.661468, 0.661468)
#: Cases whose damage is in the pixels, not in the header.
DECODE_CASES = {"jpeg-cut-short"}
#: Cases that leave the image without a plane (geometry unusable).
GEOMETRY_CASES = set(DAMAGES) - DECODE_CASES - {"no-pixel-data"}


@pytest.fixture
def damaged(request: pytest.FixtureRequest, axial_series) -> tuple[list[Path], str]:
    """Five axial slices 2 mm apart (marker k on slice k), slice DAMAGED broken one way."""
    paths = axial_series(n=SLICES)
    damage, _ = DAMAGES[request.param]
    damage(paths[DAMAGED])
    return paths, request.param


@pytest.mark.parametrize("damaged", sorted(DAMAGES), indirect=True)
def test_one_damaged_file_stays_in_its_stack_and_is_named(damaged) -> None:
    paths, case = damaged
    _, word = DAMAGES[case]
    folder = paths[0].parent
    before = tree_digest(folder)

    result = scan(folder)

    assert result.skipped == ()
    [study] = result.studies
    [series] = study.series
    [stack] = series.stacks  # not split by the damaged file
    assert series.warnings == ()
    assert len(stack) == SLICES
    assert stack.plane == "axial"
    assert stack.pixel_spacing == pytest.approx(SPACING)
    index = next(i for i, f in enumerate(stack.frames) if f.instance.ref.path == paths[DAMAGED])
    frame = stack.frames[index]
    planes = [stack.plane_of(i) for i in range(SLICES)]  # never raises
    assert (planes[index] is None) == (case in GEOMETRY_CASES)
    assert all(p is not None for i, p in enumerate(planes) if i != index)
    if case in DECODE_CASES:
        assert frame.problems == () and stack.problems == ()
    else:
        assert any(word in p for p in frame.problems), frame.problems
        assert stack.problems == ((index, "; ".join(frame.problems)),)
        [named] = [w for w in stack.warnings if str(paths[DAMAGED]) in w]
        assert word in named
        assert stack.confidence < 1.0
    pixels = StackPixels(stack, FrameCache())
    for i, f in enumerate(stack.frames):
        if i == index and case in {"jpeg-cut-short", "no-pixel-data"}:
            with pytest.raises(DicomLoadError, match=word) as error:
                pixels.slice(i)
            assert str(paths[DAMAGED]) in str(error.value)
            continue
        marker = int(pixels.slice(i)[0, 0]) - CT_SMALL_INTERCEPT
        assert f.instance.ref.path == paths[marker]
    assert tree_digest(folder) == before, "a source file was modified"


def test_first_slice_without_spacing_leaves_the_stack_its_spacing(axial_series) -> None:
    paths = axial_series(n=SLICES)
    DAMAGES["spacing-zero"][0](paths[0])

    [stack] = scan(paths[0].parent).stacks()
    volume = StackPixels(stack, FrameCache()).volume()

    assert stack.frames[0].pixel_spacing is None
    assert stack.pixel_spacing == pytest.approx(SPACING)
    np.testing.assert_allclose(volume.spacing, (2.0, *SPACING), atol=1e-4)


def test_skewed_orientation_no_longer_splits_the_series(axial_series) -> None:
    paths = axial_series(n=SLICES)
    DAMAGES["orientation-skew"][0](paths[DAMAGED])

    [series] = scan(paths[0].parent).studies[0].series

    assert [len(s) for s in series.stacks] == [SLICES]
    assert not any("split" in w for w in series.warnings)
    [stack] = series.stacks
    assert stack.ordering.normal == pytest.approx((0.0, 0.0, 1.0))


def test_a_differently_stored_file_does_not_wrap_the_others(axial_series) -> None:
    """An 8-bit JPEG image first in a stack of 16-bit unsigned ones: every value still fits."""
    paths = axial_series(n=3, PixelRepresentation=0, RescaleIntercept=0)
    for k, path in enumerate(paths[1:], start=1):
        ds = pydicom.dcmread(path)
        pixels = ds.pixel_array.copy()
        pixels[0, 0] = 60_000 + k
        ds.PixelData = pixels.tobytes()
        ds.save_as(path)
    to_jpeg(paths[0])

    [stack] = scan(paths[0].parent).stacks()
    pixels = StackPixels(stack, FrameCache())

    assert [int(pixels.slice(k)[0, 0]) for k in (1, 2)] == [60_001, 60_002]


def test_a_refused_file_keeps_its_study_and_a_non_dicom_file_says_so(axial_series) -> None:
    """What the batch counts against a study: refused DICOM files of it, not a README."""
    paths = axial_series(n=3)
    paths[1].write_bytes(paths[1].read_bytes()[:-4000])  # pixel data cut short
    (paths[0].parent / "README.txt").write_text("not an image\n")

    skipped = {Path(s.path).name: s for s in scan(paths[0].parent).skipped}

    assert skipped[paths[1].name].study_uid == STUDY_UID
    assert skipped[paths[1].name].dicom and "truncated" in skipped[paths[1].name].reason
    assert skipped["README.txt"].study_uid == "" and not skipped["README.txt"].dicom
