"""The anonymised study export with the annotation objects (issue 22, item 7): the SR, SEG,
KOS and GSPS written from the study's document are anonymised with the images' UID map, so
every reference in them resolves to an exported image (read back by the project's own SR,
SEG, KOS and GSPS readers on the exported folder); dciodvfy finds no error in the DICOMDIR
nor in any of them; the registry's ``study`` formats write the same."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from exchange_helpers import dciodvfy_errors, marked_study, tree_hashes

from spineviewer import formats as registry
from spineviewer.annotations import AnnotationDocument
from spineviewer.annotations.export import exportable, reviewed
from spineviewer.annotations.frames import frame_planes, image_refs
from spineviewer.annotations.gsps_read import read_gsps_for
from spineviewer.annotations.kos import read_kos
from spineviewer.annotations.seg import import_seg
from spineviewer.annotations.sr import import_sr
from spineviewer.annotations.store import Workspace
from spineviewer.annotations.study_objects import (
    EXPORT_NAME,
    export_studies_with_annotations,
    format_for,
    saved_documents,
)
from spineviewer.cli import main
from spineviewer.dicom import Stack, Study, scan
from spineviewer.dicom.anonymise import Anonymiser
from spineviewer.dicom.study_export import study_instances

KEY = bytes(range(100, 132))
SOP = {
    "sr": "1.2.840.10008.5.1.4.1.1.88.34",
    "seg": "1.2.840.10008.5.1.4.1.1.66.4",
    "kos": "1.2.840.10008.5.1.4.1.1.88.59",
    "gsps": "1.2.840.10008.5.1.4.1.1.11.1",
}


@pytest.fixture(scope="module")
def source(demo_study_dir: Path) -> tuple[Study, AnnotationDocument]:
    study = scan(demo_study_dir).studies[0]
    marks = marked_study(demo_study_dir).annotations
    return study, AnnotationDocument(study.uid, author="Doe^Jane", annotations=list(marks))


@pytest.fixture(scope="module")
def exported(source: tuple[Study, AnnotationDocument], module_tmp: Path) -> Path:
    study, document = source
    folder = study_instances(study)[0].ref.path.parents[1]
    before = tree_hashes(folder)
    result = export_studies_with_annotations(
        [study], module_tmp / "out", {study.uid: document}, anonymiser=Anonymiser(KEY)
    )
    assert tree_hashes(folder) == before
    assert result.objects == 5 and result.skipped == []  # SR, 2 SEG (one per series), KOS, GSPS
    return result.path


def _objects(out: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {name: [] for name in SOP}
    by_class = {uid: name for name, uid in SOP.items()}
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.name != "DICOMDIR":
            sop = str(pydicom.dcmread(path, stop_before_pixels=True).SOPClassUID)
            if sop in by_class:
                found[by_class[sop]].append(path)
    return found


def _image_stacks(out: Path) -> list[Stack]:
    return [st for st in scan(out).stacks() if st.modality != "SEG"]


def test_every_reference_resolves_to_an_exported_image(
    source: tuple[Study, AnnotationDocument], exported: Path
) -> None:
    study, document = source
    objects = _objects(exported)
    assert [len(objects[name]) for name in SOP] == [1, 2, 1, 1]
    stacks = _image_stacks(exported)
    images, planes = image_refs(stacks), frame_planes(stacks)
    exported_uids = {uid for uid, _ in images}
    anonymiser = Anonymiser(KEY)
    (again,) = scan(exported).studies

    marks = exportable(document)
    read = import_sr(objects["sr"][0], planes=planes, images=images)
    # the marks come back on the exported images (their tracking UIDs are remapped too)
    assert sorted((a.kind, anonymiser.uid(a.image.sop_instance_uid), a.image.frame_number)
                  for a in marks) == sorted(
        (a.kind, a.image.sop_instance_uid, a.image.frame_number) for a in read
    )  # fmt: skip
    assert {a.image.sop_instance_uid for a in read} <= exported_uids

    masks = {key for seg in objects["seg"] for key in import_seg(seg)}
    assert masks and {uid for uid, _, _ in masks} <= exported_uids
    keys = read_kos(objects["kos"][0])
    assert {k.sop_instance_uid for k in keys.images} == {
        anonymiser.uid(a.image.sop_instance_uid) for a in marks
    }
    state = read_gsps_for(objects["gsps"][0], stacks)
    assert state.skipped == []
    assert {a.uid for a in state.annotations} == {a.uid for a in reviewed(marks)}
    for paths in objects.values():
        for path in paths:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            assert ds.StudyInstanceUID == again.uid and ds.PatientID == again.info["PatientID"]
            assert ds.PatientIdentityRemoved == "YES" and "Doe" not in str(ds.PatientName)
    seg = pydicom.dcmread(objects["seg"][0], stop_before_pixels=True)
    assert seg.FrameOfReferenceUID in {i.frame_of_reference_uid for i in study_instances(again)}
    assert study.uid not in exported.joinpath("DICOMDIR").read_bytes().decode("latin-1")


def test_dciodvfy_finds_no_error_in_the_dicomdir_nor_the_objects(exported: Path) -> None:
    assert dciodvfy_errors(exported / "DICOMDIR") == []
    for paths in _objects(exported).values():
        for path in paths:
            assert dciodvfy_errors(path) == [], path
    records = pydicom.dcmread(exported / "DICOMDIR").DirectoryRecordSequence
    kinds = [str(r.DirectoryRecordType) for r in records]
    assert {"SR DOCUMENT", "KEY OBJECT DOC", "PRESENTATION"} <= set(kinds)


def test_the_registry_and_the_command_line_write_the_study_formats(
    source: tuple[Study, AnnotationDocument], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study, document = source
    assert [f.name for f in registry.of(registry.Family.STUDY)] == ["dicomdir", "zip"]
    assert format_for(Path("a.ZIP")).name == "zip" and format_for(Path("a")).name == "dicomdir"
    sources = registry.Sources(tmp_path / "reg", study=study, document=document)
    [folder] = registry.write(registry.get("dicomdir"), sources)
    [archive] = registry.write(registry.get("zip"), sources)
    assert folder == tmp_path / "reg" / EXPORT_NAME and archive.name == f"{EXPORT_NAME}.zip"
    assert sum(map(len, _objects(folder).values())) == 5
    assert len(scan(archive).studies) == 1

    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(tmp_path / "workspace"))
    with Workspace() as workspace:
        workspace.save(document)
    assert set(saved_documents([study])) == {study.uid}
    source_dir = study_instances(study)[0].ref.path.parents[1]
    out = tmp_path / "cli"
    assert main(["export-study", str(source_dir), "--out", str(out), "--with-annotations"]) == 0
    assert sum(map(len, _objects(out).values())) == 5
    assert main(["export-study", str(source_dir), "--out", str(tmp_path / "plain")]) == 0
    assert sum(map(len, _objects(tmp_path / "plain").values())) == 0
