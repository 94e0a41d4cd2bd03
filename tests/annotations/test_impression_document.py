"""The reader's impression in the annotation document (issue 22, item 8): saved and read back,
valid against the shipped schema, absent from older files (which still read), one undo step,
merged like a document field, and de-identified for anonymised outputs."""

from __future__ import annotations

import json

import pytest
from store_helpers import STUDY, every_kind_document, schema_errors

from spineviewer.annotations import Workspace
from spineviewer.annotations.commands import UndoStack
from spineviewer.annotations.deidentify import REMOVED, deidentified_document
from spineviewer.annotations.document import AnnotationDocument, ReviewStatus
from spineviewer.annotations.errors import AnnotationFileError
from spineviewer.annotations.impression import Impression, impression_text
from spineviewer.annotations.impression_edits import set_impression
from spineviewer.annotations.store import Autosaver
from spineviewer.resources import resource_path

TEXT = "Left paracentral L4-L5 herniation.\nNo fracture."


def _schema() -> dict:
    return json.loads(resource_path("schemas", "annotations-v1.schema.json").read_text("utf-8"))


def test_impression_round_trips_and_fits_the_schema() -> None:
    doc = every_kind_document()
    doc.impression = Impression(TEXT, "DOE^JANE", "2024-02-01T10:00:00+00:00")
    data = json.loads(doc.to_json())
    assert data["impression"] == {
        "text": TEXT,
        "author": "DOE^JANE",
        "created": "2024-02-01T10:00:00+00:00",
    }
    assert schema_errors(_schema(), data) == []
    back = AnnotationDocument.from_json(doc.to_json())
    assert back.impression == doc.impression and back == doc


def test_a_document_without_impression_writes_none_and_older_files_read() -> None:
    doc = every_kind_document()
    data = json.loads(doc.to_json())
    assert "impression" not in data  # an older reader's file, unchanged
    assert schema_errors(_schema(), data) == []
    assert AnnotationDocument.from_dict(data).impression is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("just text", "impression: not a JSON object"),
        ({"text": "", "author": "", "created": ""}, "needs some text"),
        ({"text": "x", "author": 3, "created": ""}, "author is not a string"),
        ({"text": "x", "author": ""}, "missing 'created'"),
    ],
)
def test_a_bad_impression_names_the_file_and_the_problem(value: object, problem: str) -> None:
    data = json.loads(every_kind_document().to_json())
    data["impression"] = value
    with pytest.raises(AnnotationFileError, match=problem) as caught:
        AnnotationDocument.from_dict(data, "study/annotations.json")
    assert "study/annotations.json" in str(caught.value)
    # the schema refuses it too
    assert schema_errors(_schema(), data) != []


def test_impression_text_is_cleaned_as_typed() -> None:
    assert impression_text("\r\n  first line  \r\nsecond\t\n\n") == "  first line\nsecond"
    assert impression_text(" \n \n") == ""


def test_setting_the_impression_is_one_undo_step() -> None:
    doc = AnnotationDocument(STUDY, author="reader")
    stack = UndoStack(doc)
    assert set_impression(stack, "  Mild bulge at L5-S1.  \n")
    assert doc.impression is not None
    assert (doc.impression.text, doc.impression.author) == ("  Mild bulge at L5-S1.", "reader")
    assert not set_impression(stack, "  Mild bulge at L5-S1.")  # unchanged: nothing pushed
    assert set_impression(stack, TEXT, author="other")
    assert doc.impression.text == TEXT and doc.impression.author == "other"
    assert set_impression(stack, "   ")  # blank: cleared
    assert doc.impression is None
    stack.undo()
    assert doc.impression is not None and doc.impression.text == TEXT
    stack.undo()
    assert doc.impression.text == "  Mild bulge at L5-S1."
    stack.undo()
    assert doc.impression is None
    stack.redo()
    assert doc.impression is not None and doc.impression.text == "  Mild bulge at L5-S1."


def test_autosaved_impression_reopens_and_merges_with_another_writer(tmp_path) -> None:
    with Workspace(tmp_path / "ws") as workspace:
        doc = AnnotationDocument(STUDY, author="reader")
        workspace.save(doc)
        stack = UndoStack(doc)
        saver = Autosaver(workspace, stack)
        set_impression(stack, TEXT)
        assert saver.saves == 1 and saver.last_error is None
        loaded = workspace.load(STUDY)
        assert loaded is not None and loaded.document.impression == doc.impression
        # another writer changes the review status; ours keeps the impression and takes theirs
        other = loaded.document
        other.review_status = ReviewStatus.DONE
        workspace.commit(other)
        stack.undo()  # our impression cleared, then saved over the other writer's file
        final = workspace.load(STUDY)
        assert final is not None
        assert final.document.impression is None
        assert final.document.review_status == ReviewStatus.DONE
        saver.close()


def test_deidentified_document_keeps_no_author_and_no_text_unless_asked() -> None:
    doc = AnnotationDocument(STUDY, author="QZXREADER")
    doc.impression = Impression("as Dr QZXSMITH said", "QZXREADER")
    removed = deidentified_document(doc)
    assert removed.impression is not None
    assert (removed.impression.text, removed.impression.author) == (REMOVED, "")
    kept = deidentified_document(doc, keep_text=True)
    assert kept.impression is not None
    assert (kept.impression.text, kept.impression.author) == ("as Dr QZXSMITH said", "")
    assert doc.impression.author == "QZXREADER"  # the workspace document is not changed


def test_a_merge_conflict_names_the_impressions_briefly() -> None:
    from spineviewer.annotations.merge import merge

    base = AnnotationDocument(STUDY, author="reader")
    ours, theirs = (
        AnnotationDocument(STUDY, author="reader"),
        AnnotationDocument(STUDY, author="reader"),
    )
    ours.impression = Impression("Ours.", "reader")
    theirs.impression = Impression("A long impression of theirs that goes on\nand on.", "other")
    merged = merge(base.version(), ours.version(), theirs.version())
    assert merged.version.fields["impression"] == ours.impression  # ours kept, said so
    (notice,) = [n for n in merged.notices() if n.startswith("Conflict")]
    assert notice == (
        "Conflict: impression was set to 'Ours.' (by reader) here and to 'A long impression "
        "of theirs that goes on...' (by other) by another writer; 'Ours.' (by reader) is kept."
    )
