"""Opening a folder: its first image shows while the headers are still being read, then the
hanging protocol replaces the preview."""

from __future__ import annotations

import threading
from pathlib import Path

from spineviewer.gui import main_window
from spineviewer.gui.loading import scan_paths


def test_first_image_shows_before_the_scan_ends(qtbot, demo_study_dir: Path, monkeypatch):
    release = threading.Event()

    def slow_scan(paths):
        work = scan_paths(paths)

        def held(progress, cancelled):
            release.wait(30)  # the scan cannot end before the test has seen the preview
            return work(progress, cancelled)

        return held

    monkeypatch.setattr(main_window, "scan_paths", slow_scan)
    win = main_window.MainWindow()
    qtbot.addWidget(win)
    win.resize(1400, 800)
    win.show()
    qtbot.waitExposed(win)
    job = win.open_paths([demo_study_dir])
    first = win.grid.viewports[0]
    qtbot.waitUntil(lambda: first.source is not None, timeout=30000)
    assert job is not None and not job.done and len(first.source) == 1  # one image, scan running
    assert first.info is not None and first.info.frame.instance.modality == "MR"
    release.set()
    qtbot.waitUntil(lambda: not win.busy() and len(first.source or []) > 1, timeout=60000)
    visible = [v for v in win.grid.visible_viewports() if v.source is not None]
    assert len(visible) == 2  # the lumbar MR hanging: sagittal and axial
    assert not win._preview_shown
