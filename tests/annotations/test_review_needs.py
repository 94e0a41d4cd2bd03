"""A model's review need on its proposals: kept in the annotation model, the JSON file (old files
still read, the schema knows it), and carried from the findings into the proposals."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from store_helpers import STUDY, every_kind_document, image, mark
from test_annotation_document import _check_schema

from spineviewer.ai.findings import (
    REVIEW_STATUSES,
    DiscFinding,
    Findings,
    ImplantFinding,
    ModelUse,
    VertebraFinding,
)
from spineviewer.annotations.annotation import (
    NEEDS_REVIEW,
    REVIEW_NEEDS,
    UNCERTAIN,
    Annotation,
    Kind,
    Provenance,
    Status,
)
from spineviewer.annotations.document import AnnotationDocument
from spineviewer.annotations.proposals import proposals_from_findings
from spineviewer.dicom import scan

REASONS = ("no sacrum in view", "the bottom body may be L5, not S1")


def doubtful(review: str = NEEDS_REVIEW, **kwargs) -> Annotation:
    return mark(
        Kind.RECTANGLE,
        label="L5",
        status=Status.PROPOSED,
        provenance=Provenance.model("vertebra-detector", "1.0", 0.7),
        review=review,
        review_reasons=REASONS,
        **kwargs,
    )


def test_review_needs_are_the_findings_words() -> None:
    assert REVIEW_NEEDS == REVIEW_STATUSES


def test_pending_review_lasts_until_a_person_decides() -> None:
    a = doubtful()
    assert a.pending_review == NEEDS_REVIEW
    assert doubtful(UNCERTAIN).pending_review == UNCERTAIN
    assert doubtful("confident").pending_review == ""
    for status in (Status.ACCEPTED, Status.REJECTED):
        assert a.with_status(status).pending_review == ""
    moved = a.moved(1.0, 1.0, None)
    assert moved.status == Status.EDITED and moved.pending_review == ""
    # renaming for a shift keeps the proposal (and its review need) open
    renamed = a.renamed("L4")
    assert renamed.label == "L4" and renamed.status == Status.PROPOSED
    assert renamed.pending_review == NEEDS_REVIEW and renamed.review_reasons == REASONS
    assert mark().pending_review == "" and mark().review == ""


def test_unknown_review_need_is_refused() -> None:
    with pytest.raises(ValueError, match="review 'maybe'"):
        doubtful("maybe")


def test_json_round_trip_schema_and_older_files(tmp_path: Path) -> None:
    doc = every_kind_document()
    doc.add(doubtful(uid="doubt"))
    text = doc.to_json()
    data = json.loads(text)
    rows = {row["uid"]: row for row in data["annotations"]}
    assert rows["doubt"]["review"] == NEEDS_REVIEW
    assert rows["doubt"]["review_reasons"] == list(REASONS)
    # human marks are written exactly as before the review need existed
    assert all("review" not in row for uid, row in rows.items() if uid != "doubt")
    assert _check_schema(data) == []
    back = AnnotationDocument.from_json(text)
    assert back == doc and back["doubt"].review_reasons == REASONS
    # a file written before (no review keys) reads as before
    for row in data["annotations"]:
        row.pop("review", None)
        row.pop("review_reasons", None)
    old = AnnotationDocument.from_json(json.dumps(data))
    assert old["doubt"].review == "" and old["doubt"].pending_review == ""
    # the schema knows the words
    data["annotations"][0]["review"] = "perhaps"
    assert _check_schema(data)


def test_proposals_carry_the_findings_review_need(demo_study_dir: Path) -> None:
    study = scan(demo_study_dir).studies[0]
    stacks = [st for series in study.series for st in series.stacks]
    sagittal = next(st for st in stacks if st.plane == "sagittal")
    axial = next(st for st in stacks if st.plane == "axial")
    middle = sagittal.frames[len(sagittal) // 2].instance
    on_axial = axial.frames[0].instance
    vertebra = VertebraFinding(
        label="S1",
        score=0.8,
        series_uid=middle.series_uid,
        sop_instance_uid=middle.sop_instance_uid,
        box_px=(100.0, 200.0, 140.0, 230.0),
        centre_mm=(0.0, 0.0, 0.0),
        model_id="vertebra-detector",
        review=NEEDS_REVIEW,
        review_reasons=REASONS,
    )
    plane = axial.plane_of(0)
    assert plane is not None
    centre = tuple(float(v) for v in plane.to_patient(100.0, 100.0))
    disc = DiscFinding(
        level="L4-L5",
        state="bulge",
        probabilities={"normal": 0.4, "bulge": 0.45, "herniation": 0.15},
        centre_mm=centre,  # type: ignore[arg-type]
        axial_instances=(on_axial.sop_instance_uid,),
        model_id="disc-state",
        review=UNCERTAIN,
        review_reasons=("two states almost equally likely",),
    )
    implant = ImplantFinding("pedicle_screw", 0.9, middle.sop_instance_uid, (1, 2, 30, 40))
    findings = Findings(
        study_uid=study.uid,
        provider="cpu",
        models=(ModelUse("vertebra-detector", "1.0", "", "cpu"),),
        vertebrae=(vertebra, replace(vertebra, label="L5", review="confident", review_reasons=())),
        discs=(disc,),
        implants=(implant,),
    )
    proposals = proposals_from_findings(findings, stacks)
    by_label = {a.label: a for a in proposals}
    assert by_label["S1"].review == NEEDS_REVIEW and by_label["S1"].review_reasons == REASONS
    assert by_label["S1"].pending_review == NEEDS_REVIEW
    assert by_label["L5"].review == "confident" and by_label["L5"].pending_review == ""
    assert by_label["L4-L5"].review == UNCERTAIN and by_label["L4-L5"].state == "bulge"
    assert by_label["pedicle_screw"].review == "confident"
    assert all(a.status == Status.PROPOSED for a in proposals)
    assert AnnotationDocument(study.uid, annotations=proposals).to_dict()  # serialisable


def test_human_marks_need_no_review() -> None:
    a = Annotation.create(Kind.POINT, image(), [(1.0, 2.0)], None, label="L3")
    assert a.review == "" and "review" not in a.to_dict()
    assert AnnotationDocument(STUDY, annotations=[a])[a.uid].pending_review == ""
