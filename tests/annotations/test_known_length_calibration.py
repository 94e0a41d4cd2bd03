"""A series calibrated on a known length (issue 22, item 3): the factor, the scale every
measurement takes, the undo stack, the saved document (schema, merge) and the unit labels."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
from store_helpers import STUDY, image

from spineviewer.annotations.annotation import Annotation, Kind
from spineviewer.annotations.calibration import (
    Calibration,
    scale_of,
)
from spineviewer.annotations.calibration_edits import (
    SetCalibration,
    calibrate,
    remove_calibration,
)
from spineviewer.annotations.commands import AddAnnotations, UndoStack
from spineviewer.annotations.document import AnnotationDocument
from spineviewer.annotations.errors import AnnotationFileError
from spineviewer.annotations.measure import (
    Measurement,
    Scale,
    area_mm2,
    cobb_deg,
    length_mm,
    measurements,
)
from spineviewer.annotations.store import Workspace
from spineviewer.dicom.spacing import SpacingKind
from spineviewer.resources import resource_path

SERIES = image().series_uid


def _line(points=((0.0, 0.0), (30.0, 40.0)), spacing=(0.5, 0.5), uid=None) -> Annotation:
    ref = replace(image(), pixel_spacing=spacing)
    extra = {"uid": uid} if uid else {}
    return Annotation.create(Kind.LINE, ref, points, None, **extra)


def _schema_errors(data: object) -> list[str]:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(resource_path("schemas", "annotations-v1.schema.json").read_text("utf-8"))
    return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(data)]


def test_the_factor_makes_the_line_its_known_length():
    line = _line()  # 50 px = 25 mm by the spacing
    calibration = Calibration.from_line(line, 20.0, author="reader")
    assert calibration.measured_length == pytest.approx(25.0)
    assert calibration.measured_unit == "mm"
    assert calibration.factor == pytest.approx(0.8)
    scale = calibration.scale
    assert length_mm(line, scale) == Measurement(
        "length", pytest.approx(20.0), "mm", SpacingKind.CALIBRATED
    )
    assert length_mm(line, scale).label == "mm (calibrated)"
    assert "factor 0.800" in calibration.describe()


def test_areas_take_the_square_and_angles_do_not_change():
    scale = Scale(SpacingKind.CALIBRATED, 0.8)
    box = Annotation.create(Kind.RECTANGLE, image(), [(0.0, 0.0), (10.0, 20.0)], None)
    assert area_mm2(box) == pytest.approx(50.0)
    assert area_mm2(box, scale) == pytest.approx(50.0 * 0.64)
    [area] = measurements(box, scale=scale)
    assert area.label == "mm2 (calibrated)"
    cobb = Annotation.create(
        Kind.COBB, image(), [(0.0, 0.0), (0.0, 10.0), (0.0, 0.0), (10.0, 10.0)], None
    )
    assert cobb_deg(cobb) == pytest.approx(45.0)
    [angle] = measurements(cobb, scale=scale)
    assert angle.value == pytest.approx(45.0) and angle.label == "deg"


def test_a_line_on_an_image_without_spacing_calibrates_pixels_to_mm():
    line = _line(spacing=None)
    assert length_mm(line).unit == "px"
    calibration = Calibration.from_line(line, 100.0)
    assert (calibration.measured_unit, calibration.factor) == ("px", pytest.approx(2.0))
    other = _line(points=((0.0, 0.0), (0.0, 10.0)), spacing=None)
    assert length_mm(other, calibration.scale) == Measurement(
        "length", pytest.approx(20.0), "mm", SpacingKind.CALIBRATED
    )


def test_detector_and_patient_scales_label_without_changing_values():
    line = _line()
    detector = length_mm(line, Scale(SpacingKind.DETECTOR))
    assert detector.value == pytest.approx(25.0) and detector.label == "mm (detector)"
    assert length_mm(line).label == "mm"
    assert length_mm(_line(spacing=None), Scale(SpacingKind.DETECTOR)).label == "px"


def test_scale_of_prefers_the_series_calibration():
    calibration = Calibration.from_line(_line(), 20.0)
    assert scale_of(SERIES, SpacingKind.DETECTOR) == Scale(SpacingKind.DETECTOR)
    assert scale_of(SERIES, SpacingKind.DETECTOR, {SERIES: calibration}) == calibration.scale
    assert scale_of("other", SpacingKind.PATIENT, {SERIES: calibration}) == Scale()


@pytest.mark.parametrize(
    ("known", "points", "kind"),
    [
        (0.0, ((0.0, 0.0), (1.0, 1.0)), Kind.LINE),
        (-5.0, ((0.0, 0.0), (1.0, 1.0)), Kind.LINE),
        (math.nan, ((0.0, 0.0), (1.0, 1.0)), Kind.LINE),
        (10.0, ((3.0, 3.0), (3.0, 3.0)), Kind.LINE),
        (10.0, ((0.0, 0.0), (1.0, 1.0)), Kind.ARROW),
    ],
)
def test_bad_calibrations_are_refused(known, points, kind):
    shape = Annotation.create(kind, image(), points, None)
    with pytest.raises(ValueError):
        Calibration.from_line(shape, known)


def test_calibrate_is_one_undoable_step():
    doc = AnnotationDocument(STUDY, author="reader")
    stack = UndoStack(doc)
    measured = _line(uid="measured")
    stack.push(AddAnnotations([measured]))
    heard: list[tuple[str, bool]] = []
    stack.subscribe(lambda command, done: heard.append((command.text, done)))
    first = calibrate(stack, _line(), 20.0)
    assert doc.calibrations == {SERIES: first} and first.author == "reader"
    assert heard == [("Calibrate series", True)]
    second = calibrate(stack, _line(), 30.0)
    assert doc.calibrations[SERIES] is second
    stack.undo()
    assert doc.calibrations[SERIES] is first
    stack.undo()
    assert doc.calibrations == {}
    stack.redo()
    assert doc.calibrations[SERIES] is first
    assert remove_calibration(stack, SERIES) and doc.calibrations == {}
    assert not remove_calibration(stack, SERIES)
    stack.undo()
    assert doc.calibrations[SERIES] is first
    # the command names the series' annotations (their lengths changed): a viewer repaints them
    command = SetCalibration(SERIES, first, second, frozenset({"measured"}))
    assert command.uids == {"measured"} and not command.is_empty
    assert SetCalibration(SERIES, first, first).is_empty
    with pytest.raises(ValueError, match="meanwhile"):
        SetCalibration(SERIES, second, None).redo(doc)
    with pytest.raises(ValueError, match=r"is on study 9\.9"):
        calibrate(
            stack, Annotation.create(Kind.LINE, image(study="9.9"), [(0, 0), (1, 1)], None), 5
        )


def test_the_document_saves_and_reads_its_calibrations(tmp_path: Path):
    doc = AnnotationDocument(STUDY, author="reader", annotations=[_line(uid="m")])
    data = doc.to_dict()
    assert "calibrations" not in data  # an uncalibrated study's file is as before
    calibrate(UndoStack(doc), _line(), 20.0)
    data = json.loads(doc.to_json())
    assert _schema_errors(data) == []
    [saved] = data["calibrations"]
    assert saved["factor"] == pytest.approx(0.8) and saved["series_uid"] == SERIES
    again = AnnotationDocument.from_json(doc.to_json())
    assert again == doc and again.calibrations == doc.calibrations
    with Workspace(tmp_path / "ws") as ws:
        ws.commit(doc)
        loaded = ws.load(STUDY)
        assert loaded is not None and loaded.document.calibrations == doc.calibrations
    data["calibrations"][0]["known_length_mm"] = -1
    with pytest.raises(AnnotationFileError, match="calibration 1"):
        AnnotationDocument.from_dict(data)
    data["calibrations"] = {"not": "a list"}
    with pytest.raises(AnnotationFileError, match="calibrations"):
        AnnotationDocument.from_dict(data)


def test_another_writers_calibration_is_merged(tmp_path: Path):
    with Workspace(tmp_path / "ws") as viewer_ws, Workspace(tmp_path / "ws") as other_ws:
        doc = AnnotationDocument(STUDY, author="reader")
        viewer_ws.commit(doc)
        theirs = other_ws.load(STUDY)
        assert theirs is not None
        calibrate(UndoStack(theirs.document), _line(), 20.0)
        other_ws.commit(theirs.document)
        doc.add(_line(uid="mine"))
        result = viewer_ws.commit(doc)
        assert result.merged
        assert doc.calibrations[SERIES].known_length_mm == 20.0 and "mine" in doc
