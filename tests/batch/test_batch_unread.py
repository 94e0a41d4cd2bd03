"""What ``spineviewer batch`` could not read is never silent (issue 20, item 3 and deliverable 2):
a study whose files are all unreadable, lying beside a good study, gets one ``unreadable``
summary row per file with the reason and makes the exit status 1; ``skipped.csv`` lists every
file or folder that was not read; the log's last line counts them. Real phantom DICOM files,
damaged with pydicom."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import pytest
from damaged_dicom import set_raw

from spineviewer.batch import Problem, study_jobs
from spineviewer.cli import main
from spineviewer.dicom.errors import SkippedFile
from spineviewer.phantom import generate, load_ground_truth, study_folder_name

SEED = 5
SAGITTAL = "S01_sagittal_t2"
#: The study of the damaged files: its header names it, no image of it can be read.
LOST_UID = "1.2.826.0.1.3680043.8.498.77.9"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One folder holding a good lumbar MR study and, beside it, three files of another study
    cut short (one of them in the good study's own sagittal folder), a file of random bytes
    named .dcm and a text file. And a clean copy of the study, one of its own slices cut
    short, a file of random bytes beside it."""
    root = tmp_path_factory.mktemp("unread")
    generate("lumbar-mr", root / "in", SEED)
    good = root / "in" / study_folder_name("lumbar-mr", SEED)
    clean = shutil.copytree(good, root / "clean")
    cut = clean / SAGITTAL / "IM00011.dcm"
    cut.write_bytes(cut.read_bytes()[:-5000])
    (clean / "junk.dcm").write_bytes(os.urandom(4096))
    lost = root / "in" / "lost"
    lost.mkdir()
    broken = [lost / "IM00001.dcm", lost / "IM00002.dcm", good / SAGITTAL / "IM09999.dcm"]
    for number, path in enumerate(broken, start=1):
        shutil.copy(good / SAGITTAL / f"IM{number:05d}.dcm", path)
        set_raw(path, "StudyInstanceUID", LOST_UID)
        path.write_bytes(path.read_bytes()[:-5000])
    junk = root / "in" / "junk.dcm"
    junk.write_bytes(os.urandom(4096))
    notes = root / "in" / "notes.txt"
    notes.write_text("no images here\n")
    return {
        "root": root / "in",
        "good": good,
        "clean": clean,
        "broken": broken,  # type: ignore[dict-item]
        "other": [junk, notes, good / "ground_truth.json"],  # type: ignore[dict-item]
    }


def _batch(args: list[str], tmp_path: Path, monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(tmp_path / "workspace"))
    capsys.readouterr()
    status = main(["batch", *args, "--format", "json", "--provider", "cpu"])
    return status, capsys.readouterr().err


def _skipped_csv(out: Path) -> dict[str, str]:
    with (out / "skipped.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["path", "reason"]
    return {path: reason for path, reason in rows[1:]}


def test_a_study_with_no_readable_file_is_in_the_summary_and_fails_the_batch(
    inputs, tmp_path: Path, monkeypatch, capsys
) -> None:
    out = tmp_path / "out"

    status, err = _batch([str(inputs["root"]), "--out", str(out)], tmp_path, monkeypatch, capsys)

    assert status == 1
    rows = json.loads((out / "summary.json").read_text())
    [done] = [r for r in rows if r["status"] == "done"]
    assert done["skipped_files"] == 0, "a file of another study was counted against this one"
    lost = [r for r in rows if r["status"] == "unreadable"]
    assert len(rows) == 1 + len(lost)
    assert sorted(r["error"].split(": ")[0] for r in lost) == sorted(map(str, inputs["broken"]))
    for row in lost:
        assert row["study_uid"] == LOST_UID and row["folder"] == "" and row["skipped_files"] == 1
        assert "truncated pixel data" in row["error"]
    with (out / "summary.csv").open(newline="") as f:
        assert [r["status"] for r in csv.DictReader(f)] == [r["status"] for r in rows]

    listed = _skipped_csv(out)
    assert set(listed) == {str(p) for p in [*inputs["broken"], *inputs["other"]]}
    assert all(listed[str(p)].startswith("not a DICOM file") for p in inputs["other"])
    assert all("truncated pixel data" in listed[str(p)] for p in inputs["broken"])

    last = err.strip().splitlines()[-1]
    assert last.startswith("summary: 1 done, 3 unreadable; "), last
    assert "not read: 6 files or folders (3 DICOM, 3 other)" in last, last
    assert str(inputs["broken"][0]) in err and "junk.dcm" in err  # named in the log too


def test_anonymised_rows_of_an_unreadable_study_never_show_its_uid(
    inputs, tmp_path: Path, monkeypatch, capsys
) -> None:
    out = tmp_path / "anon"

    status, err = _batch(
        [str(inputs["root"]), "--out", str(out), "--anonymize"], tmp_path, monkeypatch, capsys
    )

    assert status == 1
    good_uid = load_ground_truth(inputs["good"]).study_instance_uid
    assert good_uid[-24:] not in err  # the progress log names studies by their folder label
    rows = json.loads((out / "summary.json").read_text())
    labels = {r["study_uid"] for r in rows if r["status"] == "unreadable"}
    assert len(labels) == 1 and next(iter(labels)).startswith("study-")
    for name in ("summary.csv", "summary.json", "skipped.csv"):
        assert LOST_UID not in (out / name).read_text()
    # input paths (folder and file names may name the patient) appear by label only; the
    # owner-only .input-paths.csv says which label is which path
    root = str(inputs["root"])
    for name in ("summary.csv", "summary.json", "skipped.csv"):
        text = (out / name).read_text()
        assert root not in text and "junk.dcm" not in text, name
    private = out / ".input-paths.csv"
    assert private.stat().st_mode & 0o777 == 0o600
    mapping = dict(csv.reader(io.StringIO(private.read_text())))
    listed = _skipped_csv(out)
    assert set(listed) <= set(mapping) and all(label.startswith("input-") for label in listed)
    assert {mapping[label] for label in listed} == {
        str(p) for p in [*inputs["broken"], *inputs["other"]]
    }


def test_files_left_out_of_a_done_study_are_listed_without_failing_the_batch(
    inputs, tmp_path: Path, monkeypatch, capsys
) -> None:
    """One slice of the study cut short and files that are not DICOM: the study is done, the
    exit status 0 (as issue 18 requires), and all three are in skipped.csv and the counts."""
    out = tmp_path / "out"
    clean = inputs["clean"]

    status, err = _batch([str(clean), "--out", str(out)], tmp_path, monkeypatch, capsys)

    assert status == 0
    [row] = json.loads((out / "summary.json").read_text())
    assert row["status"] == "done" and row["skipped_files"] == 1
    names = ["junk.dcm", "ground_truth.json", f"{SAGITTAL}/IM00011.dcm"]
    assert set(_skipped_csv(out)) == {str(clean / name) for name in names}
    assert err.strip().splitlines()[-1] == (
        "summary: 1 done; not read: 3 files or folders (1 DICOM, 2 other), listed in skipped.csv"
    )


def test_a_folder_the_walk_could_not_list_is_an_unreadable_row(
    inputs, tmp_path: Path, monkeypatch
) -> None:
    """A folder that cannot be listed may hold a whole study: a summary row of its own. (The
    scan's record of it is added to a real scan: as root, chmod cannot deny a folder.)"""
    import spineviewer.dicom as dicom

    locked = inputs["root"] / "locked"
    locked.mkdir(exist_ok=True)
    real = dicom.scan
    reason = "folder cannot be read (Permission denied): its files were not loaded"

    def scan(path):  # type: ignore[no-untyped-def]
        result = real(path)
        extra = SkippedFile(str(locked), reason, dicom=False)
        return type(result)(result.studies, (*result.skipped, extra))

    monkeypatch.setattr(dicom, "scan", scan)

    plan = study_jobs([inputs["root"]], tmp_path / "out", ["json"])

    assert [job.study_uid for job in plan.jobs] == [plan.jobs[0].study_uid]
    assert Problem(str(locked), reason) in plan.problems
    assert str(locked) in {s.path for s in plan.skipped}
    assert sum(1 for p in plan.problems if p.study == LOST_UID) == 3
