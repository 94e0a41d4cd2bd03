"""The report lists both dates' findings and measurements (issue 22, item 1): a real pair of
phantom studies of one patient a year apart (:func:`spineviewer.phantom.prior.generate_prior`),
each analysed by the real models, each with a reader's length labelled "canal" saved in the
(scratch) annotation workspace, reported with ``spineviewer report CURRENT --prior PRIOR``.
JSON, HTML, PDF (read back with poppler's ``pdftotext``) and the findings SR (pydicom,
dcmtk's ``dsrdump``, dicom3tools' ``dciodvfy``) carry both dates, both values and the
changed disc."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pydicom
import pytest
from markupsafe import escape

from spineviewer.annotations import Annotation, AnnotationDocument, ImageRef, Workspace
from spineviewer.annotations.annotation import Provenance
from spineviewer.cli import main
from spineviewer.dicom import Study, scan
from spineviewer.phantom.prior import CHANGED_LEVEL, generate_prior
from spineviewer.reports.comparison import ABSENT, compare_reports, prior_study
from spineviewer.reports.names import iso_date
from spineviewer.reports.sr_text import report_text

needs_tools = pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("pdftotext", "dsrdump", "dciodvfy")),
    reason="poppler-utils, dcmtk or dicom3tools missing",
)

#: The reader's canal length on each date (pixels along a column of the sagittal image).
CURRENT_ROWS, PRIOR_ROWS = 100, 80


def _save_length(study: Study, rows: int) -> str:
    """A reader's line labelled "canal" on the middle sagittal image, saved to the workspace;
    its length as the report writes it."""
    sagittal = next(st for s in study.series for st in s.stacks if st.plane == "sagittal")
    middle = len(sagittal) // 2
    line = Annotation.create(
        "line",
        ImageRef.of_frame(sagittal.frames[middle]),
        [(20, 40), (20 + rows, 40)],
        sagittal.plane_of(middle),
        label="canal",
        provenance=Provenance(author="reader"),
    )
    with Workspace() as workspace:
        workspace.save(AnnotationDocument(study.uid, author="reader", annotations=[line]))
    spacing = sagittal.frames[middle].pixel_spacing
    assert spacing is not None
    return f"{rows * spacing[0]:.1f} mm"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return generate_prior(tmp_path_factory.mktemp("prior-pair"), 3)


def _pdf_text(path: Path) -> str:
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


@needs_tools
def test_report_with_prior_lists_both_dates_in_every_format(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    current_dir, prior_dir = pair
    [current] = scan(current_dir).studies
    [prior] = scan(prior_dir).studies
    now_date, then_date = (iso_date(s.info["StudyDate"]) for s in (current, prior))
    assert now_date != then_date
    now_value, then_value = _save_length(current, CURRENT_ROWS), _save_length(prior, PRIOR_ROWS)
    assert now_value != then_value

    out = tmp_path / "out"
    args = ["report", str(current_dir), "--out", str(out), "--prior", str(prior_dir),
            "--format", "json,html,pdf,sr", "--provider", "cpu"]  # fmt: skip
    assert main(args) == 0
    folder = out / current.uid

    data = json.loads((folder / "report.json").read_text("utf-8"))
    comparison = data["comparison"]
    assert (comparison["current_date"], comparison["prior_date"]) == (now_date, then_date)
    assert comparison["prior_study_uid"] == prior.uid
    rows = {(r["what"], r["label"]): r for r in comparison["rows"]}
    canal = rows[("measurement", 'line "canal"')]
    assert (canal["current"], canal["prior"]) == (now_value, then_value)
    assert canal["change"].endswith(" mm") and canal["change"].startswith("+")
    disc = rows[("disc", CHANGED_LEVEL)]
    assert disc["current"] != disc["prior"] and ABSENT not in (disc["current"], disc["prior"])
    assert disc["change"] == "changed"
    assert sum(r["what"] == "disc" for r in comparison["rows"]) >= 4  # every level, both dates
    assert len(comparison["sentences"]) == len(comparison["rows"])

    page = (folder / "report.html").read_text("utf-8")
    assert "Comparison with the prior study" in page
    assert f"compared with the prior study of {then_date}" in page  # said at the top too
    assert f"<th>Current {now_date}</th><th>Prior {then_date}</th>" in page
    assert all(str(escape(v)) in page for v in (now_value, then_value))

    text = _pdf_text(folder / "report.pdf")
    assert "Comparison with the prior study" in text
    assert now_date in text and then_date in text
    canal_line = next(ln for ln in text.splitlines() if "measurement" in ln and "canal" in ln)
    assert now_value in canal_line and then_value in canal_line
    disc_line = next(ln for ln in text.splitlines() if ln.split()[:2] == ["disc", CHANGED_LEVEL])
    assert disc["current"] in disc_line and disc["prior"] in disc_line

    sr = folder / "report_sr.dcm"
    previous = report_text(pydicom.dcmread(sr))["previous"]
    assert previous == comparison["sentences"]
    assert any(now_value in s and then_value in s and then_date in s for s in previous)
    dump = subprocess.run(["dsrdump", "+Pc", str(sr)], capture_output=True, text=True)
    assert dump.returncode == 0, dump.stderr
    assert '(121069,DCM,"Previous Finding")' in dump.stdout
    checked = subprocess.run(["dciodvfy", str(sr)], capture_output=True, text=True)
    assert [ln for ln in checked.stderr.splitlines() if ln.startswith("Error")] == []


def test_prior_study_is_the_latest_earlier_study_of_the_patient(pair: tuple[Path, Path]) -> None:
    [current] = scan(pair[0]).studies
    [prior] = scan(pair[1]).studies
    assert prior_study(current, [current, prior]) is prior
    assert prior_study(current, [current]) is None
    # the earlier study's own prior is the later one when nothing is older
    assert prior_study(prior, [current, prior]) is current


def test_rows_present_on_one_date_only_read_new_or_gone(pair: tuple[Path, Path]) -> None:
    from spineviewer.ai.findings import Findings
    from spineviewer.reports import build_report

    [current] = scan(pair[0]).studies
    [prior] = scan(pair[1]).studies
    _save_length(current, CURRENT_ROWS)
    with Workspace() as workspace:
        loaded = workspace.load(current.uid)
    assert loaded is not None
    now = build_report(current, Findings(current.uid, "cpu"), loaded.document)
    then = build_report(prior, Findings(prior.uid, "cpu"))
    [row] = compare_reports(now, then).rows
    assert (row.current.endswith("mm"), row.prior, row.change) == (True, ABSENT, "new")
    [back] = compare_reports(then, now).rows
    assert (back.current, back.change) == (ABSENT, "gone")


def test_anonymised_comparison_has_no_dates_and_no_real_uid(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    current_dir, prior_dir = pair
    [prior] = scan(prior_dir).studies
    out = tmp_path / "out"
    args = ["report", str(current_dir), "--out", str(out), "--prior", str(prior_dir),
            "--format", "json,html", "--provider", "cpu", "--anonymize"]  # fmt: skip
    assert main(args) == 0
    data = json.loads((out / "study-001" / "report.json").read_text("utf-8"))
    comparison = data["comparison"]
    assert (comparison["current_date"], comparison["prior_date"]) == ("", "")
    assert comparison["prior_study_uid"] not in ("", prior.uid)
    assert comparison["rows"] and all(" on current, " in s for s in comparison["sentences"])
    page = (out / "study-001" / "report.html").read_text("utf-8")
    assert "<th>Current</th><th>Prior</th>" in page
    assert iso_date(prior.info["StudyDate"]) not in page
