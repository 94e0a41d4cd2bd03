"""Key images (KOS) and a presentation state (GSPS) written by the annotation export land in
the study on a real Orthanc: over C-STORE (what ``pacs store`` and ``batch --store`` use) and
over STOW-RS."""

from __future__ import annotations

from pathlib import Path

from orthanc_server import AE_TITLE, PASSWORD, USER

from spineviewer.annotations import Annotation, AnnotationDocument, image_ref
from spineviewer.annotations.export import export_study
from spineviewer.dicom import scan
from spineviewer.pacs import DicomWebNode, DimseNode, LocalAE, store


def _series(orthanc, study_uid: str) -> list[dict]:
    for study in orthanc.get("/studies"):
        if orthanc.get(f"/studies/{study}")["MainDicomTags"]["StudyInstanceUID"] == study_uid:
            return list(orthanc.get(f"/studies/{study}/series"))
    return []


def test_kos_and_gsps_are_stored_in_the_study(
    orthanc, pacs_study, demo_study_dir: Path, tmp_path: Path
) -> None:
    study_uid, _ = pacs_study
    stacks = [st for st in scan(demo_study_dir).stacks()]
    stack = stacks[0]
    middle = len(stack) // 2
    marks = [
        Annotation.create("line", image_ref(stack, middle), [(60.0, 60.0), (140.0, 100.0)],
                          stack.plane_of(middle), label="L4"),
        Annotation.create("ellipse", image_ref(stack, middle), [(90.0, 90.0), (110.0, 130.0)],
                          stack.plane_of(middle), label="L4-L5", state="bulge"),
    ]  # fmt: skip
    doc = AnnotationDocument(study_uid, annotations=marks)
    result = export_study(doc, stacks, tmp_path / "out", ["kos", "gsps"])
    assert len(result.files) == 2
    before = {s["ID"] for s in _series(orthanc, study_uid)}
    dimse = DimseNode("test-pacs", AE_TITLE, "127.0.0.1", orthanc.dicom_port, timeout_s=10)
    web = DicomWebNode("web", orthanc.dicomweb_url, "basic", USER, PASSWORD, timeout_s=20)
    try:
        sent = store(dimse, result.files, LocalAE(orthanc.our_ae, orthanc.our_port))
        assert sent.sent == 2 and not sent.failed, sent.summary("orthanc")
        new = [s for s in _series(orthanc, study_uid) if s["ID"] not in before]
        assert sorted(s["MainDicomTags"]["Modality"] for s in new) == ["KO", "PR"]
        again = store(web, result.files, LocalAE(orthanc.our_ae, orthanc.our_port))
        assert again.sent == 2 and not again.failed, again.summary("web")
    finally:  # leave the shared study as it was uploaded
        for series in _series(orthanc, study_uid):
            if series["ID"] not in before:
                orthanc.delete(f"/series/{series['ID']}")
