"""The peer bench's "first image" detector on synthetic captures (no viewer, no X server):
the CT slice the bench writes, shown at a window a viewer would pick and drawn into a
window's chrome, is found; a splash-sized grey patch and an empty window are not; the last
slice shows a third more body."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from peers.capture import (
    BODY_BAND,
    FIRST_IMAGE_PIXELS,
    LAST_SLICE_GAIN,
    band_count,
    image_like_count,
)
from peers.studies import write_ct


def _screen(slice_u8: np.ndarray | None) -> np.ndarray:
    """A 1000x1600 capture: light chrome, a light toolbar gradient, the slice drawn at
    (100, 300)."""
    screen = np.full((1000, 1600, 3), 238, dtype=np.uint8)
    screen[:40] = np.linspace(232, 250, 40, dtype=np.uint8)[:, None, None]
    if slice_u8 is not None:
        h, w = slice_u8.shape
        screen[100 : 100 + h, 300 : 300 + w] = slice_u8[..., None]
    return screen


def _shown(ds: pydicom.Dataset, window: str) -> np.ndarray:
    """The slice in 8 bits as a viewer shows it by default: the DICOM window, or the slice's
    minimum and maximum."""
    values = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    if window == "dicom":
        low = float(ds.WindowCenter) - float(ds.WindowWidth) / 2
        high = low + float(ds.WindowWidth)
    else:
        low, high = values.min(), values.max()
    return np.clip((values - low) / (high - low) * 255, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("window", ["dicom", "min-max"])
def test_first_image_found_splash_not(tmp_path: Path, window: str) -> None:
    write_ct(tmp_path, 3, size=256)
    first, last = (pydicom.dcmread(tmp_path / f"IM0000{k}.dcm") for k in (1, 3))
    shown = band_count(_screen(_shown(first, window)), BODY_BAND)
    assert shown >= FIRST_IMAGE_PIXELS
    assert band_count(_screen(_shown(last, window)), BODY_BAND) >= LAST_SLICE_GAIN * shown
    splash = _screen(None)
    splash[500:540, 500:600] = 128  # a grey splash panel of 4,000 pixels
    assert band_count(splash, BODY_BAND) < FIRST_IMAGE_PIXELS
    assert band_count(_screen(None), BODY_BAND) == 0


def test_image_like_counts_tones_not_chrome() -> None:
    rng = np.random.default_rng(0)
    tones = rng.integers(30, 220, size=(200, 200)).astype(np.uint8)
    assert image_like_count(_screen(tones)) >= 20_000
    assert image_like_count(_screen(None)) < 1_000
