"""PHI canaries through ``spineviewer report --anonymize`` (issue 20, item 6).

Distinctive strings are planted in the images' identifying attributes (patient name and ID,
operator, referring physician, institution, accession, study and series descriptions), in
the annotation document (its author, equal to the OperatorsName, and its patient) and in the
annotations (their author, a note, a Cobb angle's text, labels that are no vocabulary term).
The anonymised report set (JSON, HTML, PDF, key images, DICOM SR, Encapsulated PDF) must hold
none of them in any byte, in the PDFs' text (pdftotext), in the SR as dcmdump reads it, nor
in a file name. The same run without ``--anonymize`` shows them: the canaries do reach the
outputs, so their absence means something.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest

from spineviewer.ai.analysis import analyse_path
from spineviewer.annotations import (
    Annotation,
    AnnotationDocument,
    ImageRef,
    Kind,
    Provenance,
    Status,
    Workspace,
)
from spineviewer.annotations.proposals import proposals_from_findings
from spineviewer.cli import main
from spineviewer.dicom import scan

#: The reader, also the images' operator (as the issue found it).
AUTHOR = "QZXREADER"
NOTE = "QZXNOTE ring Mr Smith"
COBB_NOTE = "QZXCOBBTEXT"
LEVEL_LABEL = "QZXLEVELTAG"
MEASURE_LABEL = "QZXMEASURETAG"
#: Planted in the images' headers (keyword: value).
HEADER_CANARIES = {
    "PatientName": "QZXFAMILY^QZXGIVEN",
    "PatientID": "QZXPID4711",
    "OperatorsName": AUTHOR,
    "ReferringPhysicianName": "QZXREFERRER",
    "InstitutionName": "QZXINSTITUTE",
    "AccessionNumber": "QZXACC0815",
    "StudyDescription": "QZXSTUDYDESC",
    "PerformingPhysicianName": "QZXPERFORMER",
}
CANARIES = (
    "QZXFAMILY",
    "QZXGIVEN",
    "QZXPID4711",
    AUTHOR,
    "QZXREFERRER",
    "QZXINSTITUTE",
    "QZXACC0815",
    "QZXSTUDYDESC",
    "QZXPERFORMER",
    "QZXSERIESDESC",
    "QZXNOTE",
    COBB_NOTE,
    LEVEL_LABEL,
    MEASURE_LABEL,
)
ALL_FORMATS = "json,html,pdf,sr,epdf"
#: What anonymised free text reads (the issue's wording; ``deidentify.REMOVED``).
REMOVED = "[removed]"


@pytest.fixture(scope="module")
def canary_study(demo_study_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo lumbar MR with the header canaries planted in every file."""
    folder = tmp_path_factory.mktemp("canary") / "study"
    shutil.copytree(demo_study_dir, folder)
    for path in sorted(folder.rglob("*.dcm")):
        ds = pydicom.dcmread(path)
        for keyword, value in HEADER_CANARIES.items():
            setattr(ds, keyword, value)
        ds.SeriesDescription = f"{str(ds.get('SeriesDescription', ''))[:40]} QZXSERIESDESC"
        ds.save_as(path, enforce_file_format=True)
    return folder


@pytest.fixture(scope="module")
def canary_document(canary_study: Path) -> AnnotationDocument:
    """The canary document: the AI's proposals reviewed by AUTHOR, one disc renamed to a
    free-text label with a note, a measurement with a free-text label, an arrow with a
    note and a Cobb angle with text."""
    study_dir = canary_study
    study = scan(study_dir).studies[0]
    (findings,) = analyse_path(study_dir, provider="cpu")
    stacks = [st for series in study.series for st in series.stacks]
    proposals = [
        replace(p, status=Status.ACCEPTED) for p in proposals_from_findings(findings, stacks)
    ]
    disc = next(i for i, p in enumerate(proposals) if p.kind == Kind.ELLIPSE)
    proposals[disc] = proposals[disc].relabelled(LEVEL_LABEL, proposals[disc].state).with_text(NOTE)
    sagittal = next(st for st in stacks if st.plane == "sagittal")
    middle = len(sagittal) // 2
    image, plane = ImageRef.of_frame(sagittal.frames[middle]), sagittal.plane_of(middle)
    by_reader = Provenance(author=AUTHOR)
    marks = [
        Annotation.create("line", image, [(10, 10), (10, 110)], plane, label=MEASURE_LABEL,
                          text=NOTE, provenance=by_reader),
        Annotation.create("arrow", image, [(40, 40), (60, 60)], plane, text=NOTE,
                          provenance=by_reader),
        Annotation.create("cobb", image, [(20, 20), (20, 80), (90, 25), (95, 85)], plane,
                          text=COBB_NOTE, provenance=by_reader),
    ]  # fmt: skip
    return AnnotationDocument(
        study.uid,
        patient_id=HEADER_CANARIES["PatientID"],
        patient_name=HEADER_CANARIES["PatientName"],
        study_description="QZXSTUDYDESC",
        source_paths=[study_dir],
        author=AUTHOR,
        annotations=[*proposals, *marks],
    )


def _texts(out: Path) -> dict[str, bytes]:
    """Every output as bytes (by relative path), plus the PDFs' text and the DICOM files as
    dcmdump prints them (and the text of an Encapsulated PDF)."""
    texts: dict[str, bytes] = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        name = path.relative_to(out).as_posix()
        texts[name] = path.read_bytes()
        texts[f"{name} (file name)"] = name.encode()
        pdf = path
        if path.suffix == ".dcm":
            ds = pydicom.dcmread(path)
            dump = subprocess.run(["dcmdump", str(path)], capture_output=True)
            texts[f"{name} (dcmdump)"] = dump.stdout + dump.stderr
            if "EncapsulatedDocument" not in ds:
                continue
            pdf = path.with_name(f".{path.name}.pdf")
            pdf.write_bytes(ds.EncapsulatedDocument)
        if pdf.suffix == ".pdf":
            text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True)
            assert text.returncode == 0, text.stderr
            texts[f"{name} (pdftotext)"] = text.stdout
        if pdf != path:
            pdf.unlink()
    return texts


def _leaks(texts: dict[str, bytes]) -> list[tuple[str, str]]:
    return [
        (name, canary)
        for name, data in texts.items()
        for canary in CANARIES
        if canary.lower().encode() in data.lower()
    ]


needs_tools = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("dcmdump") is None,
    reason="pdftotext (poppler-utils) or dcmdump (dcmtk) is not installed: the PDF text and "
    "the SR as a DICOM reader shows it cannot be checked",
)


@needs_tools
def test_no_canary_in_any_anonymised_output(
    canary_study: Path, canary_document: AnnotationDocument, tmp_path: Path
) -> None:
    with Workspace() as workspace:
        workspace.save(canary_document)

    plain = tmp_path / "plain"
    assert main(["report", str(canary_study), "--out", str(plain), "--format", ALL_FORMATS,
                 "--provider", "cpu"]) == 0  # fmt: skip
    shown = {canary for _, canary in _leaks(_texts(plain))}
    # the canaries reach the outputs that are not anonymised (so their absence below counts)
    assert {"QZXFAMILY", "QZXPID4711", AUTHOR, "QZXNOTE", LEVEL_LABEL, MEASURE_LABEL} <= shown

    out = tmp_path / "anonymised"
    assert main(["report", str(canary_study), "--out", str(out), "--format", ALL_FORMATS,
                 "--anonymize", "--provider", "cpu"]) == 0  # fmt: skip
    texts = _texts(out)
    assert {"study-001/report.pdf", "study-001/report_sr.dcm", "study-001/report_pdf.dcm",
            "study-001/images/sagittal.png"} <= set(texts)  # fmt: skip
    assert _leaks(texts) == []

    data = json.loads(texts["study-001/report.json"])
    assert data["anonymised"] is True and data["reviewer"] == ""
    assert REMOVED in {row["level"] for row in data["levels"]}
    assert [m["label"] for m in data["measurements"]] == [REMOVED, ""]  # the line, the Cobb
    assert f"by {AUTHOR}" not in texts["study-001/report.html"].decode()
    sr = pydicom.dcmread(out / "study-001" / "report_sr.dcm")
    comments = [
        str(item.TextValue)
        for group in sr.ContentSequence
        for sub in group.get("ContentSequence", [])
        for item in sub.get("ContentSequence", [])
        if item.ValueType == "TEXT" and item.ConceptNameCodeSequence[0].CodeMeaning == "Comment"
    ]
    assert comments and set(comments) == {REMOVED}
    assert not list(out.rglob("*.partial"))


@needs_tools
def test_keep_annotation_text_keeps_notes_but_never_the_reader(
    canary_study: Path, canary_document: AnnotationDocument, tmp_path: Path
) -> None:
    with Workspace() as workspace:
        workspace.save(canary_document)
    out = tmp_path / "kept"
    assert main(["report", str(canary_study), "--out", str(out), "--format", "json,html,sr",
                 "--anonymize", "--keep-annotation-text", "--provider", "cpu"]) == 0  # fmt: skip
    leaked = {canary for _, canary in _leaks(_texts(out))}
    assert leaked == {
        "QZXNOTE",
        COBB_NOTE,
        LEVEL_LABEL,
        MEASURE_LABEL,
    }  # the user's choice, nothing else
    data = json.loads((out / "study-001" / "report.json").read_text())
    assert data["reviewer"] == "" and [m["label"] for m in data["measurements"]] == [
        MEASURE_LABEL,
        "",
    ]
    assert NOTE.encode() in (out / "study-001" / "report_sr.dcm").read_bytes()


@needs_tools
@pytest.mark.parametrize("keep", [False, True])
def test_batch_anonymised_outputs_hold_no_canary(
    canary_study: Path, canary_document: AnnotationDocument, tmp_path: Path, keep: bool
) -> None:
    """``batch --anonymize`` writes through the same de-identified copy; the summary, the log
    files and skipped.csv included. ``--keep-annotation-text`` keeps the text, never names."""
    with Workspace() as workspace:
        workspace.save(canary_document)
    out = tmp_path / "batch"
    args = ["batch", str(canary_study), "--out", str(out), "--format", "json,html,sr",
            "--anonymize", "--provider", "cpu"]  # fmt: skip
    assert main([*args, *(["--keep-annotation-text"] if keep else [])]) == 0
    leaked = {canary for _, canary in _leaks(_texts(out))}
    assert leaked == ({"QZXNOTE", COBB_NOTE, LEVEL_LABEL, MEASURE_LABEL} if keep else set())


def test_key_images_of_an_anonymised_report_draw_no_canary(
    canary_study: Path, canary_document: AnnotationDocument, tmp_path: Path, monkeypatch
) -> None:
    """Key images are pixels (a byte search cannot read burned-in text): the marks handed to
    the renderer must carry no canary."""
    import spineviewer.reports.images as images
    from spineviewer.dicom.anonymise import Anonymiser
    from spineviewer.reports import build_report
    from spineviewer.reports.writer import with_key_images

    drawn: list[Annotation] = []
    render = images.render_key_images

    def recording(study, findings, annotations, out_dir):  # type: ignore[no-untyped-def]
        drawn.extend(annotations)
        return render(study, findings, annotations, out_dir)

    monkeypatch.setattr(images, "render_key_images", recording)
    study = scan(canary_study).studies[0]
    (findings,) = analyse_path(canary_study, provider="cpu")
    anonymiser = Anonymiser(bytes(range(32))).for_patient(HEADER_CANARIES["PatientID"])
    report = build_report(study, findings, canary_document, anonymiser=anonymiser)
    report = with_key_images(report, study, findings, canary_document, tmp_path)
    assert report.key_images and len(drawn) == len(canary_document)
    shown = " ".join(f"{a.label} {a.text} {a.state} {a.provenance.author}" for a in drawn)
    assert REMOVED in shown and not [c for c in CANARIES if c in shown]
