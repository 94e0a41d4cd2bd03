"""File > Export anonymised study (issue 22, item 7): the dialog lists the opened studies and
the registry's study formats, the export runs as a background job (folder with a DICOMDIR or
zip), a burned-in study is exported only after the user says Yes, and Cancel leaves nothing.
On a stub shell and on the real main window (the feature sees it only as a Shell)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pydicom
import pytest
from gui_helpers import open_window
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from spineviewer import formats as registry
from spineviewer.dicom import Study, scan
from spineviewer.gui.study_export_ui import StudyExportDialog, StudyExportUi, burned_in_box
from spineviewer.gui.workers import Job


class StubShell:
    """The part of :class:`spineviewer.gui.shell.Shell` the export uses."""

    def __init__(self, qtbot, studies: Sequence[Study]) -> None:
        self.widget = QMainWindow()
        qtbot.addWidget(self.widget)
        self._studies = list(studies)
        self.statuses: list[str] = []
        self.notices: list[tuple[str, str, str]] = []
        self.jobs: list[Job] = []

    def studies(self) -> list[Study]:
        return list(self._studies)

    def start_job(self, job: Job) -> Job:
        self.jobs.append(job)
        return job.start()

    def show_status(self, text: str, msecs: int = 5000) -> None:
        self.statuses.append(text)

    def notify(self, title: str, text: str, details: str = "") -> None:
        self.notices.append((title, text, details))


def _finish(qtbot, job: Job | None) -> None:
    assert job is not None
    qtbot.waitUntil(lambda: job.done, timeout=60000)


@pytest.fixture(scope="module")
def demo(demo_study_dir: Path) -> Study:
    return scan(demo_study_dir).studies[0]


@pytest.fixture(scope="module")
def burned(demo_study_dir: Path, module_tmp: Path) -> Study:
    folder = module_tmp / "burned"
    shutil.copytree(demo_study_dir / "S01_sagittal_t2", folder)
    for path in folder.glob("*.dcm"):
        ds = pydicom.dcmread(path)
        ds.BurnedInAnnotation = "YES"
        ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.815"
        ds.save_as(path, enforce_file_format=True)
    return scan(folder).studies[0]


def test_the_dialog_lists_the_studies_and_the_registrys_formats(
    qtbot, demo: Study, burned: Study, tmp_path: Path
) -> None:
    dialog = StudyExportDialog(None, [demo, burned], tmp_path / "share")
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 2 and dialog.chosen() == [demo, burned]
    labels = [dialog.format.itemText(i) for i in range(dialog.format.count())]
    assert labels == [f.label for f in registry.of(registry.Family.STUDY)]
    assert dialog.fmt.name == "dicomdir" and dialog.target() == tmp_path / "share"
    dialog.format.setCurrentIndex(1)
    assert dialog.fmt.name == "zip" and dialog.target() == tmp_path / "share.zip"
    dialog.list.item(1).setCheckState(dialog.list.item(1).checkState().Unchecked)
    assert dialog.chosen() == [demo]
    assert dialog.annotations.isChecked() and not dialog.keep_text.isChecked()


def test_a_study_is_exported_in_the_background(qtbot, demo: Study, tmp_path: Path) -> None:
    shell = StubShell(qtbot, [demo])
    ui = StudyExportUi(shell)  # type: ignore[arg-type]
    assert ui.export_study_action.text() == "Export &anonymised study..."
    dialog = StudyExportDialog(None, shell.studies(), tmp_path / "out")
    qtbot.addWidget(dialog)
    dialog.format.setCurrentIndex(1)
    progress: list[tuple[int, int, str]] = []
    job = ui.export_study(dialog)
    assert job is not None
    job.progress.connect(lambda *a: progress.append(a))
    _finish(qtbot, job)
    out = tmp_path / "out.zip"
    assert ui.last is not None and ui.last.path == out and ui.last.images == 76
    assert shell.statuses[-1].startswith(f"Anonymised study written: {out}")
    (again,) = scan(out).studies
    assert again.uid != demo.uid and len(again.series) == 3
    assert progress and progress[-1][0] == progress[-1][1]  # the last report: all done


def test_burned_in_studies_go_only_after_yes(qtbot, burned: Study, tmp_path: Path) -> None:
    box = burned_in_box(None, ["a: series 1: BurnedInAnnotation is YES in 13 of 13 images"])
    qtbot.addWidget(box)
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)
    assert "burned-in text" in box.text() and "13 of 13" in box.detailedText()

    shell = StubShell(qtbot, [burned])
    ui = StudyExportUi(shell)  # type: ignore[arg-type]
    asked: list[list[str]] = []
    answer = [False]

    def confirm(parent: QWidget | None, reasons: Sequence[str]) -> bool:
        asked.append(list(reasons))
        return answer[0]

    ui.confirm = confirm
    dialog = StudyExportDialog(None, shell.studies(), tmp_path / "out")
    qtbot.addWidget(dialog)
    _finish(qtbot, ui.export_study(dialog))
    assert len(asked) == 1 and "BurnedInAnnotation is YES" in asked[0][0]
    assert "refused" in shell.statuses[-1] and not (tmp_path / "out").exists()

    answer[0] = True
    _finish(qtbot, ui.export_study(dialog))
    assert len(shell.jobs) == 3  # refused, asked, run again
    _finish(qtbot, shell.jobs[-1])
    assert len(scan(tmp_path / "out").stacks()[0]) == 13


def test_cancel_leaves_nothing(qtbot, demo: Study, tmp_path: Path) -> None:
    shell = StubShell(qtbot, [demo])
    ui = StudyExportUi(shell)  # type: ignore[arg-type]
    parent = tmp_path / "exports"
    parent.mkdir()
    dialog = StudyExportDialog(None, shell.studies(), parent / "out")
    qtbot.addWidget(dialog)
    job = ui.export_study(dialog)
    assert job is not None
    with qtbot.waitSignal(job.cancelled, timeout=60000):
        job.cancel()
    qtbot.waitUntil(lambda: job.done, timeout=60000)
    assert list(parent.iterdir()) == [] and ui.last is None


def test_the_real_window_runs_the_export(qtbot, demo_study_dir: Path, tmp_path: Path) -> None:
    win = open_window(qtbot, demo_study_dir)
    ui = StudyExportUi(win)
    dialog = StudyExportDialog(win, win.studies(), tmp_path / "from-window")
    qtbot.addWidget(dialog)
    dialog.annotations.setChecked(False)
    _finish(qtbot, ui.export_study(dialog))
    assert (tmp_path / "from-window" / "DICOMDIR").is_file()
    assert "Anonymised study written" in win.statusBar().currentMessage()
