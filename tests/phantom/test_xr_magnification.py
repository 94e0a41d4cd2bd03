"""Calibrated measurements on magnified spine radiographs (issue 22, items 3 and 11).

Real phantom files, magnified by a known SID / SOD: a vertebral body height measured where
the header tells the magnification (factor, distances, GEOMETRY or FIDUCIAL PixelSpacing) or
after a known-length calibration on the calibration sphere is within 1 % of the true height
and says ``mm (calibrated)``; without any of these it says ``mm (detector)`` (and is the
magnification too long). The SR and the report write the same values and labels; dciodvfy
finds no errors in the phantoms nor in the SR."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest

from spineviewer.ai.findings import Findings
from spineviewer.annotations.annotation import Annotation, ImageRef, Kind
from spineviewer.annotations.calibration import scale_of, scale_of_frame
from spineviewer.annotations.calibration_edits import calibrate
from spineviewer.annotations.commands import AddAnnotations, UndoStack
from spineviewer.annotations.document import AnnotationDocument
from spineviewer.annotations.frames import source_headers
from spineviewer.annotations.measure import length_mm
from spineviewer.annotations.sr import export_sr
from spineviewer.cli import main
from spineviewer.dicom import Frame, Stack, Study, scan
from spineviewer.phantom import StudyGroundTruth, load_ground_truth
from spineviewer.phantom.xr import XrGeometry, generate_magnified_xr, magnified_folder_name
from spineviewer.reports.study_report import build_report
from spineviewer.reports.writer import write_sr

SEED = 1
#: (tags, modality, magnification): every way of telling, CR and DX, drawn and given factors.
CASES = (
    ("detector", "CR", 1.2),
    ("detector", "DX", None),
    ("ermf", "DX", 1.2),
    ("ermf", "CR", None),
    ("distances", "CR", 1.15),
    ("distances", "DX", None),
    ("geometry", "DX", 1.25),
    ("geometry", "CR", None),
    ("fiducial", "CR", 1.1),
    ("fiducial", "DX", None),
)
DCIODVFY = shutil.which("dciodvfy")
DSRDUMP = shutil.which("dsrdump")
LENGTH_METHOD = "370129005"


@dataclass(frozen=True)
class Radiograph:
    geometry: XrGeometry
    path: Path
    truth: StudyGroundTruth
    study: Study

    @property
    def stack(self) -> Stack:
        [stack] = self.study.series[0].stacks
        return stack

    @property
    def frame(self) -> Frame:
        return self.stack.frames[0]

    def line(self, points: list[list[float]], uid: str | None = None) -> Annotation:
        """The reader's line between two truth points (image ``[row, col]``)."""
        extra = {"uid": uid} if uid else {}
        pts = [(float(r), float(c)) for r, c in points]
        return Annotation.create(Kind.LINE, ImageRef.of_frame(self.frame), pts, None, **extra)

    def heights(self) -> dict[str, dict]:
        return self.truth.parameters["body_heights"]


@pytest.fixture(scope="module")
def radiographs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Radiograph]:
    root = tmp_path_factory.mktemp("magnified")
    out = {}
    for tags, modality, factor in CASES:
        geometry = XrGeometry(tags, modality, factor)
        generate_magnified_xr(root, SEED, geometry)
        path = root / magnified_folder_name(SEED, geometry)
        [study] = scan(path).studies
        out[(tags, modality)] = Radiograph(geometry, path, load_ground_truth(path), study)
    return out


def test_the_phantom_tells_its_geometry(radiographs):
    for (tags, modality), r in radiographs.items():
        geometry = r.truth.parameters["xr_geometry"]
        ds = pydicom.dcmread(r.path / r.truth.series[0].images[0].file, stop_before_pixels=True)
        assert ds.Modality == modality == geometry["modality"]
        m = geometry["magnification"]
        if r.geometry.magnification is not None:
            assert m == r.geometry.magnification
        else:
            assert 1.08 <= m <= 1.30
        assert float(ds.ImagerPixelSpacing[0]) == pytest.approx(geometry["imager_pixel_spacing_mm"])
        assert ("EstimatedRadiographicMagnificationFactor" in ds) == (tags in ("ermf", "geometry"))
        assert ("DistanceSourceToPatient" in ds) == (tags in ("distances", "geometry"))
        calibrated = ds.get("PixelSpacingCalibrationType", "")
        assert calibrated == (tags.upper() if tags in ("geometry", "fiducial") else "")
        if calibrated:
            detector = float(ds.ImagerPixelSpacing[0])
            assert float(ds.PixelSpacing[0]) == pytest.approx(detector / m, rel=1e-5)
        assert r.stack.spacing_unit == geometry["spacing_unit"]
        # the anatomy is the default study's, in the patient: the same true heights
        assert r.heights()["L1"]["height_mm"] == pytest.approx(
            radiographs[("detector", "CR")].heights()["L1"]["height_mm"]
        )


def test_lengths_from_the_magnification_tags_are_true(radiographs):
    checked = 0
    for (tags, _), r in radiographs.items():
        if tags == "detector":
            continue
        scale = scale_of_frame(r.frame)
        for label, truth in r.heights().items():
            measured = length_mm(r.line(truth["line_px"]), scale)
            assert measured.label == "mm (calibrated)", (tags, label)
            assert measured.value == pytest.approx(truth["height_mm"], rel=0.01), (tags, label)
            checked += 1
    assert checked == 8 * 9


def test_without_calibration_lengths_are_detector_mm(radiographs):
    for modality in ("CR", "DX"):
        r = radiographs[("detector", modality)]
        m = r.truth.parameters["xr_geometry"]["magnification"]
        truth = r.heights()["L3"]
        measured = length_mm(r.line(truth["line_px"]), scale_of_frame(r.frame))
        assert measured.label == "mm (detector)"
        assert measured.value == pytest.approx(truth["height_mm"] * m, rel=1e-3)
        assert abs(measured.value / truth["height_mm"] - 1) > 0.05  # the error it warns of


def test_a_known_length_calibration_makes_lengths_true(radiographs, tmp_path: Path):
    for modality in ("CR", "DX"):
        r = radiographs[("detector", modality)]
        doc = AnnotationDocument(r.study.uid, author="reader")
        stack = UndoStack(doc)
        sphere = r.truth.parameters["calibration_sphere"]
        calibrate(stack, r.line(sphere["line_px"]), sphere["diameter_mm"])
        series = r.stack.series_uid
        scale = scale_of(series, r.frame.spacing_kind, doc.calibrations)
        for label, truth in r.heights().items():
            measured = length_mm(r.line(truth["line_px"]), scale)
            assert measured.label == "mm (calibrated)", label
            assert measured.value == pytest.approx(truth["height_mm"], rel=0.01), label
        stack.undo()
        assert length_mm(
            r.line(truth["line_px"]), scale_of_frame(r.frame, doc.calibrations)
        ).label == ("mm (detector)")


def _code(item: pydicom.Dataset) -> str:
    """A code item's value (long values, over 16 characters, are LongCodeValue)."""
    return str(item.get("CodeValue") or item.get("LongCodeValue") or "")


def _sr_lengths(path: Path) -> list[tuple[float, str, str]]:
    """(value, unit code, method code or "") of every numeric Length in an SR."""
    found = []

    def walk(items) -> None:
        for item in items:
            name = item.ConceptNameCodeSequence[0] if "ConceptNameCodeSequence" in item else None
            if item.ValueType == "NUM" and name is not None and name.CodeMeaning == "Length":
                value = item.MeasuredValueSequence[0]
                methods = [
                    _code(m.ConceptCodeSequence[0])
                    for m in item.get("ContentSequence", [])
                    if _code(m.ConceptNameCodeSequence[0]) == LENGTH_METHOD
                ]
                found.append(
                    (
                        float(value.NumericValue),
                        value.MeasurementUnitsCodeSequence[0].CodeValue,
                        methods[0] if methods else "",
                    )
                )
            walk(item.get("ContentSequence", []))

    walk(pydicom.dcmread(path).ContentSequence)
    return found


def _measured_document(r: Radiograph, labels: tuple[str, ...]) -> AnnotationDocument:
    doc = AnnotationDocument(r.study.uid, author="reader")
    marks = [r.line(r.heights()[lab]["line_px"], uid=f"height-{lab}") for lab in labels]
    UndoStack(doc).push(AddAnnotations(marks))
    return doc


@pytest.mark.parametrize(
    ("tags", "calibrated_by_tool", "method"),
    [
        ("detector", False, "SPV-SPACING-DETECTOR"),
        ("detector", True, "SPV-SPACING-CALIBRATED"),
        ("ermf", False, "SPV-SPACING-CALIBRATED"),
    ],
)
def test_the_sr_and_the_report_write_the_unit_label(
    radiographs, tmp_path: Path, tags, calibrated_by_tool, method
):
    r = radiographs[(tags, "CR")]
    doc = _measured_document(r, ("L2",))
    if calibrated_by_tool:
        sphere = r.truth.parameters["calibration_sphere"]
        calibrate(UndoStack(doc), r.line(sphere["line_px"]), sphere["diameter_mm"])
    true_mm = r.heights()["L2"]["height_mm"]
    m = r.truth.parameters["xr_geometry"]["magnification"]
    expected = true_mm * m if method == "SPV-SPACING-DETECTOR" else true_mm
    headers = source_headers([r.stack])
    path = export_sr(list(doc), headers, tmp_path / "sr.dcm", calibrations=doc.calibrations)
    [(value, unit, found)] = _sr_lengths(path)
    assert (unit, found) == ("mm", method)
    assert value == pytest.approx(expected, rel=0.01)
    # the study's report: its measurement row and its SR
    report = build_report(r.study, Findings(r.study.uid, "none"), doc)
    [row] = report.measurements
    label = "mm (detector)" if method == "SPV-SPACING-DETECTOR" else "mm (calibrated)"
    assert row.value.endswith(f" {label}")
    assert float(row.value.split()[0]) == pytest.approx(expected, rel=0.01)
    [(value, _, found)] = _sr_lengths(
        write_sr(r.study, Findings(r.study.uid, "none"), doc, tmp_path)
    )
    assert found == method and value == pytest.approx(expected, rel=0.01)
    if DSRDUMP is not None:
        dump = subprocess.run([DSRDUMP, str(path)], capture_output=True, text=True, timeout=60)
        assert label in dump.stdout


def test_a_plain_mr_length_has_no_method(tmp_path: Path):
    """Patient millimetres (a CT or MR, PixelSpacing alone) are written as before."""
    from spineviewer.annotations.sr import _measurements

    image = ImageRef("1.2", "1.2.3", "1.2.3.4", "1.2.840.10008.5.1.4.1.1.4", pixel_spacing=(1, 1))
    [length] = _measurements(Annotation.create(Kind.LINE, image, [(0, 0), (3, 4)], None))
    assert length.value == 5 and length.method is None


@pytest.mark.tools
@pytest.mark.skipif(DCIODVFY is None, reason="dciodvfy (Debian package dicom3tools) not on PATH")
def test_dciodvfy_finds_no_errors(radiographs, tmp_path: Path):
    files = [r.path / r.truth.series[0].images[0].file for r in radiographs.values()]
    r = radiographs[("detector", "DX")]
    doc = _measured_document(r, ("L1", "L4"))
    sphere = r.truth.parameters["calibration_sphere"]
    calibrate(UndoStack(doc), r.line(sphere["line_px"]), sphere["diameter_mm"])
    files.append(
        export_sr(
            list(doc), source_headers([r.stack]), tmp_path / "sr.dcm", calibrations=doc.calibrations
        )
    )
    for path in files:
        result = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True, timeout=60)
        lines = (result.stdout + result.stderr).splitlines()
        assert lines and not lines[0].startswith("Abort"), lines
        assert [line for line in lines if line.startswith("Error")] == [], path


def test_the_command_line_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert (
        main(["phantom", str(tmp_path), "--kind", "spine-xr", "--xr-geometry", "fiducial:dx:1.2"])
        == 0
    )
    folder = tmp_path / "spine-xr-00000-fiducial-dx-x1.2"
    truth = load_ground_truth(folder)
    assert truth.parameters["xr_geometry"]["magnification"] == 1.2
    assert "mm (calibrated)" in capsys.readouterr().out
    assert main(["phantom", str(tmp_path), "--kind", "lumbar-ct", "--xr-geometry", "ermf"]) == 2
    assert main(["phantom", str(tmp_path), "--kind", "spine-xr", "--xr-geometry", "ermf:PET"]) == 2
    with pytest.raises(ValueError, match="magnification"):
        XrGeometry("ermf", "CR", 0.5)
