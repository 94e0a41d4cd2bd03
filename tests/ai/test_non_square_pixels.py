"""Non-square pixels: the detector sees the anatomy in its physical proportions (the slices
are resampled to square millimetres before the letterbox), so the same study stored with
1.2 x 0.85 mm pixels is labelled like the square one (real DICOM files resampled with numpy,
real onnxruntime sessions)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

from spineviewer.ai.analysis import analyse_path
from spineviewer.ai.preprocessing import letterbox
from spineviewer.phantom import generate, load_ground_truth, study_folder_name


def test_letterbox_keeps_the_physical_aspect() -> None:
    square = letterbox(200, 100, (256, 256))
    assert square.row_scale is None and square.scale == pytest.approx(1.28)
    box = letterbox(200, 100, (256, 256), spacing=(1.0, 2.0))  # 200 x 200 mm
    assert box.scale_r == pytest.approx(1.28) and box.scale == pytest.approx(2.56)
    x, y = box.to_input(199.5, 99.5)  # the far corner maps to the far input edge
    assert (float(x), float(y)) == pytest.approx((256.0, 256.0))
    row, col = box.to_image(x, y)
    assert (float(row), float(col)) == pytest.approx((199.5, 99.5))
    fixed = letterbox(200, 100, (256, 256), spacing=(1.0, 2.0), mm_per_pixel=1.0)
    assert fixed.scale == pytest.approx(2.0) and fixed.scale_r == pytest.approx(1.0)
    assert fixed.pad_top == pytest.approx(28.0) and fixed.pad_left == pytest.approx(28.0)


def test_a_fixed_scale_zooms_out_only_as_far_as_the_image_needs_to_fit() -> None:
    """1.2 mm per input pixel: a 200 mm field keeps that scale (padded); a 400 x 300 mm field
    (0.8 x 1.0 mm pixels) would not fit in 256 x 256 input pixels, so it is zoomed out to
    400 / 256 mm per input pixel, never cut (its sacrum stays in the input)."""
    small = letterbox(250, 250, (256, 256), spacing=(0.8, 0.8), mm_per_pixel=1.2)
    assert small.scale == pytest.approx(0.8 / 1.2) and small.row_scale is None
    large = letterbox(500, 300, (256, 256), spacing=(0.8, 1.0), mm_per_pixel=1.2)
    assert large.scale == pytest.approx(1.0 / (400 / 256)) and large.pad_top == pytest.approx(0)
    assert large.scale_r == pytest.approx(0.8 / (400 / 256))
    x, y = large.to_input(499.5, 299.5)
    assert (float(x), float(y)) == pytest.approx((256 / 2 + 150 / (400 / 256), 256.0))


def _stretch_columns(study: Path, dest: Path, factor: float) -> Path:
    """A copy of ``study`` whose sagittal images have ``factor`` times as many columns (pixel
    columns ``1 / factor`` as wide, linear interpolation): the same anatomy, non-square
    pixels."""
    shutil.copytree(study, dest)
    truth = load_ground_truth(dest)
    sagittal = next(s for s in truth.series if s.plane == "sagittal")
    for image in sagittal.images:
        path = dest / image.file
        ds = pydicom.dcmread(path)
        pixels = ds.pixel_array.astype(np.float64)
        cols = pixels.shape[1]
        new_cols = round(cols * factor)
        # column centres of the new grid in old pixel units (edges aligned)
        at = (np.arange(new_cols) + 0.5) * cols / new_cols - 0.5
        out = np.stack([np.interp(at, np.arange(cols), row) for row in pixels])
        sr, sc = (float(v) for v in ds.PixelSpacing)
        ds.PixelSpacing = [f"{sr:.6g}", f"{sc * cols / new_cols:.6g}"]
        # the first pixel's centre moves by half the change of the pixel width
        shift = (sc * cols / new_cols - sc) / 2
        position = np.asarray(ds.ImagePositionPatient, dtype=np.float64)
        position += shift * np.asarray(ds.ImageOrientationPatient[:3], dtype=np.float64)
        ds.ImagePositionPatient = [f"{v:.6f}" for v in position]
        ds.Columns = new_cols
        ds.PixelData = np.round(out).astype(np.uint16).tobytes()
        ds.save_as(path)
    return dest


@pytest.mark.parametrize("factor", [0.5, 1.4, 2.0])
def test_non_square_pixels_are_labelled_like_square_ones(tmp_path: Path, factor: float) -> None:
    """Fails at 0.5 and 2.0 when the slices are letterboxed as if their pixels were square
    (checked); 1.4 is the 1.2 x 0.85 mm case of issue 19."""
    generate("lumbar-mr", tmp_path, 90_041)
    study = tmp_path / study_folder_name("lumbar-mr", 90_041)
    stretched = _stretch_columns(study, tmp_path / "stretched", factor)
    truth = {v.label: np.asarray(v.centre_mm) for v in load_ground_truth(study).vertebrae}
    (findings,) = analyse_path(stretched, provider="cpu")
    labels = {v.label: np.asarray(v.centre_mm) for v in findings.vertebrae}
    assert {"L1", "L2", "L3", "L4", "L5", "S1"} <= set(labels), sorted(labels)
    for label, centre in labels.items():
        assert np.linalg.norm(centre - truth[label]) < 5.0, label
