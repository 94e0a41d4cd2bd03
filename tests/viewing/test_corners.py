"""Corner text: what a radiologist reads in each corner; PHI-free mode names nobody."""

from __future__ import annotations

import numpy as np

from spineviewer.dicom import Window
from spineviewer.geometry import Plane
from spineviewer.viewing.corners import corner_text, sample_cursor
from spineviewer.viewing.source import SliceInfo

STUDY = {
    "PatientName": "DOE^JANE",
    "PatientID": "12345",
    "StudyDate": "20240102",
    "InstitutionName": "General Hospital",
}
PLANE = Plane.from_dicom((10.0, 20.0, 30.0), (1, 0, 0, 0, 1, 0), (0.5, 0.25), 4, 6)
INFO = SliceInfo(
    PLANE, (0.5, 0.25), None, rescale_slope=2.0, rescale_intercept=-1024.0, position_mm=30.0
)


def test_corners_hold_patient_series_position_window_and_zoom() -> None:
    text = corner_text(STUDY, "AX T2", "MR", 4, 22, INFO, Window(40, 400), 1.5)
    assert text.top_left[:3] == ("DOE JANE", "ID 12345", "Study 2024-01-02")
    assert text.top_right[:2] == ("AX T2", "MR  Im 5/22")
    assert "Pos 30.0 mm" in text.bottom_left
    assert text.bottom_right == ("W 400 L 40", "Zoom 1.50x")


def test_phi_free_mode_hides_every_identifying_field() -> None:
    text = corner_text(STUDY, "AX T2", "MR", 0, 1, INFO, None, 1.0, phi_free=True)
    flat = " ".join(text.top_left + text.top_right + text.bottom_left + text.bottom_right)
    for value in ("DOE", "12345", "2024", "General"):
        assert value not in flat


def test_cursor_sample_reports_stored_and_rescaled_values_and_patient_mm() -> None:
    values = np.arange(24, dtype=np.float32).reshape(4, 6) * 2.0 - 1024.0
    sample = sample_cursor(values, INFO, 2.2, 3.9)
    assert (sample.row, sample.col) == (2, 4)
    assert sample.value == values[2, 4] and sample.stored == 16.0
    assert np.allclose(sample.patient, (10.0 + 3.9 * 0.25, 20.0 + 2.2 * 0.5, 30.0))
    text = corner_text(STUDY, "CT", "CT", 0, 1, INFO, None, 1.0, cursor=sample)
    assert any(
        line.startswith(f"Val {values[2, 4]:.0f} HU (stored 16)") for line in text.bottom_left
    )
    assert sample_cursor(values, INFO, -3, 2) is None
