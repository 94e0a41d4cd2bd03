"""File > Export view / Export series / Print view and Edit > Copy view in the main window
(offscreen): the written files read back with real decoders (Pillow, ffprobe, pdftoppm)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import open_window
from PIL import Image
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtPrintSupport import QPrinter
from video_probe import ffprobe_frames, needs_ffprobe

from spineviewer.gui.export_ui import (
    ExportSeriesDialog,
    ExportViewDialog,
    qimage_array,
    render_view,
)
from spineviewer.viewing.image_export import ExportLook, render_slice

#: The top-left corner block of the corner text (patient name, ID, study date) on screen.
CORNER = (slice(4, 60), slice(4, 200))


@pytest.fixture
def win(qtbot, demo_study_dir: Path):
    return open_window(qtbot, demo_study_dir)


def _menu(win, title: str):
    return next(m.menu() for m in win.menuBar().actions() if m.text().replace("&", "") == title)


def test_the_actions_are_in_the_file_and_edit_menus(win) -> None:
    export = win.export
    file_menu = _menu(win, "File").actions()
    assert {export.export_view_action, export.export_series_action,
            export.print_view_action} <= set(file_menu)  # fmt: skip
    assert export.copy_view_action in _menu(win, "Edit").actions()
    assert export.copy_view_action.shortcut() == QKeySequence("Ctrl+Shift+C")
    assert export.print_view_action.shortcut() == QKeySequence("Ctrl+P")


def test_export_view_png_at_screen_size_with_and_without_overlays(win, tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"  # the window's config and workspace are in tmp_path
    vp = win.grid.active
    size = (vp.viewport().height(), vp.viewport().width())
    dialog = ExportViewDialog(win, tmp_path / "view.png", phi_free=False)
    shown = np.asarray(Image.open(win.export.export_view(dialog)))
    assert shown.shape == (*size, 3)
    dialog.overlays.setChecked(False)
    dialog.path.setText(str(tmp_path / "bare.png"))
    bare = np.asarray(Image.open(win.export.export_view(dialog)))
    assert not np.array_equal(shown[CORNER], bare[CORNER])  # the corner text is in the first
    assert bare[CORNER].max() < 90  # background and dark image only: no white text
    dialog.scale.setCurrentIndex(1)
    dialog.format.setCurrentText("JPEG")  # the suffix follows
    assert dialog.path.text().endswith("bare.jpg")
    double = Image.open(win.export.export_view(dialog))
    assert double.format == "JPEG" and double.size == (2 * size[1], 2 * size[0])
    # the image itself is the viewport's: its middle (image only) agrees with the export
    middle = np.asarray(double.resize((size[1], size[0])), dtype=float)
    assert np.abs(middle[200:400, 200:400] - bare[200:400, 200:400]).mean() < 4.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bare.jpg", "bare.png", "view.png"]


def test_phi_free_view_has_no_patient_corner_but_the_same_image(win) -> None:
    vp = win.grid.active
    named, hidden = (qimage_array(render_view(vp, True, phi)) for phi in (False, True))
    assert not np.array_equal(named[CORNER], hidden[CORNER])
    assert np.array_equal(named[300:, :], hidden[300:, :])  # only the patient lines changed
    assert vp.phi_free is False  # the viewport itself is as it was


def test_copy_view_puts_the_viewport_on_the_clipboard(qtbot, win) -> None:
    vp = win.grid.active
    vp.setFocus()
    qtbot.keyClick(win, "C", QKeySequence("Ctrl+Shift+C")[0].keyboardModifiers())
    image = QGuiApplication.clipboard().image()
    assert (image.width(), image.height()) == (vp.viewport().width(), vp.viewport().height())
    assert np.array_equal(qimage_array(image), qimage_array(render_view(vp, True, False)))


@needs_ffprobe
def test_export_series_mp4_and_png_sequence_in_the_background(qtbot, win, tmp_path: Path) -> None:
    vp = win.grid.active
    vp.rotate(True)
    vp.toggle_invert()
    dialog = ExportSeriesDialog(win, tmp_path / "cine.mp4", vp.cine_fps, phi_free=True)
    job = win.export.export_series(dialog)
    with qtbot.waitSignal(job.finished, timeout=60000):
        pass
    probe = ffprobe_frames(tmp_path / "cine.mp4")
    assert int(str(probe["nb_read_frames"])) == len(vp.source)
    rows, cols = vp.source.values(0).shape
    assert (probe["width"], probe["height"]) == (rows + rows % 2, cols + cols % 2)  # turned

    dialog.format.setCurrentIndex(1)
    assert dialog.path.text() == str(tmp_path / "cine")
    job = win.export.export_series(dialog)
    with qtbot.waitSignal(job.finished, timeout=60000):
        pass
    frames = sorted((tmp_path / "cine").glob("image-*.png"))
    assert len(frames) == len(vp.source)
    look = ExportLook(vp.voi_window, vp.transform_, vp.inverted)
    assert np.array_equal(np.asarray(Image.open(frames[2])), render_slice(vp.source, 2, look))


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
def test_print_view_to_a_pdf_file_shows_the_image(win, tmp_path: Path) -> None:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "view.pdf"))
    assert win.export.print_view(printer)
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-singlefile", str(tmp_path / "view.pdf"),
                    str(tmp_path / "page")], check=True)  # fmt: skip
    page = np.asarray(Image.open(tmp_path / "page.png").convert("L"), dtype=float)
    rows, cols = page.shape
    centre = page[rows // 3 : 2 * rows // 3, cols // 3 : 2 * cols // 3]
    assert page[:5, :].mean() > 250  # white paper around the picture
    assert centre.mean() < 200 and centre.std() > 20  # the image, not a blank page
