"""The splash paints the study's first image before the window's modules are loaded: the
viewer's display pipeline (window, MONOCHROME1), square millimetres, nothing when there is no
image (issue 24: cold start to the first image)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from spineviewer.dicom import first_image, to_display
from spineviewer.gui.splash import PREVIEW_SIZE, show_preview, show_splash


def _ct_copy(folder: Path, spacing: tuple[float, float] = (0.5, 0.5), mono1: bool = False) -> Path:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.PixelSpacing = [str(spacing[0]), str(spacing[1])]
    if mono1:
        ds.PhotometricInterpretation = "MONOCHROME1"
    folder.mkdir()
    ds.save_as(folder / "ct.dcm")
    return folder


def _grey(image) -> np.ndarray:  # type: ignore[no-untyped-def]
    out = np.array([[image.pixelColor(x, y).value() for x in range(image.width())]
                    for y in range(0, image.height())], dtype=np.float64)  # fmt: skip
    return out / 255.0


def test_the_first_image_is_painted_as_the_viewer_windows_it(qtbot, tmp_path: Path) -> None:
    folder = _ct_copy(tmp_path / "study")
    splash = show_splash("9.9")
    qtbot.addWidget(splash)
    assert show_preview(splash, [folder])
    preview = splash.preview()
    assert preview is not None and (preview.width(), preview.height()) == (PREVIEW_SIZE,) * 2
    assert splash.height() > PREVIEW_SIZE and splash.message() == "Starting…"
    found = first_image(folder)
    assert found is not None
    expected = to_display(found[1], found[0])  # 128 x 128, upscaled 4x on the splash
    shown = _grey(preview.scaled(128, 128))
    assert np.abs(shown - expected).mean() < 0.03
    painted = splash.grab().toImage()  # the splash draws it, below the title
    assert painted.height() == splash.height()


@pytest.mark.parametrize(("spacing", "size"), [((1.0, 0.5), (256, 512)), ((0.5, 1.0), (512, 256))])
def test_non_square_pixels_are_shown_in_millimetres(
    qtbot, tmp_path: Path, spacing: tuple[float, float], size: tuple[int, int]
) -> None:
    """PixelSpacing is (row, column): rows 1 mm apart make the image twice as tall as wide."""
    splash = show_splash("9.9")
    qtbot.addWidget(splash)
    assert show_preview(splash, [_ct_copy(tmp_path / "study", spacing)])
    preview = splash.preview()
    assert preview is not None and (preview.width(), preview.height()) == size


def test_monochrome1_is_inverted(qtbot, tmp_path: Path) -> None:
    plain, inverted = show_splash("9.9"), show_splash("9.9")
    qtbot.addWidget(plain)
    qtbot.addWidget(inverted)
    assert show_preview(plain, [_ct_copy(tmp_path / "m2")])
    assert show_preview(inverted, [_ct_copy(tmp_path / "m1", mono1=True)])
    a, b = (_grey(s.preview().scaled(64, 64)) for s in (plain, inverted))  # type: ignore[union-attr]
    assert np.abs((a + b) - 1.0).mean() < 0.03


def test_nothing_to_show_leaves_the_splash_as_it_was(qtbot, tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no images here", encoding="utf-8")
    splash = show_splash("9.9")
    qtbot.addWidget(splash)
    height = splash.height()
    assert not show_preview(splash, [tmp_path / "notes"])
    assert not show_preview(splash, [tmp_path / "missing"])
    assert not show_preview(splash, [])
    assert splash.preview() is None and splash.height() == height


def test_the_window_takes_the_splash_image_without_decoding_it_again(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One start-up decodes its first image once: the splash hands it to the window's preview
    job (:func:`spineviewer.gui.loading.first_image_study`); the next reading decodes again."""
    import importlib

    from spineviewer.gui.loading import first_image_study

    decoded: list[object] = []
    scan_module = importlib.import_module("spineviewer.dicom.scan")
    real_decode = scan_module.decode_stored

    def counting_decode(frame):  # type: ignore[no-untyped-def]
        decoded.append(frame)
        return real_decode(frame)

    monkeypatch.setattr(scan_module, "decode_stored", counting_decode)
    folder = _ct_copy(tmp_path / "study")
    splash = show_splash("9.9")
    qtbot.addWidget(splash)
    assert show_preview(splash, [folder]) and len(decoded) == 1
    study = first_image_study(folder)(lambda *_: None, lambda: False)
    assert study is not None and study.series[0].stacks[0].frames
    assert len(decoded) == 1  # handed over, not read again
    assert first_image(folder) is not None and len(decoded) == 2  # once only
