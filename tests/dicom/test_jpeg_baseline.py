"""JPEG Baseline (Process 1) colour images decode to pydicom's own pixels (YBR_FULL and RGB)."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from dicom_helpers import sample_path
from pydicom.uid import JPEGBaseline8Bit

from spineviewer.dicom import StackPixels, scan


@pytest.mark.parametrize("name", ["SC_rgb_jpeg_dcmtk.dcm", "SC_rgb_dcmtk_+eb+cr.dcm"])
def test_jpeg_baseline_matches_pydicom(name: str) -> None:
    path = sample_path(name)
    reference = pydicom.dcmread(path)
    assert reference.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    (stack,) = scan(path).stacks()
    values = StackPixels(stack).slice(0)
    want = reference.pixel_array
    assert values.shape[:2] == want.shape[:2]
    assert values.shape[-1] == 3 and np.array_equal(np.asarray(values), want)
