"""The main window on real studies: hanging protocol, MPR, bad files, settings, series paging."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom.data
import pytest
from PySide6.QtCore import Qt

from spineviewer.gui.main_window import MainWindow
from spineviewer.gui.settings import ViewerSettings
from spineviewer.viewing.mpr import MprSource
from spineviewer.viewing.source import StackListSource


@pytest.fixture
def window(qtbot) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1400, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.cancel_jobs()
    for job in list(win.jobs):
        job.wait()


def open_and_wait(qtbot, win: MainWindow, *paths: Path) -> None:
    win.open_paths(list(paths))
    qtbot.waitUntil(lambda: not win.busy(), timeout=60000)


def test_demo_study_hangs_sagittal_left_axial_right_with_crossrefs(qtbot, window, demo_study_dir):
    open_and_wait(qtbot, window, demo_study_dir)
    assert window.grid.layout_ == "1x2"
    left, right = window.grid.visible_viewports()
    assert left.source.plane_name == "sagittal" and right.source.plane_name == "axial"
    assert len(left.crossref_lines(right)) == 1 and len(right.crossref_lines(left)) == 1
    assert window.settings.existing_recent()[0] == str(demo_study_dir)
    # Everything shown was decoded in the background: the cache already holds every slice.
    cache = right.source._pixels[0].cache
    hits = cache.hits
    right.set_index(0)
    assert cache.hits > hits


def test_page_down_shows_the_next_series_and_double_click_maximises(qtbot, window, demo_study_dir):
    open_and_wait(qtbot, window, demo_study_dir)
    right = window.grid.visible_viewports()[1]
    name = right.source.name
    qtbot.keyClick(right, Qt.Key.Key_PageDown)
    assert right.source.name != name and len(right.source) == 41
    qtbot.mouseDClick(right.viewport(), Qt.MouseButton.LeftButton)
    assert window.grid.maximised is right and not window.grid.viewports[0].isVisible()
    qtbot.mouseDClick(right.viewport(), Qt.MouseButton.LeftButton)
    assert window.grid.maximised is None and window.grid.viewports[0].isVisible()


def test_real_ct_opens_acquired_then_reformats_keep_true_aspect(qtbot, window, real_ct_dir):
    """The thin real CT slab opens as its acquired axial slices; View > Multiplanar reformats
    adds sagittal and coronal reformats of true aspect beside them."""
    open_and_wait(qtbot, window, real_ct_dir)
    assert window.grid.layout_ == "1x1"
    assert isinstance(window.grid.visible_viewports()[0].source, StackListSource)
    window.reformat_action.trigger()
    qtbot.waitUntil(lambda: not window.busy(), timeout=60000)
    assert window.grid.layout_ == "1x3"
    planes = [vp.source.plane_name for vp in window.grid.visible_viewports()]
    assert planes == ["axial", "sagittal", "coronal"]
    first, *reformats = window.grid.visible_viewports()
    assert isinstance(first.source, StackListSource)
    assert all(isinstance(vp.source, MprSource) for vp in reformats)
    sag = window.grid.visible_viewports()[1]
    h, w = sag.transform_.view_size[1], sag.transform_.view_size[0]
    assert h == pytest.approx(20 * 2.0, abs=0.1)  # 20 slices 2 mm apart, not 3 mm thick
    assert w == pytest.approx(sag.values.shape[1] * sag.info.pixel_spacing[1])
    # Crosshair sync: the axial plane is drawn on the sagittal and follows it.
    axial = window.grid.visible_viewports()[0]
    before = sag.crossref_lines(axial)[0].segment
    axial.step(3)
    qtbot.waitUntil(lambda: sag.crossref_lines(axial)[0].segment != before, timeout=1000)
    assert sag.crossref_lines(axial)[0].segment != before


def test_bad_files_are_listed_and_everything_else_opens(qtbot, window, demo_study_dir, tmp_path):
    folder = tmp_path / "mixed"
    shutil.copytree(next(demo_study_dir.glob("S01*")), folder / "sag")
    (folder / "notes.txt").write_text("not an image")
    shutil.copy(pydicom.data.get_testdata_file("MR_truncated.dcm"), folder / "trunc.dcm")
    open_and_wait(qtbot, window, folder)
    notice = window._notice
    assert notice is not None and notice.isVisible() and not notice.isModal()
    detail = notice.detailedText()
    assert "notes.txt" in detail and "trunc.dcm" in detail
    vp = window.grid.viewports[0]
    assert vp.source is not None and vp.source.plane_name == "sagittal"
    before = vp.index
    qtbot.keyClick(vp, Qt.Key.Key_Down)
    assert vp.index == before + 1  # the app keeps working with the notice open


def test_layout_and_options_persist_in_settings(qtbot, window, demo_study_dir):
    window.set_layout("2x2")
    window.set_option("phi_free", True)
    window.close()
    settings = ViewerSettings()
    assert settings.layout == "2x2" and settings.phi_free
    again = MainWindow()
    qtbot.addWidget(again)
    assert again.grid.layout_ == "2x2" and all(v.phi_free for v in again.grid.viewports)


def test_opening_cancelled_keeps_the_window_usable(qtbot, window, demo_study_dir):
    job = window.open_paths([demo_study_dir])
    job.cancel()
    qtbot.waitUntil(lambda: not window.busy(), timeout=30000)
    open_and_wait(qtbot, window, demo_study_dir)
    assert window.grid.viewports[0].source is not None
    assert np.asarray(window.grid.viewports[0].image.image).size > 0


def test_dropping_a_folder_on_the_window_opens_it(qtbot, window, demo_study_dir):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(demo_study_dir))])
    event = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)  # Qt routes a real drop only after a drag session started
    qtbot.waitUntil(lambda: not window.busy() and bool(window.results), timeout=60000)
    assert window.grid.viewports[0].source.plane_name == "sagittal"


def test_series_dragged_from_the_browser_drops_into_a_viewport(qtbot, window, demo_study_dir):
    open_and_wait(qtbot, window, demo_study_dir)
    left = window.grid.viewports[0]
    item = window.browser.series_items()[2]
    mime = window.browser.tree.mimeData([item])
    left.mimeDropped.emit(mime)  # what ImageViewport.dropEvent emits for this format
    assert len(left.source) == 41 and window.grid.active is left


def test_i_and_p_on_a_viewport_apply_to_every_viewport_and_persist(qtbot, window):
    left, right = window.grid.viewports[:2]
    qtbot.keyClick(left, Qt.Key.Key_I)
    assert not left.show_corner_text and not right.show_corner_text
    assert not window.settings.corner_text and not window.corner_action.isChecked()
    qtbot.keyClick(right, Qt.Key.Key_P)
    assert left.phi_free and right.phi_free and window.settings.phi_free


def test_a_failed_background_job_is_a_non_modal_notice(qtbot, window):
    from spineviewer.gui.workers import Job

    def work(progress, cancelled):
        raise OSError("disk vanished while loading volume")

    window.start_job(Job("Loading volume SAG T2", work, window))
    qtbot.waitUntil(lambda: not window.busy(), timeout=10000)
    notice = window._notice
    assert notice is not None and notice.isVisible() and not notice.isModal()
    assert "Loading volume SAG T2" in notice.text() and "disk vanished" in notice.text()
    assert "disk vanished" in window.statusBar().currentMessage()


def test_deferred_steps_let_timers_run_between_them(qtbot, window):
    """Opening a study is split into steps so timers and paints get the GUI thread between
    them (chained ``QTimer.singleShot(0)`` calls ran two steps back to back, starving a 5 ms
    timer); the steps run in order, and a failing step does not stop the rest."""
    import time

    from PySide6.QtCore import QTimer

    events: list[str] = []

    def step(name: str) -> None:
        events.append(name)
        time.sleep(0.010)  # a step of real work: the 5 ms timer is due when it ends
        if name == "b":
            raise RuntimeError("step b fails")

    ticker = QTimer()
    ticker.setInterval(5)
    ticker.timeout.connect(lambda: events.append("tick"))
    ticker.start()
    qtbot.waitUntil(lambda: "tick" in events, timeout=2000)
    with qtbot.capture_exceptions() as raised:
        for name in "abcdef":
            window._defer(lambda name=name: step(name))
        qtbot.waitUntil(lambda: not window.busy(), timeout=5000)
    ticker.stop()
    steps = [e for e in events if e != "tick"]
    assert steps == list("abcdef")
    order = "".join("." if e == "tick" else e for e in events)
    assert all(pair not in order for pair in ("ab", "bc", "cd", "de", "ef")), order
    assert [str(exc) for _, exc, _ in raised] == ["step b fails"]
