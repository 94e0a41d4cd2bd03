"""``batch --anonymize --resume`` never attaches a report to the wrong study (issue 20, item 4):
folders keep their names when a study is added to the inputs, and a folder whose report set is
complete but of another study is done again, leaving nothing of the other study. Real phantom
DICOM files (the sagittal series of one phantom as three studies, their UIDs rewritten)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from damaged_dicom import set_raw

from spineviewer.batch import complete
from spineviewer.cli import main
from spineviewer.dicom.anonymise import Anonymiser, folder_key
from spineviewer.phantom import generate, study_folder_name

SEED = 5
SAGITTAL = "S01_sagittal_t2"
#: C sorts before A and B: with folders numbered by sorted UID, adding it moved theirs.
UIDS = {
    "A": "1.2.826.0.1.3680043.8.498.88.2",
    "B": "1.2.826.0.1.3680043.8.498.88.3",
    "C": "1.2.826.0.1.3680043.8.498.88.1",
}


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("identity")
    generate("lumbar-mr", root / "seed", SEED)
    source = root / "seed" / study_folder_name("lumbar-mr", SEED) / SAGITTAL
    folders = {}
    for name, uid in UIDS.items():
        folders[name] = shutil.copytree(source, root / name)
        for path in folders[name].glob("*.dcm"):
            set_raw(path, "StudyInstanceUID", uid)
            set_raw(path, "PatientID", f"PATIENT-{name}")
    return folders


def _batch(inputs: list[Path], out: Path, *extra: str) -> list[dict[str, object]]:
    status = main(["batch", *map(str, inputs), "--out", str(out), "--format", "json",
                   "--provider", "cpu", "--anonymize", *extra])  # fmt: skip
    assert status == 0
    return json.loads((out / "summary.json").read_text())  # type: ignore[no-any-return]


def _held(out: Path) -> dict[str, str]:
    """Folder name -> the study (A, B, C) whose report it holds, from the report itself."""
    mapped = {Anonymiser(folder_key(out)).uid(uid): name for name, uid in UIDS.items()}
    held = {}
    for report in out.glob("*/report.json"):
        held[report.parent.name] = mapped[json.loads(report.read_text())["study_uid"]]
    return held


def test_a_study_added_before_resume_is_analysed_and_no_report_moves(
    studies, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(tmp_path / "workspace"))
    out = tmp_path / "out"
    _batch([studies["A"], studies["B"]], out)
    before = _held(out)
    assert sorted(before.values()) == ["A", "B"]

    rows = _batch([studies[name] for name in "ABC"], out, "--resume")

    after = _held(out)
    assert sorted(after.values()) == ["A", "B", "C"]  # each study once, none missing
    assert {k: v for k, v in after.items() if k in before} == before  # names kept
    assert sorted(row["status"] for row in rows) == ["done", "skipped", "skipped"]
    [done] = [row for row in rows if row["status"] == "done"]
    assert after[str(done["folder"])] == "C" and done["study_uid"] == done["folder"]
    for folder in out.iterdir():
        if folder.is_dir():
            assert complete(folder) is not None
            assert folder.name.startswith("study-")
            text = (folder / "manifest.json").read_text() + (folder / "report.json").read_text()
            assert not any(uid in text or uid in folder.name for uid in UIDS.values())


def test_a_folder_holding_another_study_is_done_again(studies, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(tmp_path / "workspace"))
    out = tmp_path / "out"
    _batch([studies["A"], studies["B"]], out)
    held = _held(out)
    folder_of = {study: folder for folder, study in held.items()}
    a, b = out / folder_of["A"], out / folder_of["B"]
    a.rename(out / "swap")  # each complete set now sits in the other study's folder
    b.rename(a)
    (out / "swap").rename(b)
    (a / "left-over.png").write_bytes(b"B's key image")  # not part of A's new set

    rows = _batch([studies["A"], studies["B"]], out, "--resume")

    assert [row["status"] for row in rows] == ["done", "done"]
    assert _held(out) == held
    assert not (a / "left-over.png").exists()
    assert complete(a) is not None and complete(b) is not None


def test_a_forged_study_uid_never_names_a_path(studies, tmp_path: Path, monkeypatch) -> None:
    """A StudyInstanceUID of '../escaped' wrote the report set beside OUT (and a redone set
    would now prune the folder it names): its folder is a hash inside OUT, found on resume."""
    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(tmp_path / "workspace"))
    forged = shutil.copytree(studies["A"], tmp_path / "forged")
    for path in forged.glob("*.dcm"):
        set_raw(path, "StudyInstanceUID", "../escaped")
    root = tmp_path / "root"
    out = root / "out"
    args = ["batch", str(forged), "--out", str(out), "--format", "json", "--provider", "cpu"]

    assert main(args) == 0
    assert main([*args, "--resume"]) == 0

    assert [p.name for p in root.iterdir()] == ["out"]
    [folder] = [p for p in out.iterdir() if p.is_dir()]
    assert folder.name.startswith("study-") and complete(folder) is not None
    [row] = json.loads((out / "summary.json").read_text())
    assert row["status"] == "skipped" and row["folder"] == folder.name
