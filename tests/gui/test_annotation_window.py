"""Annotations in the main window: autosaved to the workspace, reopened with the study, reviewed
in the panel, listed in the worklist; the source DICOM files are never touched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from gui_helpers import open_window
from PySide6.QtCore import QPoint, Qt

from spineviewer.annotations import Annotation, Provenance, ReviewStatus, Status, Workspace
from spineviewer.gui.annotate.controller import image_ref
from spineviewer.gui.main_window import MainWindow

LEFT = Qt.MouseButton.LeftButton


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def close_window(win: MainWindow) -> None:
    win.cancel_jobs()
    for job in list(win.jobs):
        job.wait()
    win.close()


def test_draw_autosave_reopen_review_and_sources_untouched(
    qtbot, demo_study_dir, _isolated_workspace
) -> None:
    before = digest(demo_study_dir)
    win = open_window(qtbot, demo_study_dir)
    ui = win.annotation
    vp = win.grid.viewports[0]
    assert ui.controller.document is not None
    win.tool_actions["line"].trigger()
    assert ui.controller.tool == "line"
    a, b = vp.image_to_widget(60, 60).toPoint(), vp.image_to_widget(140, 100).toPoint()
    qtbot.mousePress(vp.viewport(), LEFT, pos=a)
    qtbot.mouseMove(vp.viewport(), (a + b) / 2)
    qtbot.mouseMove(vp.viewport(), b)
    qtbot.mouseRelease(vp.viewport(), LEFT, pos=b)
    doc = ui.controller.document
    assert len(doc) == 1
    line = next(iter(doc))
    # a model proposal, as the AI will add them
    proposal = Annotation.create(
        "rectangle",
        image_ref(vp.info),
        [(40, 40), (80, 90)],
        vp.info.plane,
        label="L4",
        status=Status.PROPOSED,
        provenance=Provenance.model("demo-detector", "0.1", 0.8),
    )
    ui.controller.add(proposal)
    # saved at once, in the workspace and not beside the images
    path = Workspace(_isolated_workspace).document_path(doc.study_uid)
    assert path.is_file() and _isolated_workspace in path.parents
    assert "Undo" in ui.undo_action.text() and ui.undo_action.isEnabled()
    # the panel lists both; accepting from the panel is one undoable step
    assert ui.panel.model.rowCount() == 2
    ui.controller.select(line.uid)
    details = ui.panel.details.text()
    assert details.startswith("line · accepted") and "Length" in details
    ui.controller.select(proposal.uid)
    details = ui.panel.details.text()  # its image is on screen: ROI statistics too
    assert "demo-detector" in details and "Area" in details and "Mean" in details
    assert "Min" in details and "Max" in details
    qtbot.mouseClick(ui.panel.accept_button, LEFT)
    assert doc.get(proposal.uid).status == Status.ACCEPTED
    win.annotation.undo_action.trigger()
    assert doc.get(proposal.uid).status == Status.PROPOSED
    ui.redo_action.trigger()
    assert doc.get(proposal.uid).status == Status.ACCEPTED
    close_window(win)

    # a new window reopens the study with its annotations
    win2 = open_window(qtbot, demo_study_dir)
    doc2 = win2.annotation.controller.document
    assert doc2 is not None and {a.uid for a in doc2} == {line.uid, proposal.uid}
    assert doc2.get(line.uid) == line
    assert doc2.review_status == ReviewStatus.IN_PROGRESS
    worklist = win2.annotation.worklist
    worklist.refresh()
    assert worklist.model.rowCount() == 1
    assert worklist.model.index(0, 5).data() == "2"
    close_window(win2)
    assert digest(demo_study_dir) == before  # byte-identical sources


def test_delete_key_and_escape_in_the_window(qtbot, demo_study_dir) -> None:
    win = open_window(qtbot, demo_study_dir)
    vp = win.grid.viewports[0]
    win.set_tool("rectangle")
    a, b = vp.image_to_widget(50, 50).toPoint(), vp.image_to_widget(90, 90).toPoint()
    qtbot.mousePress(vp.viewport(), LEFT, pos=a)
    qtbot.mouseMove(vp.viewport(), b)
    qtbot.mouseRelease(vp.viewport(), LEFT, pos=b)
    doc = win.annotation.controller.document
    assert len(doc) == 1
    vp.setFocus()
    qtbot.keyClick(vp, Qt.Key.Key_Delete)
    assert len(doc) == 0
    undo = win.annotation.undo_action  # Ctrl+Z is a window shortcut (QTest bypasses the map)
    assert undo.shortcut().toString() == "Ctrl+Z" and undo.text() == "Undo Delete rectangle"
    undo.trigger()
    assert len(doc) == 1
    # W/L still works with the window tool; a left drag draws nothing then
    win.set_tool("window")
    w0 = vp.voi_window
    qtbot.mousePress(vp.viewport(), LEFT, pos=QPoint(300, 300))
    qtbot.mouseMove(vp.viewport(), QPoint(360, 280))
    qtbot.mouseRelease(vp.viewport(), LEFT, pos=QPoint(360, 280))
    assert vp.voi_window != w0 and len(doc) == 1
    close_window(win)


@pytest.mark.parametrize("bad", ["corrupt"])
def test_a_damaged_annotation_file_falls_back_to_the_backup(
    qtbot, demo_study_dir, _isolated_workspace, bad
):
    win = open_window(qtbot, demo_study_dir)
    vp = win.grid.viewports[0]
    ctrl = win.annotation.controller
    ctrl.add(Annotation.create("point", image_ref(vp.info), [(10, 10)], vp.info.plane))
    ctrl.add(Annotation.create("point", image_ref(vp.info), [(20, 20)], vp.info.plane))
    path = ctrl.workspace.document_path(ctrl.document.study_uid)
    close_window(win)
    path.write_text("{ not json")
    messages: list[str] = []
    win2 = MainWindow()
    qtbot.addWidget(win2)
    win2.annotation.controller.message.connect(messages.append)
    win2.open_paths([demo_study_dir])
    qtbot.waitUntil(lambda: not win2.busy(), timeout=60000)
    doc = win2.annotation.controller.document
    assert doc is not None and len(doc) == 1  # the backup holds all but the last edit
    assert any("backup" in m.lower() or "bak" in m.lower() for m in messages), messages
    close_window(win2)


def test_export_and_import_from_the_window(qtbot, demo_study_dir, tmp_path) -> None:
    win = open_window(qtbot, demo_study_dir)
    vp = win.grid.viewports[0]
    ctrl = win.annotation.controller
    ctrl.add(
        Annotation.create(
            "ellipse",
            image_ref(vp.info),
            [(90, 90), (110, 130)],
            vp.info.plane,
            label="L4-L5",
            state="bulge",
        )
    )
    assert [a.text() for a in win.menuBar().actions()[0].menu().actions()].count(
        win.annotation.export_action.text()
    ) == 1
    job = win.annotation.export_to(tmp_path / "export")
    qtbot.waitUntil(lambda: job.done, timeout=60000)
    sr = tmp_path / "export" / "annotations_sr.dcm"
    assert sr.is_file() and list((tmp_path / "export" / "seg").glob("SEG_*.dcm"))
    uid = next(iter(ctrl.document)).uid
    ctrl.delete([uid])
    assert len(ctrl.document) == 0
    assert win.annotation.import_from(sr) == 1
    back = next(iter(ctrl.document))
    assert back.uid == uid and (back.label, back.state) == ("L4-L5", "bulge")
    win.annotation.undo_action.trigger()  # the import is one undoable step
    assert len(ctrl.document) == 0
    close_window(win)


def test_an_opened_study_is_listed_as_new_before_any_edit(qtbot, demo_study_dir) -> None:
    win = open_window(qtbot, demo_study_dir)
    qtbot.waitUntil(lambda: win.annotation.controller.document is not None, timeout=5000)
    worklist = win.annotation.worklist
    worklist.refresh()
    assert worklist.model.rowCount() == 1
    assert worklist.model.index(0, 3).data() == "new"
    close_window(win)


def test_a_merge_with_another_writer_is_a_notice_the_user_closes(qtbot, demo_study_dir) -> None:
    """Changes merged from another writer (issue 20, item 5) are not only a fading status
    line: a non-modal notice says so and keeps the details."""
    win = open_window(qtbot, demo_study_dir)
    try:
        controller = win.annotation.controller
        controller.merged.emit("1.2.3", "1 conflict: your version kept; theirs kept as a copy")
        notice = win._notice
        assert notice is not None and notice.isVisible() and not notice.isModal()
        assert notice.windowTitle() == "Annotations merged"
        assert "conflict" in notice.detailedText()
    finally:
        close_window(win)
