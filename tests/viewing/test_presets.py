"""Window presets: header first, CT presets in HU, automatic windows from the image."""

from __future__ import annotations

import numpy as np

from spineviewer.dicom import Window
from spineviewer.viewing.presets import presets_for


def test_ct_presets_follow_header_windows() -> None:
    values = np.linspace(-1000, 1500, 64 * 64).reshape(64, 64)
    presets = presets_for("CT", [Window(40, 400), Window(300, 1500)], values)
    assert [p.name for p in presets[:4]] == ["Header 1", "Header 2", "Bone", "Spine soft tissue"]
    assert len(presets) == 9  # soft tissue 40/400 equals header 1 and is not repeated
    bone = next(p for p in presets if p.name == "Bone")
    assert (bone.window.center, bone.window.width) == (400.0, 1800.0)


def test_mr_gets_automatic_windows_from_percentiles() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(500, 100, size=(128, 128))
    presets = presets_for("MR", [], values)
    assert [p.name for p in presets] == ["Auto 0.5-99.5 %", "Auto 2-98 %", "Auto 5-95 % (contrast)"]
    widths = [p.window.width for p in presets]
    assert widths == sorted(widths, reverse=True)
    assert abs(presets[0].window.center - 500) < 20
