"""The anonymised study export with the annotation objects made here.

:func:`export_studies_with_annotations` writes each study's annotations (from its workspace
document) as the DICOM objects of the annotation export that a PACS accepts, through their
own writers (:mod:`spineviewer.annotations.export`: the TID 1500 SR, the SEG, the KOS and the
GSPS), into a private temporary folder, from the document's de-identified copy (no reader's
name; free text ``[removed]`` unless ``keep_text``); then
:func:`spineviewer.dicom.study_export.export_studies` anonymises them with the images' UID
map, so their references resolve to the exported images, and writes the DICOMDIR folder or
zip. The output-format registry's ``study`` family (``dicomdir``, ``zip``) writes through
:func:`write_dicomdir` and :func:`write_zip`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from spineviewer import formats as registry
from spineviewer.annotations.deidentify import deidentified_document
from spineviewer.annotations.document import AnnotationDocument
from spineviewer.annotations.export import exportable
from spineviewer.annotations.store import Workspace
from spineviewer.dicom.anonymise import Anonymiser
from spineviewer.dicom.study_export import (
    BurnedInRefused,
    Cancelled,
    Progress,
    StudyExportResult,
    burned_in_reasons,
    check_output,
    export_studies,
    study_instances,
)
from spineviewer.dicom.study_tree import Study

__all__ = [
    "EXPORT_NAME",
    "annotation_objects",
    "export_studies_with_annotations",
    "format_for",
    "saved_documents",
    "write_dicomdir",
    "write_zip",
]

#: The name the registry's writers give the export inside their output folder.
EXPORT_NAME = "anonymised-study"


def format_for(out: Path) -> registry.OutputFormat:
    """The study format an output path asks for: by its suffix (``.zip``), else the folder."""
    formats = registry.of(registry.Family.STUDY)
    suffix = out.suffix.lower()
    return next((f for f in formats if f.suffix and f.suffix == suffix), None) or next(
        f for f in formats if not f.suffix
    )


def saved_documents(
    studies: Sequence[Study], workspace_root: str | Path | None = None
) -> dict[str, AnnotationDocument]:
    """The annotation documents the workspace holds for ``studies``, by study UID."""
    found: dict[str, AnnotationDocument] = {}
    with Workspace(workspace_root) as workspace:
        for study in studies:
            loaded = workspace.load(study.uid)
            if loaded is not None:
                found[study.uid] = loaded.document
    return found


def annotation_objects(
    study: Study, document: AnnotationDocument, folder: Path, keep_text: bool = False
) -> tuple[list[Path], list[str]]:
    """The study's SR, SEG, KOS and GSPS (the annotation family's DICOM formats) of the
    de-identified ``document``, written into ``folder``; and what was left out, and why."""
    sources = registry.Sources(
        folder, study=study, document=deidentified_document(document, keep_text)
    )
    files: list[Path] = []
    for fmt in registry.sendable(registry.Family.ANNOTATIONS):
        try:
            files += [p for p in registry.write(fmt, sources) if p.suffix == fmt.suffix]
        except ValueError as exc:
            sources.skipped.append(f"{fmt.name}: {exc}")
    return files, sources.skipped


def export_studies_with_annotations(
    studies: Sequence[Study],
    out: str | Path,
    documents: Mapping[str, AnnotationDocument] | None,
    *,
    keep_text: bool = False,
    anonymiser: Anonymiser | None = None,
    burned_in_ok: bool = False,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> StudyExportResult:
    """:func:`~spineviewer.dicom.study_export.export_studies` with each study's annotation
    objects from ``documents`` (by study UID; a study without one goes alone, and is noted
    in the result's ``skipped``; None: no annotations). The burned-in check runs first,
    before any object is written."""
    target = Path(out).expanduser()
    check_output(target, studies)
    if not burned_in_ok:
        count, seen = sum(len(study_instances(s)) for s in studies), [0]

        def checked() -> None:
            seen[0] += 1
            if progress is not None:
                progress(seen[0], count, "Checking for burned-in text")

        reasons = [r for study in studies for r in burned_in_reasons(study, cancelled, checked)]
        if reasons:
            raise BurnedInRefused(reasons)
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="spineviewer-study-objects-") as private:
        objects: dict[str, list[Path]] = {}
        for number, study in enumerate(studies if documents is not None else (), start=1):
            document = documents.get(study.uid) if documents is not None else None
            if document is None or not exportable(document):
                notes.append(f"study {number}: no annotations to export")
                continue
            if progress is not None:
                progress(0, 0, f"Writing the annotations of study {number}")
            files, skipped = annotation_objects(
                study, document, Path(private) / str(number), keep_text
            )
            objects[study.uid] = files
            notes += [f"study {number}: {note}" for note in skipped]
        result = export_studies(
            studies, target, objects=objects, anonymiser=anonymiser, burned_in_ok=True,
            progress=progress, cancelled=cancelled,
        )  # fmt: skip
    result.skipped += notes
    return result


def _write(sources: registry.Sources, name: str) -> list[Path]:
    if sources.study is None:
        raise ValueError("the study export needs the study (its series), not stacks alone")
    documents = {sources.study.uid: sources.document} if sources.document is not None else None
    result = export_studies_with_annotations(
        [sources.study], sources.out_dir / name, documents,
        keep_text=sources.keep_annotation_text, anonymiser=sources.anonymiser,
    )  # fmt: skip
    sources.skipped += result.skipped
    return [result.path]


def write_dicomdir(sources: registry.Sources) -> list[Path]:
    """``anonymised-study/``: the study anonymised, with a DICOMDIR (and its annotations)."""
    return _write(sources, EXPORT_NAME)


def write_zip(sources: registry.Sources) -> list[Path]:
    """``anonymised-study.zip``: the same folder as a zip archive."""
    return _write(sources, EXPORT_NAME + ".zip")
