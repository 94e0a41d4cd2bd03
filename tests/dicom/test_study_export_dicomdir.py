"""The anonymised study export (issue 22, item 7) on the demo lumbar MR: a DICOMDIR folder
dciodvfy passes, images no worse than their sources, the same studies / series / images under
new UIDs with the frames of reference kept consistent, a zip the project's own scan reads,
burned-in studies refused, cancel and failure leaving nothing, source files untouched, and the
command line's answers to bad input."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pydicom
import pytest

from spineviewer.cli import main
from spineviewer.dicom import Study, scan
from spineviewer.dicom.anonymise import Anonymiser
from spineviewer.dicom.study_export import (
    BurnedInRefused,
    StudyExportCancelled,
    burned_in_reasons,
    export_studies,
    study_instances,
)

KEY = bytes(range(32))


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _errors(path: Path) -> list[str]:
    exe = shutil.which("dciodvfy")
    if exe is None:
        pytest.skip("dciodvfy is not installed (Debian package dicom3tools)")
    done = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=120)
    return [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("Error")]


def _shape(study: Study) -> list[tuple[int, int]]:
    """(stacks, images) per series, in a stable order."""
    return sorted((len(s.stacks), sum(len(st) for st in s.stacks)) for s in study.series)


@pytest.fixture(scope="module")
def source(demo_study_dir: Path) -> tuple[Path, Study]:
    return demo_study_dir, scan(demo_study_dir).studies[0]


@pytest.fixture(scope="module")
def exported(source: tuple[Path, Study], module_tmp: Path) -> Path:
    folder, study = source
    before = _hashes(folder)
    result = export_studies([study], module_tmp / "export", anonymiser=Anonymiser(KEY))
    assert _hashes(folder) == before  # the sources are only read
    assert result.path == module_tmp / "export"
    assert (result.studies, result.series, result.images) == (1, 3, len(study_instances(study)))
    return result.path


def test_the_dicomdir_passes_dciodvfy_and_names_every_file(exported: Path) -> None:
    assert _errors(exported / "DICOMDIR") == []
    fileset = pydicom.fileset.FileSet(exported / "DICOMDIR")
    files = sorted(p for p in exported.rglob("*") if p.is_file() and p.name != "DICOMDIR")
    assert len(fileset) == len(files) == 76
    for instance in fileset:  # file IDs by the DICOM rules: 8 upper-case characters a level
        parts = instance.ReferencedFileID
        assert all(len(p) <= 8 and p == p.upper() and p.isalnum() for p in parts)
    assert [p.name for p in exported.iterdir() if not p.name.startswith("PT")] == ["DICOMDIR"]


def test_exported_images_are_no_worse_than_their_sources(
    source: tuple[Path, Study], exported: Path
) -> None:
    _, study = source
    first = {series.uid: series.stacks[0].frames[0].instance for series in study.series}
    anonymiser = Anonymiser(KEY)
    by_uid = {
        str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID): p
        for p in exported.rglob("IM*")
    }
    for instance in first.values():
        out = by_uid[anonymiser.uid(instance.sop_instance_uid)]
        assert len(_errors(out)) <= len(_errors(instance.ref.path)), out


def test_the_rescan_finds_the_same_study_under_new_uids(
    source: tuple[Path, Study], exported: Path
) -> None:
    _, study = source
    (again,) = scan(exported).studies
    assert _shape(again) == _shape(study)
    anonymiser = Anonymiser(KEY)
    assert again.uid == anonymiser.uid(study.uid) != study.uid
    assert {s.uid for s in again.series} == {anonymiser.uid(s.uid) for s in study.series}
    old = {i.sop_instance_uid for i in study_instances(study)}
    new = {i.sop_instance_uid for i in study_instances(again)}
    assert new == {anonymiser.uid(u) for u in old} and not new & old
    # the frames of reference: the same one in gives the same one out, and none is kept
    old_for = Counter(i.frame_of_reference_uid for i in study_instances(study))
    new_for = Counter(i.frame_of_reference_uid for i in study_instances(again))
    assert new_for == Counter({anonymiser.uid(u): n for u, n in old_for.items()})
    assert not set(new_for) & set(old_for)
    for series in again.series:
        ds = pydicom.dcmread(series.stacks[0].frames[0].instance.ref.path)
        assert ds.PatientIdentityRemoved == "YES" and ds.StudyID == "1"
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID


def test_the_zip_is_read_by_the_projects_own_scan(
    source: tuple[Path, Study], tmp_path: Path
) -> None:
    folder, study = source
    out = tmp_path / "share" / "study.zip"
    assert main(["export-study", str(folder), "--out", str(out)]) == 0
    result = scan(out)
    (again,) = result.studies
    assert _shape(again) == _shape(study) and again.uid != study.uid
    assert not result.skipped  # the DICOMDIR in the zip is an index: passed over, not a problem
    assert [p.name for p in out.parent.iterdir()] == ["study.zip"]  # no temporary left


def test_studies_of_one_patient_share_the_dummy_patient(
    source: tuple[Path, Study], tmp_path: Path
) -> None:
    folder, _ = source
    second = tmp_path / "second"
    shutil.copytree(folder, second)
    for path in second.rglob("*.dcm"):  # another study of the same patient
        ds = pydicom.dcmread(path)
        ds.StudyInstanceUID = ds.StudyInstanceUID + ".2"
        ds.SeriesInstanceUID = ds.SeriesInstanceUID + ".2"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID + ".2"
        ds.save_as(path, enforce_file_format=True)
    out = tmp_path / "two"
    assert main(["export-study", str(folder), str(second), "--out", str(out)]) == 0
    studies = scan(out).studies
    assert len(studies) == 2 and len({s.info.get("PatientID") for s in studies}) == 1
    assert _errors(out / "DICOMDIR") == []
    ids = {str(pydicom.dcmread(s.series[0].stacks[0].frames[0].instance.ref.path).StudyID)
           for s in studies}  # fmt: skip
    assert ids == {"1", "2"}


def _planted(folder: Path, target: Path, **header: str | None) -> Path:
    """The sagittal series with ``header`` set (None: removed)."""
    shutil.copytree(folder / "S01_sagittal_t2", target / "S01")
    for path in (target / "S01").glob("*.dcm"):
        ds = pydicom.dcmread(path)
        for keyword, value in header.items():
            if value is None:
                delattr(ds, keyword)
            else:
                setattr(ds, keyword, value)
        ds.save_as(path, enforce_file_format=True)
    return target


def test_burned_in_studies_are_refused_unless_confirmed(
    source: tuple[Path, Study], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = source
    yes = _planted(folder, tmp_path / "yes", BurnedInAnnotation="YES")
    us = _planted(folder, tmp_path / "us", Modality="US", BurnedInAnnotation=None,
                  StudyInstanceUID="1.2.826.0.1.3680043.8.498.4711")  # fmt: skip
    us_no = _planted(folder, tmp_path / "us-no", Modality="US", BurnedInAnnotation="NO")
    (study,) = scan(yes).studies
    [reason] = burned_in_reasons(study)
    assert "S01" in reason and "BurnedInAnnotation is YES in 13 of 13 images" in reason
    assert "ultrasound" in burned_in_reasons(scan(us).studies[0])[0]
    assert burned_in_reasons(scan(us_no).studies[0]) == []  # the header says NO

    out = tmp_path / "out"
    with pytest.raises(BurnedInRefused) as refused:
        export_studies(scan(yes).studies, out)
    assert refused.value.reasons == [reason] and not out.exists()
    assert main(["export-study", str(yes), str(us), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "2 series refused" in err and "BurnedInAnnotation is YES" in err
    assert "ultrasound" in err and "--burned-in-ok" in err and not out.exists()
    assert main(["export-study", str(yes), "--out", str(out), "--burned-in-ok"]) == 0
    assert len(scan(out).stacks()[0]) == 13


def test_cancel_and_failure_leave_nothing(source: tuple[Path, Study], tmp_path: Path) -> None:
    _, study = source
    parent = tmp_path / "exports"
    seen: list[tuple[int, int, str]] = []
    with pytest.raises(StudyExportCancelled):
        export_studies(
            [study], parent / "out", progress=lambda *a: seen.append(a),
            cancelled=lambda: len(seen) >= 100,
        )  # fmt: skip
    assert list(parent.iterdir()) == []
    assert seen[-1][1] == 2 * 76 + 1  # the burned-in check, each image, the DICOMDIR
    # a file gone since the scan: named, and nothing written
    gone = tmp_path / "gone"
    shutil.copytree(study.series[0].stacks[0].frames[0].instance.ref.path.parent, gone)
    (partial,) = scan(gone).studies
    victim = study_instances(partial)[5].ref.path
    victim.unlink()
    with pytest.raises(ValueError, match=f"{victim}: cannot be read"):
        export_studies([partial], parent / "out.zip", burned_in_ok=True)
    assert list(parent.iterdir()) == []
    # a study without a date: its STUDY record cannot be made (type 1 there); the file named
    for path in gone.glob("*.dcm"):
        ds = pydicom.dcmread(path)
        ds.StudyDate = ""
        ds.save_as(path, enforce_file_format=True)
    (undated,) = scan(gone).studies
    first = study_instances(undated)[0].ref
    with pytest.raises(ValueError, match=f"{first}: cannot be listed in a DICOMDIR: .*Study Date"):
        export_studies([undated], parent / "out", burned_in_ok=True)
    assert list(parent.iterdir()) == []


def test_the_command_line_names_bad_input(
    source: tuple[Path, Study], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = source
    missing = tmp_path / "nowhere"
    assert main(["export-study", str(folder), str(missing), "--out", str(tmp_path / "o")]) == 1
    assert f"{missing}: no such file or folder" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["export-study", str(empty), "--out", str(tmp_path / "o")]) == 1
    assert f"{empty}: no DICOM study found" in capsys.readouterr().err
    taken = tmp_path / "taken"
    (taken / "x").mkdir(parents=True)
    assert main(["export-study", str(folder), "--out", str(taken)]) == 1
    assert f"{taken}: the folder is not empty" in capsys.readouterr().err
    inside = folder / "S01_sagittal_t2" / "export"
    assert main(["export-study", str(folder), "--out", str(inside)]) == 1
    assert "lies with the source images" in capsys.readouterr().err and not inside.exists()
    assert main(["export-study", "--out", str(tmp_path / "o")]) == 2  # no study named
