"""The reader's impression, the findings as sentences and the signature in every report format
(issue 22, item 8): ``spineviewer report`` on the demo phantom analysed by the real models,
with the impression saved in the (scratch) annotation workspace. The PDF is read back with
poppler's ``pdftotext``, the SR with pydicom, dcmtk's ``dsrdump`` and dicom3tools'
``dciodvfy``. Anonymised reports carry neither the impression's words nor the reader."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest
from markupsafe import escape

from spineviewer.ai.analysis import analyse_path
from spineviewer.annotations import AnnotationDocument, Workspace
from spineviewer.annotations.impression import Impression
from spineviewer.cli import main
from spineviewer.dicom import scan
from spineviewer.reports import build_report
from spineviewer.reports.html import render_html
from spineviewer.reports.sr_text import report_text
from spineviewer.reports.writer import write_report_set

#: Two lines, the second with a distinctive word for the anonymised check.
TEXT = "Left paracentral L4-L5 herniation.\nQZXIMPRESSION no fracture."
READER = "DOE^JANE"

needs_tools = pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("pdftotext", "dsrdump", "dciodvfy")),
    reason="pdftotext (poppler-utils), dsrdump (dcmtk) or dciodvfy (dicom3tools) missing",
)


def _pdf_text(path: Path) -> str:
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _dciodvfy_errors(path: Path) -> list[str]:
    checked = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True)
    return [ln for ln in checked.stderr.splitlines() if ln.startswith("Error")]


def _save_impression(study_uid: str) -> None:
    doc = AnnotationDocument(study_uid, author=READER)
    doc.impression = Impression(TEXT, READER, "2024-02-01T10:30:00+00:00")
    with Workspace() as workspace:
        workspace.save(doc)


def _report(out: Path, *extra: str) -> Path:
    args = ["report", str(out.parent / "study"), "--out", str(out), "--format",
            "json,html,pdf,sr", "--provider", "cpu", *extra]  # fmt: skip
    assert main(args) == 0
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return folder


@pytest.fixture
def study_dir(demo_study_dir: Path, tmp_path: Path) -> Path:
    shutil.copytree(demo_study_dir, tmp_path / "study")
    return tmp_path / "study"


@needs_tools
def test_impression_sentences_and_signature_in_every_format(study_dir: Path) -> None:
    [study] = scan(study_dir).studies
    _save_impression(study.uid)
    folder = _report(study_dir.parent / "out")

    data = json.loads((folder / "report.json").read_text("utf-8"))
    assert data["impression"] == {
        "text": TEXT, "author": "Doe, Jane", "created": "2024-02-01T10:30:00+00:00"
    }  # fmt: skip
    sentences = data["sentences"]
    levels = [row["level"] for row in data["levels"]]
    assert [s.split(":")[0] for s in sentences[: len(levels)]] == levels
    assert all("(model " in s for s in sentences[: len(levels)])
    assert data["signature"]["reader"] == "Doe, Jane"
    assert data["signature"]["time_text"] == "2024-02-01 10:30:00 UTC"
    assert data["signature"]["software"].startswith("SpineViewer ")
    assert data["signature"]["models"] == [f"{m['id']} {m['version']}" for m in data["models"]]

    page = (folder / "report.html").read_text("utf-8")
    assert "Left paracentral L4-L5 herniation.<br>QZXIMPRESSION no fracture." in page
    assert all(escape(s) in page for s in sentences)
    assert "Impression by <b>Doe, Jane</b>, 2024-02-01 10:30:00 UTC; report created" in page

    text = _pdf_text(folder / "report.pdf")
    assert "Impression\nLeft paracentral L4-L5 herniation.\nQZXIMPRESSION no fracture." in text
    assert "Impression by Doe, Jane, 2024-02-01 10:30:00 UTC; report created" in text
    assert sentences[0] in " ".join(text.split())

    sr = folder / "report_sr.dcm"
    words = report_text(pydicom.dcmread(sr))
    assert words == {"impression": [TEXT], "findings": sentences, "previous": []}
    dump = subprocess.run(["dsrdump", "+Pc", "+Pl", str(sr)], capture_output=True, text=True)
    assert dump.returncode == 0, dump.stderr
    assert '(121073,DCM,"Impression")="Left paracentral' in dump.stdout
    assert '(C0034375,UMLS,"Qualitative Evaluations")=CONTINUOUS' in dump.stdout
    assert _dciodvfy_errors(sr) == []


@needs_tools
def test_command_line_impression_replaces_the_saved_one(study_dir: Path) -> None:
    [study] = scan(study_dir).studies
    _save_impression(study.uid)
    folder = _report(study_dir.parent / "out", "--impression", r"Batch impression.\nSecond line")
    data = json.loads((folder / "report.json").read_text("utf-8"))
    assert data["impression"]["text"] == "Batch impression.\nSecond line"
    assert report_text(pydicom.dcmread(folder / "report_sr.dcm"))["impression"] == [
        "Batch impression.\nSecond line"
    ]
    with Workspace() as workspace:  # the workspace keeps the reader's own
        loaded = workspace.load(study.uid)
    assert loaded is not None and loaded.document.impression is not None
    assert loaded.document.impression.text == TEXT


@needs_tools
@pytest.mark.parametrize("keep", [False, True])
def test_anonymised_reports_name_no_reader_and_drop_the_impression(
    study_dir: Path, keep: bool
) -> None:
    """The impression is free text and may name a person: anonymised it reads [removed], as
    the annotations' notes do, unless --keep-annotation-text; the reader is never named."""
    [study] = scan(study_dir).studies
    _save_impression(study.uid)
    extra = ["--anonymize", *(["--keep-annotation-text"] if keep else [])]
    folder = _report(study_dir.parent / "out", *extra)
    data = json.loads((folder / "report.json").read_text("utf-8"))
    assert data["signature"]["reader"] == "" and data["impression"]["author"] == ""
    texts = {
        "json": (folder / "report.json").read_text("utf-8"),
        "html": (folder / "report.html").read_text("utf-8"),
        "pdf": _pdf_text(folder / "report.pdf"),
        "sr": subprocess.run(
            ["dsrdump", "+Pl", str(folder / "report_sr.dcm")], capture_output=True, text=True
        ).stdout,
    }
    for name, text in texts.items():
        assert "Doe" not in text and "DOE" not in text, name
        assert ("QZXIMPRESSION" in text) == keep, name
    if not keep:
        assert data["impression"]["text"] == "[removed]"
        assert report_text(pydicom.dcmread(folder / "report_sr.dcm"))["impression"] == ["[removed]"]
    assert _dciodvfy_errors(folder / "report_sr.dcm") == []


@needs_tools
def test_fracture_sentences_reach_html_pdf_and_sr(demo_study_dir: Path, tmp_path: Path) -> None:
    """A confirmed and an uncertain fracture (as the fracture check reports them) read as
    sentences in the HTML, the PDF and the SR."""
    [study] = scan(demo_study_dir).studies
    (findings,) = analyse_path(demo_study_dir, provider="cpu")
    by_label = {v.label: v for v in findings.vertebrae}
    changed = {
        "L1": replace(by_label["L1"], fracture="uncertain", fracture_probability=0.97,
                      body_heights_mm=(24.0, 23.5, 24.0), height_loss=0.0),
        "L2": replace(by_label["L2"], fracture="fractured", fracture_probability=0.99,
                      body_heights_mm=(16.0, 18.5, 23.0), height_loss=0.31),
    }  # fmt: skip
    findings = replace(
        findings, vertebrae=tuple(changed.get(v.label, v) for v in findings.vertebrae)
    )
    report = build_report(study, findings)
    uncertain = (
        "L1: fracture uncertain — the model says fractured (0.97) but the body's heights show "
        "no loss (A/M/P 24/23.5/24 mm; not reviewed)"
    )
    confirmed = (
        "L2: compression fracture, Genant grade 2 (height loss 31 %; model 0.99; not reviewed)"
    )
    assert {uncertain, confirmed} <= set(report.sentences)
    assert escape(uncertain) in render_html(report)
    out = tmp_path / "out"
    write_report_set(report, study, findings, None, out, ["pdf", "sr"])
    flat = " ".join(_pdf_text(out / "report.pdf").split())
    assert uncertain in flat and confirmed in flat
    sr = pydicom.dcmread(out / "report_sr.dcm")
    assert {uncertain, confirmed} <= set(report_text(sr)["findings"])  # the dash kept: UTF-8
    assert sr.SpecificCharacterSet == "ISO_IR 192"
    assert _dciodvfy_errors(out / "report_sr.dcm") == []
