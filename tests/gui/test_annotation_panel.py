"""The Annotations panel on a study with hundreds of marks: one row each with its label,
status colour and measurement, clicking a row selects and shows that mark, selecting a mark
elsewhere highlights its row, and an edit refreshes the rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from spineviewer.annotations import Annotation, Kind, Status, Workspace
from spineviewer.annotations.annotation import ImageRef
from spineviewer.dicom import scan
from spineviewer.gui.annotate.controller import AnnotationController
from spineviewer.gui.annotate.panel import STATUS_COLORS, AnnotationPanel

MARKS = 300


@pytest.fixture
def panel(qtbot, demo_study_dir: Path, tmp_path: Path) -> AnnotationPanel:
    study = scan(demo_study_dir).studies[0]
    controller = AnnotationController(Workspace(tmp_path / "ws"))
    controller.open_study(study, [])
    stack = study.series[0].stacks[0]
    frame = stack.frames[0]
    ref = ImageRef(
        study.uid,
        stack.series_uid,
        frame.instance.sop_instance_uid,
        frame.instance.sop_class_uid,
        pixel_spacing=(1.0, 1.0),
    )
    for i in range(MARKS):
        controller.add(
            Annotation.create(Kind.LINE, ref, [(0.0, 0.0), (0.0, 10.0 + i)], None, label="L3")
        )
    widget = AnnotationPanel(controller)
    qtbot.addWidget(widget)
    widget.resize(500, 600)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_every_mark_is_a_row_with_its_measurement(panel: AnnotationPanel) -> None:
    model = panel.model
    assert model.rowCount() == MARKS
    doc = panel.controller.document
    assert doc is not None
    uids = [model.index(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(MARKS)]
    assert uids == [a.uid for a in doc]
    assert model.index(0, 0).data() == "L3"
    assert model.index(7, 5).data() == "Length 17.0 mm"  # (0, 0) to (0, 17) at 1 mm pixels
    status = model.index(0, 3).data(Qt.ItemDataRole.ForegroundRole).color().name()
    assert status == STATUS_COLORS[Status.ACCEPTED]


def test_clicking_a_row_selects_and_shows_that_mark(qtbot, panel: AnnotationPanel) -> None:
    row = 4
    assert panel.tree.currentIndex().row() == MARKS - 1  # the newest mark, scrolled to
    panel.tree.scrollTo(panel.model.index(row, 0))
    rect = panel.tree.visualRect(panel.model.index(row, 0))
    with qtbot.waitSignal(panel.navigateRequested) as shown:
        qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.controller.selected == panel.model.rows[row].uid
    assert shown.args[0].uid == panel.model.rows[row].uid
    assert "Length" in panel.details.text()


def test_selecting_elsewhere_highlights_the_row(panel: AnnotationPanel) -> None:
    target = panel.model.rows[250]
    panel.controller.select(target.uid)
    assert panel.tree.currentIndex().row() == 250
    panel.controller.select(None)
    assert not panel.tree.currentIndex().isValid()


def test_an_edit_shows_at_once_and_undo_takes_it_back(panel: AnnotationPanel) -> None:
    first = panel.model.rows[0]
    panel.controller.set_status([first.uid], Status.REJECTED)
    assert panel.model.index(0, 3).data() == "rejected"
    panel.controller.undo()
    assert panel.model.index(0, 3).data() == "accepted"
