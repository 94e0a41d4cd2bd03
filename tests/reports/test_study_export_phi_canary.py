"""PHI canaries through the anonymised study export (issue 22, item 7; the pattern of
``test_report_phi_canary.py``): ``spineviewer export-study --with-annotations`` to a DICOMDIR
folder and to a zip.

Distinctive strings are planted in the images' identifying attributes (patient, operator,
physicians, institution, station, device serial number, accession, descriptions, birth and
study dates), in a private attribute and an overlay plane's description, in the annotation
document (its author and patient) and its marks (their author, notes, free-text labels). The
originals' study, series, instance and frame-of-reference UIDs are canaries too (they would
link the export back to the source). No exported byte (the zip's members inflated), no DICOM
file as dcmdump prints it and no file name may hold any of them. The annotation export of the
same document (not anonymised) does show them: the canaries reach the objects, so their absence
means something.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pydicom
import pytest

from spineviewer.annotations import Annotation, AnnotationDocument, Provenance, Status, Workspace
from spineviewer.annotations.frames import image_ref
from spineviewer.cli import main
from spineviewer.dicom import scan
from spineviewer.dicom.study_export import study_instances

AUTHOR = "QZXREADER"
NOTE = "QZXNOTE ring Mr Smith"
HEADER_CANARIES = {
    "PatientName": "QZXFAMILY^QZXGIVEN",
    "PatientID": "QZXPID4711",
    "PatientBirthDate": "19010203",
    "StudyDate": "19020304",
    "OperatorsName": AUTHOR,
    "ReferringPhysicianName": "QZXREFERRER",
    "PerformingPhysicianName": "QZXPERFORMER",
    "InstitutionName": "QZXINSTITUTE",
    "InstitutionAddress": "QZXSTREET 1",
    "StationName": "QZXSTATION",
    "DeviceSerialNumber": "QZXSERIAL",
    "AccessionNumber": "QZXACC0815",
    "StudyDescription": "QZXSTUDYDESC",
    "SeriesDescription": "QZXSERIESDESC",
    "StudyID": "QZXSTUDYID",
}
WORDS = ("QZXFAMILY", "QZXGIVEN", "QZXPID4711", "19010203", "19020304", AUTHOR, "QZXREFERRER",
         "QZXPERFORMER", "QZXINSTITUTE", "QZXSTREET", "QZXSTATION", "QZXSERIAL", "QZXACC0815",
         "QZXSTUDYDESC", "QZXSERIESDESC", "QZXSTUDYID", "QZXPRIVATE", "QZXOVERLAY", "QZXNOTE",
         "QZXCOBBTEXT", "QZXLEVELTAG", "QZXMEASURETAG")  # fmt: skip


@pytest.fixture(scope="module")
def canary_study(demo_study_dir: Path, module_tmp: Path) -> Path:
    folder = module_tmp / "study"
    shutil.copytree(demo_study_dir, folder)
    for path in sorted(folder.rglob("*.dcm")):
        ds = pydicom.dcmread(path)
        for keyword, value in HEADER_CANARIES.items():
            setattr(ds, keyword, value)
        ds.private_block(0x0099, "QZX CREATOR", create=True).add_new(0x01, "LO", "QZXPRIVATE")
        ds.add_new(0x60000022, "LO", "QZXOVERLAY")  # Overlay Description
        ds.save_as(path, enforce_file_format=True)
    return folder


@pytest.fixture(scope="module")
def canary_uids(canary_study: Path) -> tuple[str, ...]:
    study = scan(canary_study).studies[0]
    uids = {study.uid}
    for instance in study_instances(study):
        uids |= {instance.series_uid, instance.sop_instance_uid, instance.frame_of_reference_uid}
    return tuple(sorted(uids))


def _document(folder: Path) -> AnnotationDocument:
    study = scan(folder).studies[0]
    sagittal = next(st for series in study.series for st in series.stacks
                    if st.plane == "sagittal")  # fmt: skip
    index = len(sagittal) // 2
    image, plane = image_ref(sagittal, index), sagittal.plane_of(index)
    by = {"provenance": Provenance(author=AUTHOR), "status": Status.ACCEPTED}
    marks = [
        Annotation.create("line", image, [(10, 10), (10, 110)], plane, label="QZXMEASURETAG",
                          text=NOTE, **by),
        Annotation.create("arrow", image, [(40, 40), (60, 60)], plane, text=NOTE, **by),
        Annotation.create("ellipse", image, [(120, 100), (150, 160)], plane,
                          label="QZXLEVELTAG", text=NOTE, **by),
        Annotation.create("cobb", image, [(20, 20), (20, 80), (90, 25), (95, 85)], plane,
                          text="QZXCOBBTEXT", **by),
    ]  # fmt: skip
    patient = {"patient_id": HEADER_CANARIES["PatientID"], "study_description": "QZXSTUDYDESC",
               "patient_name": HEADER_CANARIES["PatientName"]}  # fmt: skip
    return AnnotationDocument(study.uid, author=AUTHOR, annotations=marks, **patient)


def _texts(out: Path, work: Path) -> dict[str, bytes]:
    """Every output file's bytes by name (a zip's members inflated), its name, and each DICOM
    file as dcmdump prints it."""
    files: dict[str, bytes] = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        name = path.relative_to(out).as_posix()
        files[name] = path.read_bytes()
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                files.update({f"{name}!{m}": archive.read(m) for m in archive.namelist()})
    texts: dict[str, bytes] = {}
    for number, (name, data) in enumerate(files.items()):
        texts[name], texts[f"{name} (file name)"] = data, name.encode()
        if data[128:132] == b"DICM":
            copy = work / f"{number}.dcm"
            copy.write_bytes(data)
            dump = subprocess.run(["dcmdump", str(copy)], capture_output=True)
            texts[f"{name} (dcmdump)"] = dump.stdout + dump.stderr
    return texts


def _leaks(texts: dict[str, bytes], canaries: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(name, c) for name, data in texts.items() for c in canaries
            if c.lower().encode() in data.lower()]  # fmt: skip


@pytest.mark.skipif(shutil.which("dcmdump") is None, reason="dcmdump (dcmtk) is not installed")
def test_no_canary_in_the_anonymised_study_export(
    canary_study: Path, canary_uids: tuple[str, ...], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(tmp_path / "workspace"))
    with Workspace() as workspace:
        workspace.save(_document(canary_study))
    work = tmp_path / "work"
    work.mkdir()

    plain = tmp_path / "plain"
    assert main(["annotations", "export", str(canary_study), "--out", str(plain),
                 "--format", "sr", "seg"]) == 0  # fmt: skip
    shown = {canary for _, canary in _leaks(_texts(plain, work), WORDS + canary_uids)}
    assert {"QZXFAMILY", "QZXPID4711", AUTHOR, "QZXNOTE", "QZXLEVELTAG"} <= shown
    assert set(canary_uids) & shown  # the objects do reference the originals' UIDs

    out = tmp_path / "share"
    args = ["--with-annotations"]
    assert main(["export-study", str(canary_study), "--out", str(out / "folder"), *args]) == 0
    assert main(["export-study", str(canary_study), "--out", str(out / "study.zip"), *args]) == 0
    texts = _texts(out, work)
    assert "folder/DICOMDIR" in texts and "study.zip!DICOMDIR" in texts
    kinds = (b"=Comprehensive3DSR", b"=Segmentation", b"=KeyObjectSelection", b"=GrayscaleSoftc")
    dumps = [data for name, data in texts.items()
             if name.endswith("(dcmdump)") and "DICOMDIR" not in name]  # fmt: skip
    assert [sum(kind in d for d in dumps) for kind in kinds] == [2, 2, 2, 2]  # folder, zip
    assert _leaks(texts, WORDS + canary_uids) == []
