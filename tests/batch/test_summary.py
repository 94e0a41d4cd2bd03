"""``summary.csv`` and ``summary.json``: the columns of SUMMARY_COLUMNS in both, a status of
done / failed / skipped / unreadable, counts of warnings and unreadable files, and findings that
never read "all normal" when nothing was found (real phantom studies, damaged with pydicom)."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from damaged_dicom import set_raw

from spineviewer.batch import STATUSES, SUMMARY_COLUMNS, JobResult, StudyJob, write_summary
from spineviewer.cli import main
from spineviewer.phantom import generate, study_folder_name

SEED = 5
SAGITTAL = "S01_sagittal_t2"
NAMES = (
    "study_uid",
    "folder",
    "status",
    "findings",
    "warnings",
    "skipped_files",
    "seconds",
    "error",
    "files",
)


def test_the_columns_are_defined_once_with_what_they_hold() -> None:
    assert tuple(c.name for c in SUMMARY_COLUMNS) == NAMES
    assert all(len(c.doc) > 20 for c in SUMMARY_COLUMNS)
    assert set(STATUSES) == {"done", "failed", "skipped", "unreadable"}


def test_csv_and_json_rows_have_exactly_the_columns(tmp_path: Path) -> None:
    jobs = [
        StudyJob(f"1.2.{k}", (), tmp_path / f"s{k}", ("json",), anonymize=k == 1, label=f"S{k}")
        for k in range(3)
    ]
    results = [
        JobResult("1.2.0", "done", 1.234, "", {"vertebrae": 8}, ["report.json"], 2, 1),
        JobResult("1.2.1", "failed", 0.5, "ValueError: broken"),
        None,  # interrupted before it ran
    ]

    csv_path, json_path = write_summary(results, jobs, tmp_path, [("/in/x", "no study")])

    with csv_path.open(newline="") as f:
        table = list(csv.reader(f))
    rows = json.loads(json_path.read_text())
    assert tuple(table[0]) == NAMES
    assert [tuple(row) for row in rows] == [NAMES] * 4  # keys, in order
    assert [r["status"] for r in rows] == ["done", "failed", "skipped", "unreadable"]
    assert rows[0] | {"seconds": 0} == {
        "study_uid": "1.2.0", "folder": "s0", "status": "done", "findings": "vertebrae 8",
        "warnings": 2, "skipped_files": 1, "seconds": 0, "error": "", "files": 1,
    }  # fmt: skip
    assert rows[0]["seconds"] == pytest.approx(1.23)
    assert rows[1]["study_uid"] == "S1"  # anonymised: the label, not the UID
    assert "interrupted" in rows[2]["error"]
    assert rows[3]["error"] == "/in/x: no study" and rows[3]["study_uid"] == ""
    assert [r[:3] for r in table[1:]] == [[r["study_uid"], r["folder"], r["status"]] for r in rows]


def _as_new_study(source: Path, target: Path, number: int) -> Path:
    """A copy of ``source`` as another study (its StudyInstanceUID changed)."""
    shutil.copytree(source, target)
    for path in target.rglob("*.dcm"):
        set_raw(path, "StudyInstanceUID", f"1.2.826.0.1.3680043.8.498.77.{number}")
    return target


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any]]:
    """One batch over three inputs: a study with one slice of bad spacing and one truncated
    file, a study whose every sagittal slice has a spacing of 0, and a folder of truncated
    files. The exit status and the summary rows by input."""
    root = tmp_path_factory.mktemp("summary")
    generate("lumbar-mr", root / "seed", SEED)
    source = root / "seed" / study_folder_name("lumbar-mr", SEED)
    partial = _as_new_study(source, root / "partial", 1)
    set_raw(partial / SAGITTAL / "IM00007.dcm", "PixelSpacing", "0\\0")
    truncated = partial / SAGITTAL / "IM00011.dcm"
    truncated.write_bytes(truncated.read_bytes()[:-5000])
    nothing = _as_new_study(source, root / "nothing", 2)
    for path in (nothing / SAGITTAL).glob("*.dcm"):
        set_raw(path, "ImagePositionPatient", "NaN\\0\\0")
    unreadable = _as_new_study(source / SAGITTAL, root / "unreadable", 3)
    for path in unreadable.glob("*.dcm"):
        path.write_bytes(path.read_bytes()[:-5000])
    out = root / "out"
    workspace = pytest.MonkeyPatch()
    workspace.setenv("SPINEVIEWER_WORKSPACE", str(root / "workspace"))
    try:
        status = main([
            "batch", str(partial), str(nothing), str(unreadable), "--out", str(out),
            "--format", "json", "--provider", "cpu",
        ])  # fmt: skip
    finally:
        workspace.undo()
    rows = json.loads((out / "summary.json").read_text())
    by_input = {
        "partial": next(r for r in rows if r["study_uid"].endswith(".77.1")),
        "nothing": next(r for r in rows if r["study_uid"].endswith(".77.2")),
        "unreadable": [r for r in rows if r["status"] == "unreadable"],
    }
    assert len(rows) == 2 + len(by_input["unreadable"])
    return status, by_input


def test_a_partly_damaged_study_is_done_with_its_warning_and_lost_file_counted(summary) -> None:
    status, rows = summary
    row = rows["partial"]
    assert row["status"] == "done" and row["error"] == ""
    assert str(row["findings"]).startswith("vertebrae ") and "discs " in str(row["findings"])
    assert int(row["warnings"]) >= 1  # IM00007 left out of the vertebrae
    assert row["skipped_files"] == 1  # IM00011 (ground_truth.json is not DICOM: not counted)
    assert status == 1  # the unreadable input


def test_a_study_where_nothing_was_found_never_reads_all_normal(summary) -> None:
    _, rows = summary
    row = rows["nothing"]
    findings = str(row["findings"])
    assert row["status"] == "done"
    assert "all normal" not in findings and "discs" not in findings
    assert findings.startswith("nothing found (") and "too damaged" in findings, findings
    assert int(row["warnings"]) >= 15  # every sagittal file named


def test_a_study_without_a_readable_image_has_a_row_per_file(summary) -> None:
    """Its 15 truncated files, each with the reason; the study their headers name."""
    _, rows = summary
    assert len(rows["unreadable"]) == 15
    files = set()
    for row in rows["unreadable"]:
        assert row["study_uid"].endswith(".77.3") and row["folder"] == ""
        assert row["skipped_files"] == 1 and row["files"] == 0
        path, reason = str(row["error"]).split(": ", 1)
        assert Path(path).parent.name == "unreadable" and "truncated" in reason
        files.add(path)
    assert len(files) == 15


def test_findings_say_when_the_labels_need_review() -> None:
    """A study whose level names the reader must confirm says so in the findings column."""
    from spineviewer.ai.findings import (
        CONFIDENT,
        NEEDS_REVIEW,
        Findings,
        LabellingCheck,
        VertebraFinding,
    )
    from spineviewer.batch.jobs import _brief

    body = VertebraFinding("L5", 0.9, "1.2", "1.2.3", (0, 0, 1, 1), (0.0, 0.0, 0.0))
    check = LabellingCheck("1.2", 0.4, NEEDS_REVIEW, "not in view", ("no sacrum in view",))
    doubtful = Findings("1", "cpu", vertebrae=(body,), labelling=(check,))
    assert _brief(doubtful) == {"vertebrae": 1, "labels": "need review"}
    sure = Findings("1", "cpu", vertebrae=(body,), labelling=(replace(check, status=CONFIDENT),))
    assert _brief(sure) == {"vertebrae": 1}
