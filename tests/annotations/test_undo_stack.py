"""UndoStack and the annotation commands: undo/redo of each, merging drags, macros, listeners."""

from __future__ import annotations

import pytest
from store_helpers import STUDY, every_kind_document, mark

from spineviewer.annotations.annotation import Kind, Provenance, Status
from spineviewer.annotations.commands import (
    AddAnnotations,
    Command,
    Compound,
    RemoveAnnotations,
    ReplaceAnnotations,
    UndoStack,
    accept,
    accept_all_proposals,
    change,
    delete,
    reject,
    reject_all_proposals,
)
from spineviewer.annotations.document import AnnotationDocument


def _snapshot(doc: AnnotationDocument) -> list:
    return list(doc)


@pytest.fixture
def stack() -> UndoStack:
    return UndoStack(every_kind_document())


def _round_trip(stack: UndoStack, command: Command) -> None:
    """push, undo, redo, undo: the document goes back and forth exactly."""
    before = _snapshot(stack.document)
    assert stack.push(command)
    after = _snapshot(stack.document)
    assert after != before
    stack.undo()
    assert _snapshot(stack.document) == before
    stack.redo()
    assert _snapshot(stack.document) == after
    stack.undo()
    assert _snapshot(stack.document) == before


def test_add(stack: UndoStack) -> None:
    new = [mark(Kind.LINE, uid="n1"), mark(Kind.LINE, uid="n2")]
    command = AddAnnotations(new)
    assert command.text == "Add 2 lines"
    _round_trip(stack, command)
    stack.redo()
    assert stack.document.uids()[-2:] == ("n1", "n2")


def test_remove_restores_drawing_order(stack: UndoStack) -> None:
    doc = stack.document
    order = doc.uids()
    command = delete(doc, [order[5], order[1], order[7]])
    assert command.text == "Delete 3 annotations"
    _round_trip(stack, command)
    assert doc.uids() == order


def test_replace_move_and_relabel(stack: UndoStack) -> None:
    doc = stack.document
    poly = doc["human-polygon"]
    _round_trip(stack, change(doc, [poly.moved(3.0, -2.0, None)], "Move polygon"))
    _round_trip(stack, change(doc, [poly.relabelled("L5")], "Relabel"))


def test_accept_and_reject(stack: UndoStack) -> None:
    doc = stack.document
    command = accept(doc, ["proposal-1", "human-point"])
    # Only the proposal changes: the point is already accepted.
    assert command.uids == {"proposal-1"} and command.text == "Accept polygon"
    _round_trip(stack, command)
    stack.redo()
    assert doc["proposal-1"].status == Status.ACCEPTED
    assert stack.undo_text == "Undo Accept polygon"
    stack.push(reject(doc, ["proposal-1", "human-line"]))
    assert doc["proposal-1"].status == doc["human-line"].status == Status.REJECTED
    stack.undo()
    assert doc["proposal-1"].status == Status.ACCEPTED
    assert doc["human-line"].status == Status.ACCEPTED


def test_nothing_to_do_is_not_recorded(stack: UndoStack) -> None:
    calls = []
    stack.subscribe(lambda c, d: calls.append(c))
    assert not stack.push(accept(stack.document, ["human-point"]))
    assert not stack.push(Compound([], "Nothing"))
    assert len(stack) == 0 and calls == []
    with pytest.raises(KeyError):
        accept(stack.document, ["no-such-uid"])


def test_accept_all_is_one_step() -> None:
    doc = every_kind_document()
    for i in range(3):
        doc.add(
            mark(
                Kind.POINT,
                uid=f"p{i}",
                status=Status.PROPOSED,
                provenance=Provenance.model("m", "1", 0.5),
            )
        )
    stack = UndoStack(doc)
    stack.push(accept_all_proposals(doc))
    assert doc.proposed() == () and stack.undo_text == "Undo Accept all proposals"
    stack.undo()
    assert len(doc.proposed()) == 4
    stack.push(reject_all_proposals(doc))
    assert doc.counts()[Status.REJECTED] == 5


def test_compound(stack: UndoStack) -> None:
    doc = stack.document
    compound = Compound(
        [
            delete(doc, ["proposal-1"]),
            AddAnnotations([mark(Kind.POLYGON, uid="fixed")]),
        ],
        "Replace proposal",
    )
    assert compound.uids == {"proposal-1", "fixed"}
    _round_trip(stack, compound)


def test_failing_part_of_compound_changes_nothing(stack: UndoStack) -> None:
    doc = stack.document
    before = _snapshot(doc)
    compound = Compound(
        [AddAnnotations([mark(uid="new")]), AddAnnotations([doc["human-point"]])], "Broken"
    )
    with pytest.raises(ValueError, match="already"):
        stack.push(compound)
    assert _snapshot(doc) == before and len(stack) == 0


def test_macro(stack: UndoStack) -> None:
    doc = stack.document
    before = _snapshot(doc)
    seen = []
    stack.subscribe(lambda c, done: seen.append((c.text, done)))
    with stack.macro("Run model"):
        stack.push(delete(doc, ["proposal-1"]))
        stack.push(AddAnnotations([mark(Kind.POINT, uid="m1", status=Status.PROPOSED)]))
    assert len(stack) == 1 and stack.undo_text == "Undo Run model"
    assert [done for _, done in seen] == [True, True]  # each part announced as it ran
    stack.undo()
    assert _snapshot(doc) == before


def test_macro_rolls_back_on_error(stack: UndoStack) -> None:
    doc = stack.document
    before = _snapshot(doc)
    with pytest.raises(RuntimeError, match="boom"), stack.macro("Half done"):
        stack.push(delete(doc, ["proposal-1"]))
        raise RuntimeError("boom")
    assert _snapshot(doc) == before and len(stack) == 0


def test_stale_command_is_refused(stack: UndoStack) -> None:
    doc = stack.document
    point = doc["human-point"]
    stale = change(doc, [point.moved(1, 1, None)], "Move point")
    stack.push(change(doc, [point.relabelled("L1")], "Relabel"))
    with pytest.raises(ValueError, match="changed"):
        stack.push(stale)
    assert doc["human-point"].label == "L1" and len(stack) == 1


def test_drag_merges_into_one_step(stack: UndoStack) -> None:
    doc = stack.document
    start = doc["human-rectangle"]
    for _ in range(10):
        current = doc["human-rectangle"]
        stack.push(change(doc, [current.moved(0.5, 0.25, None)], "Move rectangle"), merge=True)
    assert len(stack) == 1 and stack.undo_text == "Undo Move rectangle"
    assert doc["human-rectangle"].points[0] == (start.points[0][0] + 5, start.points[0][1] + 2.5)
    stack.undo()
    assert doc["human-rectangle"] == start
    stack.redo()
    assert doc["human-rectangle"].points[0][0] == start.points[0][0] + 5


def test_merge_only_when_asked_and_alike(stack: UndoStack) -> None:
    doc = stack.document

    def move(uid: str, text: str = "Move", merge: bool = True) -> None:
        stack.push(change(doc, [doc[uid].moved(1, 1, None)], text), merge=merge)

    move("human-point")
    move("human-point", merge=False)  # a new drag
    move("human-line")  # another annotation
    move("human-line", text="Resize")  # another kind of edit
    assert len(stack) == 4
    stack.set_clean()
    move("human-line", text="Resize")  # never merges into the clean state
    assert len(stack) == 5


def test_listeners_hear_every_change(stack: UndoStack) -> None:
    doc = stack.document
    calls: list[tuple[str, bool, int]] = []

    def listener(command: Command, done: bool) -> None:
        calls.append((command.text, done, len(doc)))  # called after the change

    stack.subscribe(listener)
    n = len(doc)
    stack.push(AddAnnotations([mark(uid="x")]))
    stack.undo()
    stack.redo()
    assert calls == [
        ("Add point", True, n + 1),
        ("Add point", False, n),
        ("Add point", True, n + 1),
    ]
    stack.unsubscribe(listener)
    stack.undo()
    assert len(calls) == 3


def test_failing_listener_does_not_stop_the_others(stack: UndoStack) -> None:
    calls = []

    def broken(command: Command, done: bool) -> None:
        raise OSError("disk full")

    stack.subscribe(broken)
    stack.subscribe(lambda c, d: calls.append(d))
    with pytest.raises(OSError, match="disk full"):
        stack.push(AddAnnotations([mark(uid="x")]))
    assert calls == [True] and "x" in stack.document and stack.can_undo


def test_new_push_clears_redo(stack: UndoStack) -> None:
    doc = stack.document
    stack.push(AddAnnotations([mark(uid="a")]))
    stack.push(AddAnnotations([mark(uid="b")]))
    stack.undo()
    assert stack.can_redo and stack.redo_text == "Redo Add point"
    stack.push(AddAnnotations([mark(uid="c")]))
    assert not stack.can_redo and stack.redo_text == "Redo" and stack.redo() is None
    assert "b" not in doc and stack.index == len(stack) == 2


def test_texts_indices_and_clean(stack: UndoStack) -> None:
    assert (stack.undo_text, stack.redo_text) == ("Undo", "Redo")
    assert stack.undo() is None and stack.is_clean and stack.clean_index == 0
    stack.push(AddAnnotations([mark(Kind.COBB, uid="c")]))
    assert stack.undo_text == "Undo Add Cobb angle" and not stack.is_clean
    stack.set_clean()
    stack.undo()
    assert not stack.is_clean and stack.redo_command is not None
    stack.push(AddAnnotations([mark(uid="d")]))  # the clean state is now unreachable
    assert stack.clean_index is None and not stack.is_clean
    stack.clear()
    assert len(stack) == 0 and stack.is_clean and not stack.can_undo
    assert "d" in stack.document  # clear keeps the document


def test_limit_drops_the_oldest() -> None:
    stack = UndoStack(AnnotationDocument(STUDY), limit=3)
    for i in range(5):
        stack.push(AddAnnotations([mark(uid=f"a{i}")]))
    assert len(stack) == 3 and stack.clean_index is None
    while stack.undo():
        pass
    assert stack.document.uids() == ("a0", "a1")


def test_replace_needs_matching_uids() -> None:
    a, b = mark(uid="a"), mark(uid="b")
    with pytest.raises(ValueError):
        ReplaceAnnotations([a], [b], "x")
    with pytest.raises(ValueError):
        RemoveAnnotations([a, a])
