"""Which skipped files raise the non-modal notice (issue 21, defect 6): files that are simply
not DICOM stay in the browser's Problems entry only; a DICOM file that failed to decode, or a
file named like DICOM that is not, still raise it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pydicom.data
from pytestqt.qtbot import QtBot

from spineviewer.gui.main_window import MainWindow


def _window(qtbot: QtBot) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1200, 700)
    win.show()
    qtbot.waitExposed(win)
    return win


def _open(qtbot: QtBot, win: MainWindow, path: Path) -> Iterator[None]:
    win.open_paths([path])
    qtbot.waitUntil(
        lambda: not win.busy() and win.grid.viewports[0].source is not None, timeout=60000
    )
    qtbot.wait(200)
    yield
    win.cancel_jobs()
    for job in list(win.jobs):
        job.wait()


def test_notes_beside_the_images_are_listed_without_a_notice(qtbot, demo_study_dir, tmp_path):
    folder = tmp_path / "notes"
    shutil.copytree(demo_study_dir, folder / "study")  # its own ground_truth.json included
    (folder / "notes.txt").write_text("not an image")
    (folder / "meta.json").write_text("{}")
    win = _window(qtbot)
    for _ in _open(qtbot, win, folder):
        assert win._notice is None or not win._notice.isVisible()
        skipped = [s.path for r in win.results for s in r.skipped]
        assert {Path(p).name for p in skipped} >= {"notes.txt", "meta.json", "ground_truth.json"}


def test_a_damaged_dicom_file_still_raises_the_notice(qtbot, demo_study_dir, tmp_path):
    folder = tmp_path / "damaged"
    shutil.copytree(demo_study_dir, folder / "study")
    (folder / "broken.dcm").write_bytes(b"\0" * 64)  # named DICOM, not DICOM
    shutil.copy(pydicom.data.get_testdata_file("MR_truncated.dcm"), folder / "trunc.dcm")
    win = _window(qtbot)
    for _ in _open(qtbot, win, folder):
        notice = win._notice
        assert notice is not None and notice.isVisible() and not notice.isModal()
        assert notice.text().startswith("2 files could not be loaded")
        detail = notice.detailedText()
        assert "broken.dcm" in detail and "trunc.dcm" in detail and "ground_truth.json" in detail
