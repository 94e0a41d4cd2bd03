"""The Annotations panel is readable as it opens (issue 21, defect 8): after the AI has run on
the demo study every column fits the dock with no horizontal scrolling and the status is
not cut; the image reads "Se 3 / Im 7" from the DICOM headers; the source is "AI 92%" (the
model in the tooltip); a distance drawn without a label is "Distance 1", the next
"Distance 2"; labels are chosen by typing ("l45" is L4-L5) from a grouped list."""

from __future__ import annotations

import re

import pydicom
import pytest
from gui_helpers import open_analysed
from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel

from spineviewer.annotations.vocabulary import default_vocabulary
from spineviewer.gui.annotate.labelling import KEY_ROLE, label_groups, matching_labels
from spineviewer.gui.annotate.panel import (
    LABEL_COLUMN,
    MEASURE_COLUMN,
    SHAPE_COLUMN,
    SOURCE_COLUMN,
    STATUS_COLUMN,
)

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def analysed(qtbot, demo_study_dir):
    """The demo study opened in a window of a common size, analysed with the real models."""
    win = open_analysed(qtbot, demo_study_dir)
    yield win
    win.close()


def test_every_column_fits_the_dock_and_nothing_is_cut(qtbot, analysed) -> None:
    panel = analysed.annotation.panel
    tree, model = panel.tree, panel.model
    assert model.rowCount() >= 10
    qtbot.waitUntil(lambda: tree.viewport().width() > 0)
    header = tree.header()
    width = tree.viewport().width()
    assert tree.horizontalScrollBar().maximum() == 0  # nothing to scroll to
    metrics = tree.fontMetrics()
    for column in range(model.columnCount()):
        if tree.isColumnHidden(column):
            continue
        left = header.sectionViewportPosition(column)
        right = left + header.sectionSize(column)
        assert left >= 0 and right <= width, model.columns[column]
    # the status is whole: its column is wider than its longest text
    statuses = [model.index(r, STATUS_COLUMN).data() for r in range(model.rowCount())]
    longest = max(metrics.horizontalAdvance(t) for t in [*statuses, "Status"])
    assert header.sectionSize(STATUS_COLUMN) > longest
    # the source is short, the model named in the tooltip
    for r in range(model.rowCount()):
        source = model.index(r, SOURCE_COLUMN)
        assert re.fullmatch(r"AI \d+%", source.data()), source.data()
        assert "model " in source.data(Qt.ItemDataRole.ToolTipRole)
        text = model.index(r, SOURCE_COLUMN).data()
        assert header.sectionSize(SOURCE_COLUMN) > metrics.horizontalAdvance(text)
    # the measurements take the rest and show at least one value whole
    measure = model.index(0, MEASURE_COLUMN).data()
    assert header.sectionSize(MEASURE_COLUMN) > metrics.horizontalAdvance(measure)
    assert header.visualIndex(MEASURE_COLUMN) == model.columnCount() - 1
    # the shape is the label's icon (and its tooltip), not a column of its own
    assert tree.isColumnHidden(SHAPE_COLUMN)
    first = model.index(0, LABEL_COLUMN)
    assert not first.data(Qt.ItemDataRole.DecorationRole).isNull()
    assert "rectangle" in first.data(Qt.ItemDataRole.ToolTipRole)


def test_the_image_column_gives_series_and_image_number(analysed, demo_study_dir) -> None:
    numbers = {}
    for path in demo_study_dir.rglob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        numbers[ds.SOPInstanceUID] = (int(ds.SeriesNumber), int(ds.InstanceNumber))
    panel = analysed.annotation.panel
    model = panel.model
    seen = set()
    for r, ann in enumerate(model.rows):
        series, image = numbers[ann.image.sop_instance_uid]
        assert model.index(r, 2).data() == f"Se {series} / Im {image}"
        seen.add(series)
    assert len(seen) >= 2  # vertebrae on the sagittal series, discs on the axial ones


def test_a_new_distance_is_named_distance_1_then_2(qtbot, analysed) -> None:
    win = analysed
    ui = win.annotation
    vp = win.grid.viewports[0]
    win.set_tool("line")
    names = []
    for offset in (0, 30):
        a = vp.image_to_widget(60 + offset, 60).toPoint()
        b = vp.image_to_widget(140 + offset, 100).toPoint()
        qtbot.mousePress(vp.viewport(), LEFT, pos=a)
        qtbot.mouseMove(vp.viewport(), b)
        qtbot.mouseRelease(vp.viewport(), LEFT, pos=b)
        ann = ui.controller.find(ui.controller.selected)
        assert ann is not None and ann.kind.value == "line"
        row = ui.panel.model.row_of(ann.uid)
        names.append(ui.panel.model.index(row, LABEL_COLUMN).data())
        lines = ui.tools.text_lines(ann, None, "MR", detailed=False)
        assert lines[0] == names[-1] and lines[1].startswith("Length")
    assert names == ["Distance 1", "Distance 2"]


def test_labels_are_grouped_and_found_by_typing(qtbot, analysed) -> None:
    vocabulary = default_vocabulary()
    assert next(m.key for m in matching_labels(vocabulary, "l45")) == "L4-L5"
    assert next(m.key for m in matching_labels(vocabulary, "L4")) == "L4"
    assert {"L4-L5", "L3-L4"} <= {m.key for m in matching_labels(vocabulary, "l4")}
    assert [m.key for m in matching_labels(vocabulary, "screw")] == ["pedicle_screw"]
    groups = dict(label_groups(vocabulary))
    assert [lb.key for lb in groups["Lumbar vertebrae"]] == ["L1", "L2", "L3", "L4", "L5", "L6"]
    assert "L5-S1" in [lb.key for lb in groups["Lumbar discs"]]
    assert "T12-L1" in [lb.key for lb in groups["Lumbar discs"]]
    # the panel's label field: grouped headings that cannot be picked, typing + Enter picks
    panel = analysed.annotation.panel
    box = panel.label_box
    items = box.model()
    assert isinstance(items, QStandardItemModel)
    headings = [
        items.item(r).text()
        for r in range(items.rowCount())
        if items.item(r).data(KEY_ROLE) is None
    ]
    assert "Lumbar vertebrae" in headings and "Lumbar discs" in headings
    assert all(
        not items.item(r).isSelectable()
        for r in range(items.rowCount())
        if items.item(r).data(KEY_ROLE) is None
    )
    disc = next(a for a in panel.controller.document if a.label == "L3-L4")
    panel.controller.select(disc.uid)
    box.lineEdit().setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "l45")
    box.completer().popup().hide()  # Enter on the field itself: the best match
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    assert box.key() == "L4-L5" and panel.controller.label == "L4-L5"
    assert panel.controller.document[disc.uid].label == "L4-L5"


def test_label_colours_are_the_overlays_not_the_state_hues(analysed) -> None:
    """The panel colours a label as the overlay does: L1 a level tone (the vocabulary gave it
    red, a herniation's hue), a disc with a state its state's colour."""
    from PySide6.QtCore import Qt

    from spineviewer.gui import theme

    panel = analysed.annotation.panel
    model = panel.model
    seen = {}
    for r in range(model.rowCount()):
        ann = panel.model.rows[r]
        brush = model.index(r, 0).data(Qt.ItemDataRole.ForegroundRole)
        if ann.label and brush is not None:
            seen[(ann.label, ann.state)] = brush.color().name()
    levels = {k: v for k, v in seen.items() if k[0] in ("L1", "L2", "L3") and not k[1]}
    assert levels and all(c in theme.VERTEBRA_COLORS for c in levels.values()), seen
    states = {k: v for k, v in seen.items() if k[1] in theme.STATE_COLORS}
    assert states and all(c == theme.STATE_COLORS[k[1]] for k, c in states.items()), seen
