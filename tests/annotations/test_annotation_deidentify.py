"""Annotations for anonymised outputs: no reader's name, free text ``[removed]`` (issue 20,
item 6)."""

from __future__ import annotations

from store_helpers import STUDY, image

from spineviewer.annotations.annotation import Annotation, Kind, Provenance, Status
from spineviewer.annotations.deidentify import (
    REMOVED,
    deidentified_annotation,
    deidentified_document,
    is_term,
)
from spineviewer.annotations.document import AnnotationDocument, ReviewStatus


def _doc() -> AnnotationDocument:
    reader = Provenance(author="Dr QZX Reader")
    marks = [
        Annotation.create(Kind.LINE, image(), [(0, 0), (9, 9)], None, label="call Mr QZX",
                          text="QZX note", provenance=reader, uid="free"),
        Annotation.create(Kind.ELLIPSE, image(), [(0, 0), (9, 9)], None, label="L5-L6",
                          state="bulge", provenance=reader, uid="disc"),
        Annotation.create(Kind.POINT, image(), [(3, 3)], None, label="L6", provenance=reader,
                          uid="level"),
        Annotation.create(Kind.RECTANGLE, image(), [(0, 0), (9, 9)], None, label="pedicle_screw",
                          state="QZX state", status=Status.PROPOSED,
                          provenance=Provenance.model("implants", "1.0", 0.9), uid="model"),
    ]  # fmt: skip
    return AnnotationDocument(
        STUDY,
        patient_id="QZX-PID",
        patient_name="QZX^PATIENT",
        study_date="20240102",
        study_description="QZX study",
        source_paths=["/data/QZX"],
        author="Dr QZX Reader",
        review_status=ReviewStatus.DONE,
        annotations=marks,
    )


def test_anonymised_copy_names_no_one_and_drops_free_text() -> None:
    original = _doc()
    before = original.to_json()
    copy = deidentified_document(original)
    assert original.to_json() == before  # the workspace document is untouched
    assert "QZX" not in copy.to_json()
    assert copy.author == "" and copy.patient_name is None and copy.patient_id is None
    assert copy.review_status == ReviewStatus.DONE and copy.uids() == original.uids()
    assert (copy["free"].label, copy["free"].text) == (REMOVED, REMOVED)
    assert all(copy[uid].provenance.author == "" for uid in ("free", "disc", "level"))
    # vocabulary terms and level names are no free text; a model keeps its id
    assert (copy["disc"].label, copy["disc"].state) == ("L5-L6", "bulge")
    assert copy["level"].label == "L6" and copy["model"].label == "pedicle_screw"
    assert copy["model"].state == REMOVED and copy["model"].provenance.author == "implants"
    assert copy["free"].points == original["free"].points


def test_keep_text_keeps_the_notes_but_not_the_reader() -> None:
    copy = deidentified_document(_doc(), keep_text=True)
    assert (copy["free"].label, copy["free"].text) == ("call Mr QZX", "QZX note")
    assert copy.author == "" and copy["free"].provenance.author == ""
    assert "Reader" not in copy.to_json()


def test_terms() -> None:
    assert is_term("") and is_term("L4") and is_term("T12-L1") and is_term("sacrum")
    assert not is_term("L4 see Dr X") and not is_term("L4-sacrum x")
    plain = Annotation.create(Kind.POINT, image(), [(1, 1)], None, label="L4",
                              provenance=Provenance(author=""))  # fmt: skip
    assert deidentified_annotation(plain) is plain  # nothing to remove: the same object


def test_a_series_calibration_survives_without_its_author() -> None:
    from spineviewer.annotations.calibration import Calibration

    line = Annotation.create(Kind.LINE, image(), [(0, 0), (30, 40)], None)
    original = _doc()
    original.calibrations[line.image.series_uid] = Calibration.from_line(
        line, 20.0, author="Dr QZX Reader"
    )
    copy = deidentified_document(original)
    kept = copy.calibrations[line.image.series_uid]
    assert kept.factor == original.calibrations[line.image.series_uid].factor
    assert kept.author == "" and "QZX" not in copy.to_json()
