"""The worklist panel on a workspace of many studies: rows, status filter, open by
double-click, next/previous, and a refresh that keeps the rows it shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from spineviewer.annotations.document import AnnotationDocument, ReviewStatus
from spineviewer.annotations.store import Workspace
from spineviewer.gui.annotate.controller import AnnotationController
from spineviewer.gui.annotate.worklist_panel import STATUS_COLORS, WorklistPanel

STUDIES = 300


@pytest.fixture
def panel(qtbot, tmp_path: Path) -> WorklistPanel:
    workspace = Workspace(tmp_path / "ws")
    for n in range(STUDIES):
        workspace.save(
            AnnotationDocument(
                f"1.2.{n}",
                patient_name=f"PATIENT^{n:03d}",
                study_date=f"2026{1 + n % 12:02d}01",
                study_description=f"lumbar {n}",
                author="reader",
            )
        )
    workspace.set_status("1.2.7", ReviewStatus.DONE)
    controller = AnnotationController(workspace)
    widget = WorklistPanel(controller)
    qtbot.addWidget(widget)
    widget.resize(700, 400)
    widget.show()
    widget.refresh()
    yield widget
    workspace.close()


def test_every_study_is_a_row_with_its_status(panel: WorklistPanel) -> None:
    model = panel.model
    assert model.rowCount() == STUDIES
    names = {model.index(r, 0).data() for r in range(model.rowCount())}
    assert names == {f"Patient, {n:03d}" for n in range(STUDIES)}  # DICOM PN made readable
    done = next(
        r for r in range(STUDIES) if model.index(r, 0).data(Qt.ItemDataRole.UserRole) == "1.2.7"
    )
    assert model.index(done, 3).data() == "done"
    colour = model.index(done, 3).data(Qt.ItemDataRole.ForegroundRole).color().name()
    assert colour == STATUS_COLORS[ReviewStatus.DONE]
    text_width = panel.tree.fontMetrics().horizontalAdvance("Patient, 299")
    assert panel.tree.header().sectionSize(0) > text_width  # the names are not cut


def test_the_status_filter_narrows_the_rows(panel: WorklistPanel) -> None:
    panel.filter_box.setCurrentIndex(panel.filter_box.findData(ReviewStatus.DONE.value))
    panel.refresh()
    assert [e.study_uid for e in panel.entries] == ["1.2.7"]
    assert panel.model.rowCount() == 1


def test_double_click_asks_to_open_that_study(qtbot, panel: WorklistPanel) -> None:
    row = 5
    rect = panel.tree.visualRect(panel.model.index(row, 0))
    # an item view takes a double click for the index its press went to: press, then double
    qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(panel.openRequested) as opened:
        qtbot.mouseDClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args[0] == panel.entries[row]


def test_next_study_steps_through_the_worklist(qtbot, panel: WorklistPanel) -> None:
    panel.controller.current_uid = panel.entries[0].study_uid
    with qtbot.waitSignal(panel.openRequested) as opened:
        assert panel.step(1) == panel.entries[1]
    assert opened.args[0] == panel.entries[1]


def test_a_refresh_keeps_the_current_study_selected(panel: WorklistPanel) -> None:
    panel.controller.current_uid = panel.entries[42].study_uid
    panel.refresh()
    assert panel.tree.currentIndex().row() == 42
    assert panel.model.rowCount() == STUDIES
