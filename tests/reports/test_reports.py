"""Reports of one study: the report model joins the findings with the reviewed annotations;
JSON, HTML (escaped) and a real PDF (read back with poppler); ``spineviewer report`` and
``--anonymize``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest

from spineviewer.ai.analysis import analyse_path
from spineviewer.annotations import (
    Annotation,
    AnnotationDocument,
    ImageRef,
    Provenance,
    Status,
    Workspace,
)
from spineviewer.annotations.proposals import proposals_from_findings
from spineviewer.cli import main
from spineviewer.dicom import scan
from spineviewer.dicom.anonymise import Anonymiser, folder_key
from spineviewer.reports import NOT_FOR_CLINICAL_USE, build_report
from spineviewer.reports.html import render_html
from spineviewer.reports.writer import write_report


@pytest.fixture(scope="module")
def analysed(demo_study_dir: Path):
    study = scan(demo_study_dir).studies[0]
    (findings,) = analyse_path(demo_study_dir, provider="cpu")
    return study, findings


def test_without_review_every_finding_is_proposed(analysed) -> None:
    study, findings = analysed
    report = build_report(study, findings, institution="Demo Hospital")
    assert [r.level for r in report.levels] == [d.level for d in findings.discs]
    assert all(r.review == "proposed" for r in report.levels)
    assert [r.state for r in report.levels] == [d.state for d in findings.discs]
    assert report.patient["id"] == study.info["PatientID"]
    assert report.not_for_clinical_use and report.to_dict()["notice"] == NOT_FOR_CLINICAL_USE
    assert {m["id"] for m in report.models} >= {"disc-state", "vertebrae-sagittal"}
    assert any("sagittal" in t for t in report.technique)


def test_reviewed_proposals_and_manual_measurements_are_reported(analysed) -> None:
    study, findings = analysed
    stacks = [st for series in study.series for st in series.stacks]
    proposals = proposals_from_findings(findings, stacks)
    discs = [p for p in proposals if p.kind.value == "ellipse"]
    first, second, third = discs[0], discs[1], discs[2]
    other = next(s for s in ("normal", "bulge", "herniation") if s != second.state)
    reviewed = [
        replace(first, status=Status.ACCEPTED),
        replace(second, status=Status.EDITED, state=other),
        replace(third, status=Status.REJECTED),
        *[p for p in proposals if p not in (first, second, third)],
    ]
    sagittal = next(st for st in stacks if st.plane == "sagittal")
    frame = sagittal.frames[len(sagittal) // 2]
    plane = sagittal.plane_of(len(sagittal) // 2)
    line = Annotation.create(
        "line",
        ImageRef.of_frame(frame),
        [(10, 10), (10, 110)],
        plane,
        provenance=Provenance(author="reader"),
    )
    doc = AnnotationDocument(study.uid, author="reader", annotations=[*reviewed, line])
    report = build_report(study, findings, doc)
    rows = {r.level: r for r in report.levels}
    assert rows[first.label].review == "accepted"
    assert (rows[second.label].review, rows[second.label].state) == ("edited", other)
    assert rows[second.label].model_state == second.state
    assert rows[third.label].review == "rejected"
    assert [m.kind for m in report.measurements] == ["line"]
    assert report.measurements[0].value.endswith("mm")
    assert report.reviewer == "reader"
    html = render_html(report)
    assert f"(model: {second.state})" in html and 'class="rejected"' in html


def test_html_escapes_what_it_shows(analysed) -> None:
    study, findings = analysed
    report = build_report(study, findings, institution="<script>alert(1)</script>")
    html = render_html(report)
    assert "<script>" not in html and "&lt;script&gt;" in html


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdf_is_a_real_a4_document_with_the_notice(analysed, tmp_path: Path) -> None:
    study, findings = analysed
    report = build_report(study, findings, institution="Demo Hospital")
    paths = write_report(report, tmp_path, ["json", "html", "pdf"])
    assert [p.name for p in paths] == ["report.json", "report.html", "report.pdf"]
    assert not list(tmp_path.glob(".*partial"))
    info = subprocess.run(["pdfinfo", str(tmp_path / "report.pdf")], capture_output=True, text=True)
    assert "(A4)" in info.stdout and re.search(r"Pages:\s+1\n", info.stdout)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "report.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert "NOT FOR CLINICAL USE" in text and "Demo Hospital" in text
    for row in report.levels:
        assert row.level in text
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["levels"][0]["level"] == report.levels[0].level
    with pytest.raises(ValueError, match="unknown report format"):
        write_report(report, tmp_path, ["docx"])


def test_report_command_and_anonymize(demo_study_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["report", str(demo_study_dir), "--out", str(out), "--format", "json,html",
                 "--anonymize", "--provider", "cpu"]) == 0  # fmt: skip
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert [f for f in files if not f.startswith("study-001/images/")] == [
        ".anonymisation-key",
        "study-001/report.html",
        "study-001/report.json",
    ]
    assert "study-001/images/sagittal.png" in files
    study = scan(demo_study_dir).studies[0]
    sops = {f.instance.sop_instance_uid for st in scan(demo_study_dir).stacks() for f in st.frames}
    for path in out.rglob("report.*"):
        assert not any(uid in path.read_text() for uid in sops), path.name
        text = path.read_text()
        for secret in (study.info["PatientName"], study.info["PatientID"], study.uid):
            assert secret not in text, (path.name, secret)
    data = json.loads((out / "study-001" / "report.json").read_text())
    assert data["anonymised"] is True and data["levels"]
    assert main(["report", str(tmp_path / "missing"), "--out", str(out)]) == 1
    assert "no such file" in capsys.readouterr().err


def test_report_uses_the_workspace_review(demo_study_dir: Path, tmp_path: Path, analysed) -> None:
    study, findings = analysed
    stacks = [st for series in study.series for st in series.stacks]
    proposals = proposals_from_findings(findings, stacks)
    accepted = [replace(p, status=Status.ACCEPTED) for p in proposals]
    with Workspace() as workspace:
        workspace.save(AnnotationDocument(study.uid, author="reader", annotations=accepted))
    out = tmp_path / "out"
    assert main(["report", str(demo_study_dir), "--out", str(out), "--format", "json",
                 "--provider", "cpu"]) == 0  # fmt: skip
    data = json.loads((out / study.uid / "report.json").read_text())
    assert {row["review"] for row in data["levels"]} == {"accepted"}
    assert data["reviewer"] == "reader"


def test_key_images_with_overlays(analysed, tmp_path: Path) -> None:
    from PySide6.QtGui import QImage

    from spineviewer.phantom import generate, study_folder_name
    from spineviewer.reports.writer import with_key_images

    study, findings = analysed
    report = with_key_images(build_report(study, findings), study, findings, None, tmp_path)
    names = [k["name"] for k in report.key_images]
    assert names[0] == "sagittal" and {f"axial-{d.level}" for d in findings.discs} <= set(names)
    sagittal = QImage(str(tmp_path / report.key_images[0]["file"]))
    assert sagittal.height() >= 420 and not sagittal.isGrayscale()  # coloured overlays drawn
    html = render_html(report)
    assert 'src="images/sagittal.png"' in html
    generate("spine-xr", tmp_path / "xr", 94_005)  # with implants
    xr_dir = tmp_path / "xr" / study_folder_name("spine-xr", 94_005)
    xr_study = scan(xr_dir).studies[0]
    (xr_findings,) = analyse_path(xr_dir, provider="cpu")
    xr_report = with_key_images(
        build_report(xr_study, xr_findings), xr_study, xr_findings, None, tmp_path / "xr-report"
    )
    assert [k["name"] for k in xr_report.key_images] == ["radiograph"]
    assert xr_report.cobb is not None and xr_report.implants


def test_report_sr_is_a_valid_tid1500_of_the_study(demo_study_dir: Path, tmp_path: Path, capsys):
    import pydicom

    out = tmp_path / "out"
    assert main(["report", str(demo_study_dir), "--out", str(out), "--format", "sr",
                 "--provider", "cpu"]) == 0  # fmt: skip
    study = scan(demo_study_dir).studies[0]
    sr = pydicom.dcmread(out / study.uid / "report_sr.dcm")
    assert sr.StudyInstanceUID == study.uid and sr.Modality == "SR"
    assert sr.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    if shutil.which("dciodvfy"):
        checked = subprocess.run(
            ["dciodvfy", str(out / study.uid / "report_sr.dcm")], capture_output=True, text=True
        )
        assert not [ln for ln in checked.stderr.splitlines() if ln.startswith("Error")]
    assert main(["report", str(demo_study_dir), "--out", str(out), "--format", "docx"]) == 2


def _identifiers(folder: Path) -> set[str]:
    """Every patient identifier and original UID in the source files."""
    import pydicom

    found: set[str] = set()
    for path in folder.rglob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        for keyword in ("PatientName", "PatientID", "PatientBirthDate", "StudyInstanceUID",
                        "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID"):  # fmt: skip
            value = str(ds.get(keyword, "") or "")
            if len(value) >= 4:
                found.add(value)
    return found


def _dciodvfy_errors(path: Path) -> list[str]:
    checked = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True)
    return [ln for ln in checked.stderr.splitlines() if ln.startswith("Error")]


def test_anonymised_report_set_carries_no_identifier(demo_study_dir: Path, tmp_path: Path) -> None:
    """PS3.15 Basic Profile for the SR, nothing identifying in any file (bytes, and the PDF's
    text), UIDs remapped consistently between the files and between runs."""
    import pydicom

    out = tmp_path / "out"
    args = ["report", str(demo_study_dir), "--out", str(out), "--format", "json,html,pdf,sr,epdf",
            "--anonymize", "--provider", "cpu"]  # fmt: skip
    assert main(args) == 0
    secrets = _identifiers(demo_study_dir)
    assert len(secrets) > 20  # names, IDs, dates and every UID of the study
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {
        "report.json", "report.html", "report.pdf", "report_sr.dcm", "report_pdf.dcm"
    }  # fmt: skip
    pdf_text = subprocess.run(
        ["pdftotext", str(out / "study-001" / "report.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert "ANONYMISED" in pdf_text
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, (path.name, secret)
    for secret in secrets:
        assert secret not in pdf_text
    sr = pydicom.dcmread(out / "study-001" / "report_sr.dcm")
    report = json.loads((out / "study-001" / "report.json").read_text())
    assert sr.PatientIdentityRemoved == "YES" and sr.PatientName == "ANONYMISED"
    assert sr.StudyInstanceUID == report["study_uid"] and sr.PatientID == report["patient"]["id"]
    anonymiser = Anonymiser(folder_key(out))
    sops = {f.instance.sop_instance_uid for st in scan(demo_study_dir).stacks() for f in st.frames}
    mapped = {anonymiser.uid(uid) for uid in sops}
    evidence = sr.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence
    referenced = {ref.ReferencedSOPInstanceUID for s in evidence for ref in s.ReferencedSOPSequence}
    assert referenced and referenced <= mapped  # the SR still points at the (remapped) images
    assert {row["key_image"] for row in report["levels"]} <= mapped
    epdf = pydicom.dcmread(out / "study-001" / "report_pdf.dcm")
    assert epdf.StudyInstanceUID == sr.StudyInstanceUID and epdf.PatientID == sr.PatientID
    assert epdf.MIMETypeOfEncapsulatedDocument == "application/pdf"
    assert bytes(epdf.EncapsulatedDocument).startswith(b"%PDF")
    if shutil.which("dciodvfy"):
        assert not _dciodvfy_errors(out / "study-001" / "report_sr.dcm")
        assert not _dciodvfy_errors(out / "study-001" / "report_pdf.dcm")
    again = tmp_path / "again"
    (again).mkdir()
    shutil.copy(out / ".anonymisation-key", again)
    assert main([*args[:3], str(again), *args[4:]]) == 0  # same key: the same UIDs
    sr2 = pydicom.dcmread(again / "study-001" / "report_sr.dcm")
    assert (sr2.StudyInstanceUID, sr2.PatientID) == (sr.StudyInstanceUID, sr.PatientID)


def _page_pixels(png: Path) -> tuple[int, int, int]:
    """(pixels, non-white pixels, coloured pixels) of a rendered page."""
    from PySide6.QtGui import QImage

    image = QImage(str(png)).convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, image.bytesPerLine() * height)
    rgb = data.reshape(height, image.bytesPerLine())[:, : width * 3].reshape(height, width, 3)
    rgb = rgb.astype(np.int16)
    inked = int((rgb.min(axis=2) < 200).sum())
    coloured = int(((rgb.max(axis=2) - rgb.min(axis=2)) > 60).sum())
    return width * height, inked, coloured


def test_pdf_pages_render_with_their_key_images(analysed, tmp_path: Path) -> None:
    """The PDF with key images, rendered by poppler's pdftoppm: its pages exist, the key-image
    pages carry image content (grey pixels) and the coloured overlays."""
    from spineviewer.reports.writer import with_key_images

    study, findings = analysed
    report = with_key_images(build_report(study, findings), study, findings, None, tmp_path)
    (pdf,) = write_report(report, tmp_path, ["pdf"])
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 2  # the tables, then the key images
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(pdf), str(tmp_path / "page")], check=True)
    rendered = sorted(tmp_path.glob("page-*.png"))
    assert len(rendered) == pages
    counts = [_page_pixels(p) for p in rendered]
    assert all(inked > 0.01 * total for total, inked, _ in counts)  # no blank page
    with_images = [c for c in counts if c[1] > 0.15 * c[0]]  # mostly image, not text
    assert with_images and sum(c[2] for c in with_images) > 1000  # overlays in colour


def test_review_needs_cautions_and_warnings_reach_the_report(analysed) -> None:
    """The AI's own doubt (a labelling that needs review, an uncertain disc) and the files it
    left out are in the report model and its HTML; an anonymised report names no folder."""
    from spineviewer.ai.findings import NEEDS_REVIEW, UNCERTAIN, LabellingCheck

    study, findings = analysed
    doubtful = replace(
        findings,
        vertebrae=tuple(replace(v, review=NEEDS_REVIEW) for v in findings.vertebrae),
        discs=(replace(findings.discs[0], review=UNCERTAIN), *findings.discs[1:]),
        labelling=(
            LabellingCheck(
                findings.vertebrae[0].series_uid,
                0.4,
                NEEDS_REVIEW,
                "not in view",
                ("no sacrum in view: the levels are counted from the bottom body, taken as L5",),
            ),
        ),
        warnings=("sagittal series: /home/ann/doe_john/IM7.dcm left out: PixelSpacing is 0",),
    )
    report = build_report(study, doubtful)
    assert report.levels[0].ai_review == UNCERTAIN and report.levels[1].ai_review == "confident"
    assert all(v.ai_review == NEEDS_REVIEW for v in report.vertebrae)
    assert len(report.cautions) == 1 and "no sacrum in view" in report.cautions[0]
    assert "IM7.dcm left out" in report.warnings[0]
    html = render_html(report)
    assert "Check before trusting the levels" in html and "no sacrum in view" in html
    assert "PixelSpacing is 0" in html
    # the numbering and the count it assumed, as a radiology report states them
    assert report.numbering == (
        "Levels numbered up from the bottom body as L5, assuming five lumbar vertebrae (a "
        "sixth is not recognised on a lumbar field).",
    )
    assert report.numbering[0] in html
    anonymous = build_report(study, doubtful, anonymiser=Anonymiser(b"k" * 32))
    assert "doe_john" not in json.dumps(anonymous.to_dict())
    assert "PixelSpacing is 0" in anonymous.warnings[0]


def test_an_anonymised_report_names_no_folder_file_or_description(
    demo_study_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The source folder has a patient's name with a space in it, as exports often do, and is
    given as a relative path: the warnings of a slice left out and of a series whose timing
    contradicts its description, and a failed step's note, keep their sense but lose every
    path and the description (the old filter knew only absolute paths, and cut them at their
    first space: "John/MRI Doe/.../IM7.dcm" stayed in the report)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from damaged_dicom import remove_pixel_data

    from spineviewer.ai.findings import StepResult

    source = shutil.copytree(demo_study_dir, tmp_path / "Doe John" / "MRI Doe")
    remove_pixel_data(source / "S01_sagittal_t2" / "IM00007.dcm")
    for path in (source / "S03_axial_t2_stack").glob("*.dcm"):
        ds = pydicom.dcmread(path)
        ds.RepetitionTime, ds.EchoTime = 550, 10  # T1 timing under a "T2" description
        ds.save_as(path)
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path / "Doe John")
    assert main(["report", "MRI Doe", "--out", str(out), "--format", "json,html",
                 "--anonymize", "--provider", "cpu"]) == 0  # fmt: skip
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    data = json.loads((folder / "report.json").read_text())
    html = (folder / "report.html").read_text()
    assert any("IM00007" not in w and "left out: no Pixel Data" in w for w in data["warnings"])
    assert any("described as T2 but TR/TE say T1" in w for w in data["warnings"])
    for text in (json.dumps(data), html):
        for word in ("Doe", "John", "AX T2 STACK", str(tmp_path)):
            assert word not in text, word
    study = scan(source).studies[0]
    (findings,) = analyse_path(source, provider="cpu")
    victim = source / "S01_sagittal_t2" / "IM00008.dcm"
    failed = replace(
        findings,
        steps=(StepResult("lumbar MR: fractures", "failed", f"OSError: cannot read {victim}"),),
        warnings=(f"seen at C:\\Users\\doe\\IM1.dcm and {victim}",),
    )
    anonymous = build_report(study, failed, anonymiser=Anonymiser(b"k" * 32))
    assert anonymous.notes == ("lumbar MR: fractures: OSError: cannot read <file>",)
    assert anonymous.warnings == ("seen at <file> and <file>",)


def test_a_study_with_an_mr_and_a_radiograph_reports_each_series_vertebrae(
    demo_study_dir: Path, tmp_path: Path
) -> None:
    """One study, a sagittal MR and an AP radiograph (both have an L1): each vertebra row says
    its series, a reader's review of the MR's L1 is not the radiograph's L1's, and a caution
    says which series' labels it is about (the rows and cautions were indistinguishable, and
    the first L1 mark was reported for both L1 rows)."""
    from spineviewer.ai.findings import NEEDS_REVIEW, LabellingCheck
    from spineviewer.phantom import generate, study_folder_name

    study_dir = shutil.copytree(demo_study_dir, tmp_path / "mixed")
    generate("spine-xr", tmp_path / "xr", 94_005)
    uid = pydicom.dcmread(next(study_dir.rglob("*.dcm"))).StudyInstanceUID
    for path in (tmp_path / "xr" / study_folder_name("spine-xr", 94_005)).rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        ds.StudyInstanceUID = uid
        (study_dir / "S09_xr").mkdir(exist_ok=True)
        ds.save_as(study_dir / "S09_xr" / path.name)
    (study,) = scan(study_dir).studies
    (findings,) = analyse_path(study_dir, provider="cpu")
    mr, xr = (
        {v.series_uid for v in findings.vertebrae if v.tilt_deg is None},
        {v.series_uid for v in findings.vertebrae if v.tilt_deg is not None},
    )
    assert len(mr) == len(xr) == 1
    stacks = [st for series in study.series for st in series.stacks]
    proposals = proposals_from_findings(findings, stacks)
    l1 = [p for p in proposals if p.label == "L1" and p.kind.value in ("rectangle", "polygon")]
    assert {p.image.series_uid for p in l1} == mr | xr
    accepted = [replace(p, status=Status.ACCEPTED) if p.image.series_uid in mr else p for p in l1]
    others = [p for p in proposals if p not in l1]
    doc = AnnotationDocument(study.uid, annotations=[*accepted, *others])
    report = build_report(study, findings, doc)
    rows = [r for r in report.vertebrae if r.label == "L1"]
    assert len(rows) == 2 and len({r.series for r in rows}) == 2 and all(r.series for r in rows)
    names = {s.uid: f'Series {s.number} "{s.description}"' for s in study.series}
    by_series = {r.series: r.review for r in rows}
    assert by_series[names[mr.pop()]] == "accepted"
    assert by_series[names[next(iter(xr))]] == "proposed"
    html = render_html(report)
    assert "<th>Series</th>" in html
    doubt = replace(
        findings,
        labelling=(
            *findings.labelling[:1],
            LabellingCheck(next(iter(xr)), 0.5, NEEDS_REVIEW, "at the image edge", ("cut",)),
        ),
    )
    (caution,) = build_report(study, doubt).cautions
    assert caution.startswith(f"Vertebra labels of {names[next(iter(xr))]} need review"), caution


def test_a_caution_is_said_once_and_reads_as_a_sentence(analysed) -> None:
    """The labelling check's reasons are warnings of the findings too: the report's box says
    them, its warnings list does not repeat them; "Vertebra labels need review" (it read
    "Vertebra labels needs review")."""
    from spineviewer.ai.findings import NEEDS_REVIEW, LabellingCheck

    study, findings = analysed
    gap, edge = "L5 missing between L4 and S1", "the body taken as S1 lies at the lower edge"
    doubtful = replace(
        findings,
        labelling=(
            LabellingCheck(
                findings.vertebrae[0].series_uid,
                0.35,
                NEEDS_REVIEW,
                "at the image edge",
                (edge,),
                (gap,),
            ),
        ),
        warnings=(
            f"vertebra labels: {gap}",
            f"vertebra labels: {edge}",
            "sagittal series: IM7.dcm left out: PixelSpacing is 0",
        ),
    )
    report = build_report(study, doubtful)
    assert report.cautions == (f"Vertebra labels need review (confidence 0.35): {gap}; {edge}",)
    assert report.warnings == ("sagittal series: IM7.dcm left out: PixelSpacing is 0",)
    uncertain = replace(doubtful.labelling[0], status="uncertain")
    (caution,) = build_report(study, replace(doubtful, labelling=(uncertain,))).cautions
    assert caution.startswith("Vertebra labels are uncertain (confidence 0.35)")


def test_shifted_labels_are_reported_with_the_ai_names_beside(analysed) -> None:
    """The reader shifted every label one level up (the AI counted from a wrong S1): the report
    names each body and disc as the reader does, the AI's name beside it, and each row keeps
    its own finding's state and review."""
    from spineviewer.annotations.commands import shift_levels

    study, findings = analysed
    stacks = [st for series in study.series for st in series.stacks]
    document = AnnotationDocument(study.uid)
    for mark in proposals_from_findings(findings, stacks):
        document.add(mark)
    shift_levels(document, -1).redo(document)  # L3 -> L2 ...
    report = build_report(study, findings, document)
    renamed = {r.ai_label: r.label for r in report.vertebrae}
    assert renamed["L3"] == "L2" and renamed["L1"] == "T12", renamed
    levels = {r.ai_level: r for r in report.levels}
    assert levels["L4-L5"].level == "L3-L4"
    assert levels["L4-L5"].model_state == next(
        d.state for d in findings.discs if d.level == "L4-L5"
    )
    html = render_html(report)
    assert "L3-L4" in html and "(AI: L4-L5)" in html
    unshifted = build_report(study, findings)
    assert all(r.ai_label == "" for r in unshifted.vertebrae)
    assert [r.level for r in unshifted.levels] == [d.level for d in findings.discs]


def test_a_state_from_the_sagittal_view_says_so(analysed) -> None:
    """A disc whose state comes from the sagittal model (no axial slice through it) is marked
    in the report's JSON and HTML; an axial one is not."""
    study, findings = analysed
    first, *rest = findings.discs
    sagittal = replace(first, view="sagittal", axial_instances=(), roi_boxes_px=())
    report = build_report(study, replace(findings, discs=(sagittal, *rest)))
    rows = {r["level"]: r for r in report.to_dict()["levels"]}
    assert rows[first.level]["view"] == "sagittal"
    assert all(rows[d.level]["view"] == "axial" for d in rest)
    html = render_html(report)
    assert html.count("(sagittal view)") == 1
