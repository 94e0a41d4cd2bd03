"""Level names: order, auto-increment, shifting every label of a study as one undo step, and a
vocabulary that names every level and disc (L6 included) with the codes DICOM knows."""

from __future__ import annotations

import pytest
from store_helpers import STUDY, image

from spineviewer.annotations.annotation import Annotation, Kind, Provenance, Status
from spineviewer.annotations.commands import UndoStack, shift_levels
from spineviewer.annotations.document import AnnotationDocument
from spineviewer.annotations.level_names import (
    DOWN,
    UP,
    ShiftError,
    column,
    disc_parts,
    next_level,
    shift_mapping,
    shifted_label,
)
from spineviewer.annotations.vocabulary import default_vocabulary
from spineviewer.geometry.levels import COLUMN, adjacent


def test_column_has_l6_only_for_six_lumbar_vertebrae() -> None:
    five, six = column(), column(six_lumbar=True)
    assert five[-7:] == ("T12", "L1", "L2", "L3", "L4", "L5", "S1")
    assert six[-8:] == ("T12", "L1", "L2", "L3", "L4", "L5", "L6", "S1")
    assert len(five) == 7 + 12 + 5 + 1 and six == COLUMN


@pytest.mark.parametrize(
    ("level", "step", "six", "expected"),
    [
        ("L1", DOWN, False, "L2"),
        ("T12", DOWN, False, "L1"),
        ("L5", DOWN, False, "S1"),
        ("L5", DOWN, True, "L6"),
        ("L6", DOWN, False, "S1"),  # L6 itself implies six lumbar vertebrae
        ("S1", DOWN, False, None),
        ("S1", UP, True, "L6"),
        ("S1", UP, False, "L5"),
        ("C1", UP, False, None),
        ("T1", UP, False, "C7"),
        ("sacrum", DOWN, False, None),
        ("L4-L5", DOWN, False, None),
    ],
)
def test_next_level(level, step, six, expected) -> None:
    assert next_level(level, step, six) == expected


def test_disc_parts() -> None:
    assert disc_parts("L4-L5") == ("L4", "L5")
    assert disc_parts("L6-S1") == ("L6", "S1")
    assert disc_parts("pedicle_screw") is None
    assert disc_parts("L4") is None
    assert disc_parts("X1-L2") is None


def test_shift_up_fixes_a_bottom_body_taken_for_s1() -> None:
    """No sacrum in view: the AI called L5 "S1", L4 "L5", ...; one shift up renames all."""
    labels = ["T12", "L1", "L2", "L3", "L4", "L5", "S1", "L4-L5", "L5-S1", "T12-L1"]
    mapping = shift_mapping(labels, UP)
    assert mapping == {
        "T12": "T11",
        "L1": "T12",
        "L2": "L1",
        "L3": "L2",
        "L4": "L3",
        "L5": "L4",
        "S1": "L5",
    }
    shifted = [shifted_label(x, mapping) for x in labels]
    assert shifted == ["T11", "T12", "L1", "L2", "L3", "L4", "L5", "L3-L4", "L4-L5", "T11-T12"]


def test_shift_down_keeps_s1_and_makes_the_body_above_l6() -> None:
    """Six lumbar vertebrae: the AI found S1 but called L6 "L5", L5 "L4", ..."""
    labels = ["L1", "L2", "L3", "L4", "L5", "S1", "L4-L5", "L5-S1", "pedicle_screw", "sacrum"]
    mapping = shift_mapping(labels, DOWN)
    assert mapping["S1"] == "S1" and mapping["L5"] == "L6" and mapping["L1"] == "L2"
    shifted = [shifted_label(x, mapping) for x in labels]
    assert shifted == [
        "L2",
        "L3",
        "L4",
        "L5",
        "L6",
        "S1",
        "L5-L6",
        "L6-S1",
        "pedicle_screw",
        "sacrum",
    ]


def test_shift_down_without_s1_runs_into_the_sacrum() -> None:
    mapping = shift_mapping(["L3", "L4", "L5", "L4-L5"], DOWN)
    assert mapping == {"L3": "L4", "L4": "L5", "L5": "S1"}
    assert shifted_label("L4-L5", mapping) == "L5-S1"
    assert shift_mapping(["L5", "L6"], DOWN) == {"L5": "L6", "L6": "S1"}


def test_impossible_shifts_are_refused_with_the_label_named() -> None:
    with pytest.raises(ShiftError, match="C1 is at the top"):
        shift_mapping(["C1", "C2"], UP)
    with pytest.raises(ShiftError, match="L6 and S1 would both become S1"):
        shift_mapping(["L5", "L6", "S1"], DOWN)
    with pytest.raises(ValueError, match="one level"):
        shift_mapping(["L3"], 2)
    assert shift_mapping(["pedicle_screw", "text"], UP) == {}


def _doc() -> tuple[AnnotationDocument, dict[str, Annotation]]:
    model = Provenance.model("vertebra-detector", "1.0", 0.9)
    marks = {
        "l4": Annotation.create(Kind.POINT, image(), [(10.0, 10.0)], None, label="L4"),
        "l5": Annotation.create(
            Kind.RECTANGLE,
            image(),
            [(20.0, 10.0), (30.0, 20.0)],
            None,
            label="L5",
            status=Status.PROPOSED,
            provenance=model,
            review="needs review",
            review_reasons=("no sacrum in view",),
        ),
        "s1": Annotation.create(Kind.POINT, image(), [(40.0, 10.0)], None, label="S1"),
        "disc": Annotation.create(
            Kind.ELLIPSE,
            image(),
            [(33.0, 5.0), (37.0, 25.0)],
            None,
            label="L5-S1",
            state="herniation",
            status=Status.PROPOSED,
            provenance=model,
        ),
        "rejected": Annotation.create(
            Kind.POINT, image(), [(50.0, 10.0)], None, label="L3", status=Status.REJECTED
        ),
        "screw": Annotation.create(Kind.POINT, image(), [(60.0, 10.0)], None, label="rod"),
    }
    return AnnotationDocument(STUDY, annotations=marks.values()), marks


def test_shift_levels_is_one_undoable_step() -> None:
    doc, marks = _doc()
    stack = UndoStack(doc)
    before = {a.uid: a for a in doc}
    command = shift_levels(doc, UP)
    assert command.text == "Shift labels up one level"
    assert stack.push(command)
    assert len(stack) == 1 and stack.undo_text == "Undo Shift labels up one level"
    labels = {u: doc[a.uid].label for u, a in marks.items()}
    assert labels == {
        "l4": "L3",
        "l5": "L4",
        "s1": "L5",
        "disc": "L4-L5",
        "rejected": "L3",  # a rejected mark keeps its name
        "screw": "rod",
    }
    # a proposal stays a proposal (its disc state is not reviewed by renaming it) and keeps its
    # review need; a person's mark stays accepted
    disc = doc[marks["disc"].uid]
    assert disc.status == Status.PROPOSED and disc.state == "herniation"
    l5 = doc[marks["l5"].uid]
    assert l5.status == Status.PROPOSED and l5.pending_review == "needs review"
    assert doc[marks["l4"].uid].status == Status.ACCEPTED
    assert doc[marks["l4"].uid].points == marks["l4"].points
    stack.undo()
    assert {a.uid: a for a in doc} == before
    stack.redo()
    assert doc[marks["s1"].uid].label == "L5"


def test_shift_down_keeps_s1_in_the_document() -> None:
    doc, marks = _doc()
    UndoStack(doc).push(shift_levels(doc, DOWN))
    assert [doc[marks[k].uid].label for k in ("l4", "l5", "s1", "disc")] == [
        "L5",
        "L6",
        "S1",
        "L6-S1",
    ]


def test_a_refused_shift_changes_nothing() -> None:
    doc, _ = _doc()
    stack = UndoStack(doc)
    stack.push(shift_levels(doc, DOWN))  # L4 L5 S1 -> L5 L6 S1
    before = {a.uid: a for a in doc}
    with pytest.raises(ShiftError, match="L6 and S1 would both become S1"):
        shift_levels(doc, DOWN)
    assert {a.uid: a for a in doc} == before and len(stack) == 1


def test_a_study_without_levels_has_nothing_to_shift() -> None:
    doc = AnnotationDocument(STUDY)
    assert shift_levels(doc, UP).is_empty
    assert not UndoStack(doc).push(shift_levels(doc, UP))


def test_vocabulary_names_every_level_and_every_disc() -> None:
    vocabulary = default_vocabulary()
    for level in COLUMN:
        label = vocabulary.get(level)
        assert label is not None and label.category == "vertebra", level
        assert label.code is not None, level
    discs = [f"{a}-{b}" for a in COLUMN for b in COLUMN if adjacent(a, b) and a != "C1"]
    assert {"L5-L6", "L6-S1", "L5-S1", "C7-T1", "T9-T10"} <= set(discs)
    for disc in discs:
        label = vocabulary.get(disc)
        assert label is not None and label.category == "disc", disc
        assert label.code is not None, disc
    keys = [lb.key for lb in vocabulary.labels]
    assert len(keys) == len(set(keys))


def test_standard_codes_are_the_ones_dicom_ships() -> None:
    """Every SNOMED CT level code of the vocabulary is in pydicom's copy of the DICOM content
    mapping resource with the same meaning; L6 and its discs use the private scheme."""
    from pydicom.sr._concepts_dict import concepts

    meanings: dict[str, set[str]] = {}
    for by_value in concepts["SCT"].values():
        for value, (meaning, _) in by_value.items():
            meanings.setdefault(value, set()).add(meaning)
    vocabulary = default_vocabulary()
    for label in (*vocabulary.in_category("vertebra"), *vocabulary.in_category("disc")):
        code = label.code
        assert code is not None
        if code.scheme == "SCT":
            assert code.meaning in meanings.get(code.value, set()), label.key
        else:
            assert code.scheme == "99SPV" and "L6" in label.key, label.key
