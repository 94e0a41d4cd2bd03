"""The impression in File > Export report (issue 22, item 8): the reader types it in the dialog
(real key events), the preview follows, "Save impression" keeps it with the study's
annotations as one undo step (Ctrl+Z in the viewer takes it back), the export writes it, and
the study opened again in a new window brings it back into the dialog."""

from __future__ import annotations

import json
from dataclasses import replace

from gui_helpers import open_analysed
from PySide6.QtCore import Qt

from spineviewer.annotations import Workspace
from spineviewer.gui.report_dialog import open_report_dialog

LINE_1 = "Left paracentral L4-L5 herniation"
LINE_2 = "no fracture."


def _dialog(win):
    """The dialog of the window's study, with the study's undo stack (as the viewer's)."""
    analysed = win.analysis.analysed()
    assert analysed is not None
    session = win.annotation.controller.sessions[analysed.study.uid]
    return open_report_dialog(win, replace(analysed, stack=session.stack))


def test_typed_impression_is_saved_undone_exported_and_restored(
    qtbot, demo_study_dir, tmp_path
) -> None:
    win = open_analysed(qtbot, demo_study_dir)
    controller = win.annotation.controller
    dialog = _dialog(win)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.impression.toPlainText() == ""
    assert "Impression" not in dialog.preview.toPlainText()
    # typing, with a line break: the preview follows once the typing pauses
    dialog.impression.setFocus()
    qtbot.keyClicks(dialog.impression, LINE_1)
    qtbot.keyClick(dialog.impression, Qt.Key.Key_Return)
    qtbot.keyClicks(dialog.impression, LINE_2)
    qtbot.waitUntil(lambda: LINE_2 in dialog.preview.toPlainText(), timeout=5000)
    preview = dialog.preview.toPlainText()
    assert f"Impression\n{LINE_1}\n{LINE_2}" in preview
    assert "L4-L5: " in preview and "(model " in preview  # the findings as sentences
    doc = controller.document
    assert doc is not None and doc.impression is None  # not saved before asked
    # saved: one undo step of the study, autosaved into the workspace
    assert dialog.save_impression()
    assert doc.impression is not None and doc.impression.text == f"{LINE_1}\n{LINE_2}"
    with Workspace() as workspace:
        loaded = workspace.load(doc.study_uid)
    assert loaded is not None and loaded.document.impression == doc.impression
    win.annotation.undo_action.trigger()
    assert doc.impression is None
    win.annotation.redo_action.trigger()
    assert doc.impression is not None and doc.impression.text == f"{LINE_1}\n{LINE_2}"
    # exported: the report's files carry it
    out = tmp_path / "report"
    dialog.folder.setText(str(out))
    dialog.checks["sr"].setChecked(True)
    dialog.accept()
    job = win.analysis.export_report(dialog)
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=60000):
        pass
    data = json.loads((out / "report.json").read_text("utf-8"))
    assert data["impression"]["text"] == f"{LINE_1}\n{LINE_2}"
    assert data["signature"]["reader"] == data["impression"]["author"] != ""
    win.close()

    # the study opened again: the impression is back in the dialog and in its preview
    again = open_analysed(qtbot, demo_study_dir)
    reopened = _dialog(again)
    qtbot.addWidget(reopened)
    assert reopened.impression.toPlainText() == f"{LINE_1}\n{LINE_2}"
    assert f"Impression\n{LINE_1}\n{LINE_2}" in reopened.preview.toPlainText()
    # cleared and saved: gone from the document too
    reopened.impression.clear()
    assert reopened.save_impression()
    assert again.annotation.controller.document.impression is None
    again.close()


def test_without_the_stack_the_impression_is_saved_to_the_workspace_at_once(
    qtbot, demo_study_dir
) -> None:
    """A dialog handed no undo stack (a caller without one): the impression is still saved
    with the annotations when the reader exports. (File > Export report hands the study's
    stack over: the test above.)"""
    win = open_analysed(qtbot, demo_study_dir)
    given = win.analysis.analysed()
    assert given is not None and given.stack is not None  # the viewer's own: undoable
    analysed = replace(given, stack=None)
    dialog = open_report_dialog(win, analysed)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.impression, LINE_1)
    dialog.accept()
    with Workspace() as workspace:
        loaded = workspace.load(analysed.study.uid)
    assert loaded is not None and loaded.document.impression is not None
    assert loaded.document.impression.text == LINE_1
    assert analysed.document is not None and analysed.document.impression is not None
    # the viewer's own autosave merges over it without losing it
    win.annotation.controller.sessions[analysed.study.uid].autosaver.save_now()
    with Workspace() as workspace:
        again = workspace.load(analysed.study.uid)
    assert again is not None and again.document.impression == loaded.document.impression
    win.close()
