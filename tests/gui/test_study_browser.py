"""The study browser on a real phantom study: tree, thumbnails, warnings, problems, drag."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom.data
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from spineviewer.dicom import scan
from spineviewer.gui.browser import WARNING_MARK, StudyBrowser
from spineviewer.gui.thumbnails import render_thumbnail


@pytest.fixture
def browser(qtbot) -> StudyBrowser:
    widget = StudyBrowser()
    qtbot.addWidget(widget)
    widget.resize(380, 600)
    widget.show()
    return widget


def test_tree_lists_patient_study_series_and_stacks(qtbot, browser, demo_study_dir: Path) -> None:
    result = scan(demo_study_dir)
    browser.add_result(result)
    patient = browser.tree.topLevelItem(0)
    assert "Phantom, Lumbar 00001" in patient.text(0)
    study = patient.child(0)
    assert study.childCount() == 3
    angled = study.child(1)
    assert angled.childCount() == 5 and "5 stacks" in angled.text(0)
    assert angled.text(2) == "22"
    got = []
    browser.stacksActivated.connect(got.append)
    browser.tree.setCurrentItem(angled)
    qtbot.keyClick(browser.tree, Qt.Key.Key_Return)
    assert got == [result.studies[0].series[1].stacks]
    browser.tree.setCurrentItem(angled.child(2))
    qtbot.keyClick(browser.tree, Qt.Key.Key_Return)
    assert got[-1] == (result.studies[0].series[1].stacks[2],)


def test_thumbnails_arrive_in_the_background(qtbot, browser, demo_study_dir: Path) -> None:
    browser.add_result(scan(demo_study_dir))
    items = browser.series_items()
    placeholder = items[0].icon(0).pixmap(96, 96).toImage().cacheKey()

    def loaded() -> bool:
        return all(it.icon(0).pixmap(96, 96).toImage().cacheKey() != placeholder for it in items)

    qtbot.waitUntil(loaded, timeout=20000)
    image = items[0].icon(0).pixmap(96, 96).toImage()
    image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    grey = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    assert grey.std() > 20  # a spine, not a blank square


def test_thumbnail_keeps_the_true_aspect_ratio(demo_study_dir: Path) -> None:
    stacks = scan(demo_study_dir).studies[0].series[0].stacks
    thumb = render_thumbnail(stacks, size=64)
    assert thumb.shape == (64, 64) and thumb.dtype == np.uint8
    assert thumb.max() > 100


def test_problems_and_warnings_are_shown(qtbot, browser, demo_study_dir: Path, tmp_path) -> None:
    folder = tmp_path / "mixed"
    sag = next(demo_study_dir.glob("S01*"))
    shutil.copytree(sag, folder / "sag")
    files = sorted((folder / "sag").glob("*.dcm"))
    files[len(files) // 2].unlink()  # a missing slice: uneven spacing
    (folder / "notes.txt").write_text("not an image")
    shutil.copy(pydicom.data.get_testdata_file("MR_truncated.dcm"), folder / "trunc.dcm")
    browser.add_result(scan(folder))
    problems = browser.problem_items()
    names = " ".join(p.text(0) for p in problems)
    assert len(problems) == 2 and "notes.txt" in names and "trunc.dcm" in names
    assert all(str(folder) in p.toolTip(0) for p in problems)
    (series,) = browser.series_items()
    assert series.text(1) == WARNING_MARK and "spacing" in series.toolTip(1).lower()


def test_drag_mime_data_resolves_to_the_stacks(browser, demo_study_dir: Path) -> None:
    result = scan(demo_study_dir)
    browser.add_result(result)
    item = browser.series_items()[2]
    mime = browser.tree.mimeData([item])
    assert browser.stacks_for_mime(mime) == result.studies[0].series[2].stacks
