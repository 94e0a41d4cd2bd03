"""A viewer with a study open and a second writer of its annotations: nothing is lost.

Issue 20, item 5: ``spineviewer annotations import STUDY SR`` wrote the study's file while a
viewer had it open, and the viewer's next autosave overwrote it without a word. Here the
viewer (controller, real viewport, real mouse events) keeps editing after the import; its
autosave merges, the imported annotation stays on disk, appears in the view and can be
selected there, and the user is told. A conflicting edit is kept as a copy beside the
viewer's own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import shown_viewport
from PySide6.QtCore import QPoint, Qt

from spineviewer.annotations import Annotation, AnnotationDocument, Status, Workspace
from spineviewer.annotations.export import export_study
from spineviewer.annotations.merge import OTHER_VERSION
from spineviewer.cli import main
from spineviewer.dicom import scan
from spineviewer.gui.annotate.controller import AnnotationController, image_ref
from spineviewer.gui.annotate.tools import AnnotationTools
from spineviewer.gui.viewport import ImageViewport

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture(scope="module")
def study(demo_study_dir: Path):
    return scan(demo_study_dir).studies[0]


@pytest.fixture
def viewer(qtbot, study, demo_study_dir):
    """The viewer: the demo study's annotations open in the controller (in the per-test
    workspace), a real viewport with the annotation tools, the status-bar lines it emits."""
    controller = AnnotationController(Workspace())
    controller.open_study(study, [demo_study_dir])
    tools = AnnotationTools(controller)
    vp = shown_viewport(qtbot, study)
    vp.tool_handler = tools
    messages: list[str] = []
    controller.message.connect(messages.append)
    yield vp, controller, tools, messages
    controller.close_all()


def px(vp: ImageViewport, row: float, col: float) -> QPoint:
    return vp.image_to_widget(row, col).toPoint()


def drag(qtbot, vp: ImageViewport, a: QPoint, b: QPoint, steps: int = 4) -> None:
    target = vp.viewport()
    qtbot.mousePress(target, LEFT, Qt.KeyboardModifier.NoModifier, a)
    for i in range(1, steps + 1):
        qtbot.mouseMove(target, a + (b - a) * (i / steps))
    qtbot.mouseRelease(target, LEFT, Qt.KeyboardModifier.NoModifier, b)


def on_disk(study_uid: str) -> AnnotationDocument:
    with Workspace() as ws:
        loaded = ws.load(study_uid)
    assert loaded is not None
    return loaded.document


def draw_rectangle(qtbot, vp, controller, top_left, bottom_right) -> Annotation:
    controller.set_tool("rectangle")
    drag(qtbot, vp, px(vp, *top_left), px(vp, *bottom_right))
    drawn = controller.document[controller.selected]  # a new drawing is selected
    assert drawn.kind.value == "rectangle"
    return drawn


def test_an_import_while_the_study_is_open_survives_the_next_autosave(
    qtbot, viewer, study, demo_study_dir, tmp_path
) -> None:
    vp, controller, tools, messages = viewer
    drawn = draw_rectangle(qtbot, vp, controller, (60, 60), (100, 120))
    # an SR with one annotation on the slice on screen, made elsewhere
    ref = image_ref(vp.info)
    elsewhere = AnnotationDocument(study.uid, author="Other^Reader")
    imported = Annotation.create(
        "rectangle", ref, [(150.0, 150.0), (190.0, 220.0)], vp.info.plane, label="L3"
    )
    elsewhere.add(imported)
    stacks = [st for series in study.series for st in series.stacks]
    (sr,) = export_study(elsewhere, stacks, tmp_path / "sr", ["sr"]).files
    # spineviewer annotations import STUDY SR, into the viewer's workspace, while it is open
    root = controller.workspace.root
    rc = main(["annotations", "--workspace", str(root), "import", str(demo_study_dir), str(sr)])
    assert rc == 0
    assert imported.uid in on_disk(study.uid) and imported.uid not in controller.document
    # the viewer goes on editing: its autosave merges instead of overwriting
    with qtbot.waitSignal(controller.merged, timeout=5000) as told:
        second = draw_rectangle(qtbot, vp, controller, (30, 200), (50, 260))
    saved = on_disk(study.uid)
    assert {drawn.uid, second.uid, imported.uid} <= set(saved.uids())
    assert saved[imported.uid].label == "L3"
    # shown: in the open document and among what the viewport paints on this slice ...
    assert imported.uid in controller.document
    assert imported.uid in {a.uid for a in tools._on_image(vp)}
    # ... and a click on its edge selects it there
    controller.set_tool("select")
    qtbot.mouseClick(vp.viewport(), LEFT, pos=px(vp, 150.0, 185.0))
    assert controller.selected == imported.uid
    # the user was told
    assert told.args[0] == study.uid and "1 added" in told.args[1]
    assert any("another writer" in m and "1 added" in m for m in messages)
    # the viewer's undo takes back its own rectangle, not the import
    controller.undo()
    assert set(on_disk(study.uid).uids()) == {drawn.uid, imported.uid}


def other_viewer_edits(study_uid: str, edit) -> int:
    """Another viewer of the same workspace loads the study, edits and saves; the generation."""
    with Workspace() as ws:
        loaded = ws.load(study_uid)
        assert loaded is not None
        doc = loaded.document
        edit(doc)
        return ws.commit(doc).generation


def test_conflicting_edits_are_kept_and_told(qtbot, viewer, study) -> None:
    vp, controller, tools, messages = viewer
    rect = draw_rectangle(qtbot, vp, controller, (60, 60), (100, 120))
    spare = draw_rectangle(qtbot, vp, controller, (150, 60), (180, 120))
    doc = controller.document

    # deleted here, edited there: the edited one stays, and is shown again
    generation = other_viewer_edits(
        study.uid, lambda d: d.replace(d[spare.uid].with_text("keep this one"))
    )
    assert generation == doc.generation + 1
    with qtbot.waitSignal(controller.merged, timeout=5000) as told:
        controller.delete([spare.uid])
    assert doc[spare.uid].text == "keep this one" and doc[spare.uid].status == Status.ACCEPTED
    assert spare.uid in {a.uid for a in tools._on_image(vp)}
    assert "you deleted was edited by another writer" in told.args[1]
    assert on_disk(study.uid)[spare.uid].text == "keep this one"
    controller.undo()  # the delete cannot be undone over the other's edit: said, no error
    assert "another writer" in messages[-1] and spare.uid in doc

    # edited on both sides: the viewer's move stays, the other's relabel is kept beside it
    other_viewer_edits(study.uid, lambda d: d.replace(d[rect.uid].relabelled("L4")))
    controller.set_tool("select")
    start = px(vp, 60, 90)
    with qtbot.waitSignal(controller.merged, timeout=5000) as told:
        drag(qtbot, vp, start, start + (px(vp, 70, 100) - px(vp, 60, 90)))
    moved = doc[rect.uid]
    assert moved.points != rect.points and moved.label == rect.label
    copies = [a for a in doc if a.text.startswith(OTHER_VERSION)]
    assert len(copies) == 1 and copies[0].label == "L4" and copies[0].points == rect.points
    assert doc.index_of(copies[0].uid) == doc.index_of(rect.uid) + 1  # right beside it
    assert "Conflict" in told.args[1] and OTHER_VERSION in told.args[1]
    assert any("1 conflict(s) with another writer, nothing lost" in m for m in messages)
    saved = on_disk(study.uid)
    assert saved.uids() == doc.uids() and saved[rect.uid] == moved
    assert {rect.uid, copies[0].uid, spare.uid} <= {a.uid for a in tools._on_image(vp)}
