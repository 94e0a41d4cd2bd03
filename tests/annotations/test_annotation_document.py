"""AnnotationDocument: the ordered mapping, queries, and the versioned JSON file format."""

from __future__ import annotations

import json
import pickle

import pytest
from store_helpers import MR_IMAGE, STUDY, every_kind_document, image, mark, schema_errors

from spineviewer.annotations.annotation import Annotation, Kind, Status
from spineviewer.annotations.document import (
    FORMAT,
    SCHEMA_VERSION,
    AnnotationDocument,
    ReviewStatus,
)
from spineviewer.annotations.errors import AnnotationFileError
from spineviewer.resources import resource_path


def _schema() -> dict:
    return json.loads(resource_path("schemas", "annotations-v1.schema.json").read_text("utf-8"))


def _check_schema(data: object) -> list[str]:
    """Errors of ``data`` against the shipped schema: jsonschema when installed, else ours."""
    try:
        import jsonschema
    except ImportError:
        return schema_errors(_schema(), data)
    validator = jsonschema.Draft202012Validator(_schema())
    return [e.message for e in validator.iter_errors(data)]


# -- the mapping ---------------------------------------------------------------------------------


def test_add_remove_replace_keep_order() -> None:
    doc = AnnotationDocument(STUDY)
    a, b, c = (mark(uid=u) for u in "abc")
    doc.add(a)
    doc.add(c)
    doc.add(b, position=1)
    assert doc.uids() == ("a", "b", "c")
    assert [x.uid for x in doc] == ["a", "b", "c"]
    assert len(doc) == 3 and "b" in doc and doc.get("zz") is None
    moved = b.moved(1.0, 2.0, None)
    assert doc.replace(moved) is b
    assert doc["b"] is moved and doc.index_of("b") == 1
    assert doc.remove("a") is a
    assert doc.uids() == ("b", "c")
    with pytest.raises(KeyError):
        doc.remove("a")
    with pytest.raises(KeyError):
        doc.replace(a)


def test_add_refuses_duplicates_and_other_studies() -> None:
    doc = AnnotationDocument(STUDY, annotations=[mark(uid="a")])
    with pytest.raises(ValueError, match="already"):
        doc.add(mark(uid="a"))
    other = Annotation.create(Kind.POINT, image(study="9.9"), [(1.0, 1.0)], None)
    with pytest.raises(ValueError, match="study"):
        doc.add(other)
    with pytest.raises(ValueError):
        AnnotationDocument("")


def test_queries() -> None:
    doc = every_kind_document()
    on_mr = doc.on_image(MR_IMAGE)
    assert len(on_mr) == len(Kind) + 2
    assert [a.uid for a in doc.on_image("1.2.3.4.5", 7)] == ["xr"]
    assert doc.on_image("1.2.3.4.5", 1) == ()
    assert [a.uid for a in doc.proposed()] == ["proposal-1"]
    counts = doc.counts()
    assert counts == {
        Status.PROPOSED: 1,
        Status.ACCEPTED: len(Kind) + 1,
        Status.REJECTED: 1,
        Status.EDITED: 0,
    }
    # The per-image cache follows edits.
    doc.remove(on_mr[0].uid)
    assert len(doc.on_image(MR_IMAGE)) == len(Kind) + 1


# -- JSON ----------------------------------------------------------------------------------------


def test_json_round_trip_is_exact(tmp_path) -> None:
    doc = every_kind_document()
    doc.review_status = ReviewStatus.IN_PROGRESS
    doc.modified = "2026-01-02T03:04:05+00:00"
    path = tmp_path / "annotations.json"
    path.write_text(doc.to_json(), encoding="utf-8")
    back = AnnotationDocument.from_json(path.read_bytes(), str(path))
    assert back == doc
    assert back.patient_name is None and back.patient_id == "PHANTOM-1"
    assert back.author == "dr. ürsula"
    assert back.schema_version == SCHEMA_VERSION
    for a in doc:
        b = back[a.uid]
        assert b.points == a.points  # exact, not just to 0.01 mm
        assert b.points_mm == a.points_mm
    proposal = back["proposal-1"]
    assert proposal.provenance.score == 0.8734519
    assert proposal.provenance.is_model and proposal.status == Status.PROPOSED
    assert back["note"].text == "Schmorl node?\nsecond line"
    assert back["xr"].points_mm is None and back["xr"].image.frame_number == 7
    assert {a.kind for a in back} == set(Kind)


def test_json_layout_and_schema() -> None:
    text = every_kind_document().to_json()
    data = json.loads(text)
    assert data["format"] == FORMAT and data["schema_version"] == 1
    assert text.endswith("}\n")
    # One annotation per line: readable diffs.
    assert sum(1 for line in text.splitlines() if line.startswith('  {"uid"')) == len(
        data["annotations"]
    )
    assert _check_schema(data) == []
    empty = json.loads(AnnotationDocument(STUDY).to_json())
    assert empty["annotations"] == [] and _check_schema(empty) == []
    saved = every_kind_document()
    saved.mark_saved(3)  # a saved file carries its generation: the schema allows it
    written = json.loads(saved.to_json())
    assert written["generation"] == 3 and _check_schema(written) == []


def test_schema_catches_bad_documents() -> None:
    """The schema (and the checker) are not vacuous."""
    data = json.loads(every_kind_document().to_json())
    data["annotations"][0]["kind"] = "blob"
    data["annotations"][1]["points"] = [[1.0, 2.0]]  # an ellipse needs two
    data["study"]["extra"] = 1
    data["review_status"] = "finished"
    errors = _check_schema(data)
    assert len(errors) >= 4, errors


def test_unknown_keys_are_ignored() -> None:
    """A later minor revision may add keys; this version reads the rest."""
    text = every_kind_document().to_json()
    data = json.loads(text)
    data["viewer_state"] = {"zoom": 2}
    data["study"]["institution"] = "x"
    data["annotations"][0]["colour"] = "#fff"
    extended = AnnotationDocument.from_json(json.dumps(data), "extra.json")
    assert extended == AnnotationDocument.from_json(text)


def _bad(text: str, match: str) -> None:
    with pytest.raises(AnnotationFileError, match=match) as info:
        AnnotationDocument.from_json(text, "/work/x/annotations.json")
    assert str(info.value).startswith("/work/x/annotations.json: ")
    assert info.value.source_name == "/work/x/annotations.json"
    assert isinstance(info.value, ValueError)


def _mutated(change) -> str:
    data = json.loads(every_kind_document().to_json())
    change(data)
    return json.dumps(data)


def test_truncated_and_non_json_files() -> None:
    text = every_kind_document().to_json()
    for cut in (0, 1, 50, len(text) // 2, len(text) - 3):
        _bad(text[:cut], "not valid JSON")
    _bad("\x00\x01garbage", "not valid JSON")
    with pytest.raises(AnnotationFileError, match="UTF-8"):
        AnnotationDocument.from_json(b"\xff\xfe{", "f.json")
    _bad('{"x": NaN}', "NaN")


def test_newer_version_is_refused() -> None:
    _bad(_mutated(lambda d: d.update(schema_version=2)), "newer SpineViewer.*version 2")
    _bad(_mutated(lambda d: d.update(schema_version="1")), "schema_version")
    _bad(_mutated(lambda d: d.update(schema_version=True)), "schema_version")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.update(format="other"), "not a SpineViewer annotation file"),
        (lambda d: d.pop("study"), "study"),
        (lambda d: d.update(annotations={}), "annotations"),
        (lambda d: d["study"].pop("study_uid"), "study_uid"),
        (lambda d: d.update(review_status="finished"), "finished"),
        (lambda d: d["annotations"][2].pop("kind"), r"annotation 3 \(human-polygon\).*kind"),
        (lambda d: d["annotations"][0].update(kind="blob"), "annotation 1.*blob"),
        (lambda d: d["annotations"][3].update(points=[[1, 2]]), "annotation 4.*3 points"),
        (lambda d: d["annotations"][0].update(points="ab"), "annotation 1"),
        (lambda d: d["annotations"][0].update(image=[]), "annotation 1"),
        (lambda d: d["annotations"].append(d["annotations"][0]), "already"),
        (lambda d: d["annotations"].append(3), "not a JSON object"),
        (lambda d: d["annotations"][0]["image"].update(study_uid="9.9"), "study"),
    ],
)
def test_malformed_documents(change, match) -> None:
    _bad(_mutated(change), match)


def test_top_level_not_an_object() -> None:
    _bad("[]", "not a SpineViewer annotation file")


def test_error_pickles() -> None:
    err = AnnotationFileError("a.json", "broken")
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == "a.json: broken" and back.problem == "broken"
