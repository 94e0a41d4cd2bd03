"""Exporting and importing one study's annotations: DICOM SR, DICOM SEG, a COCO training set,
a Key Object Selection of the key images and a Grayscale Softcopy Presentation State.

The viewer's File menu and the command line both call these; they read the study's stacks
(headers, and pixels for the training set) and never write anywhere near the source images.
Rejected annotations stay in the workspace document but are left out of every export.
The formats and their writers are those of the output-format registry
(:mod:`spineviewer.formats`, family ``annotations``); the writers (highdicom) are imported
when an export runs, not when the menu or the command line is built.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom import dcmread

from spineviewer import formats as registry
from spineviewer.annotations.annotation import Annotation, ImageRef, Status
from spineviewer.annotations.document import AnnotationDocument
from spineviewer.annotations.frames import frame_planes, image_refs, source_headers
from spineviewer.dicom import Stack, StackPixels

#: What :func:`export_study` accepts: the registry's ``annotations`` family, then the old
#: spelling ``sr`` of ``annotations-sr``.
FORMATS = registry.choices(registry.Family.ANNOTATIONS)

Progress = Callable[[int, int, str], None]


@dataclass
class ExportResult:
    """What one export wrote, and what it left out."""

    files: list[Path] = field(default_factory=list)
    exported: int = 0
    skipped: list[str] = field(default_factory=list)


def exportable(doc: AnnotationDocument) -> list[Annotation]:
    """The annotations an export carries: all but the rejected ones."""
    return [a for a in doc if a.status != Status.REJECTED]


def reviewed(annotations: Sequence[Annotation]) -> list[Annotation]:
    """The marks a reader made or accepted (not the proposals waiting for review)."""
    return [a for a in annotations if a.status in (Status.ACCEPTED, Status.EDITED)]


def study_marks(sources: registry.Sources) -> list[Annotation]:
    """The marks a study output carries: the document's exportable annotations, or the AI's
    proposals when nobody annotated the study (none without findings); de-identified (free
    text ``[removed]`` unless ``keep_annotation_text``) when the output is anonymised."""
    from spineviewer.annotations.deidentify import deidentified_document
    from spineviewer.annotations.proposals import proposals_from_findings

    doc = sources.document
    if doc is None or not len(doc):
        if sources.findings is None:
            return []
        study_uid = sources.study.uid if sources.study is not None else ""
        doc = AnnotationDocument(
            study_uid, annotations=proposals_from_findings(sources.findings, sources.stacks)
        )
    if sources.anonymiser is not None:
        doc = deidentified_document(doc, sources.keep_annotation_text)
    return exportable(doc)


def image_getter(stacks: Sequence[Stack]) -> Callable[[ImageRef], np.ndarray]:
    """Pixel values (modality units) of an annotated frame, decoded on demand."""
    where = {
        (f.instance.sop_instance_uid, f.index + 1): (stack, i)
        for stack in stacks
        for i, f in enumerate(stack.frames)
    }
    pixels: dict[int, StackPixels] = {}

    def get(ref: ImageRef) -> np.ndarray:
        stack, index = where[(ref.sop_instance_uid, ref.frame_number)]
        reader = pixels.setdefault(id(stack), StackPixels(stack))
        return reader.slice(index)

    return get


def write_dicom(sources: registry.Sources, name: str, make: Callable[[Path], Path]) -> Path:
    """``out_dir/name`` written by ``make(path)`` atomically (a partial file renamed over it);
    with an anonymiser, ``make`` writes into a private temporary folder and only the
    de-identified object (PS3.15 Basic Profile, UIDs remapped) reaches ``out_dir``."""
    out = sources.out_dir
    out.mkdir(parents=True, exist_ok=True)
    target, partial = out / name, out / f".{name}.partial"
    if sources.anonymiser is None:
        make(partial)
    else:
        with tempfile.TemporaryDirectory(prefix="spineviewer-dicom-") as private:
            ds = sources.anonymiser.dataset(dcmread(make(Path(private) / name)))
        ds.save_as(partial, enforce_file_format=True)
    partial.replace(target)
    return target


def _headers(sources: registry.Sources, marks: Sequence[Annotation]) -> dict:
    return source_headers(sources.stacks, only={a.image.sop_instance_uid for a in marks})


def _document(sources: registry.Sources) -> AnnotationDocument:
    if sources.document is None:
        raise ValueError("no annotations to export: the study has no annotation document")
    doc: AnnotationDocument = sources.document
    return doc


def _marks_or_note(sources: registry.Sources, what: str) -> list[Annotation]:
    marks = exportable(_document(sources))
    if not marks:
        sources.skipped.append(f"{what}: no annotations to export (rejected ones are left out)")
    return marks


def write_annotations_sr(sources: registry.Sources) -> list[Path]:
    """``annotations_sr.dcm``: the annotations as a TID 1500 Measurement Report."""
    from spineviewer.annotations.sr_write import export_sr

    doc = _document(sources)
    marks = _marks_or_note(sources, "SR")
    if not marks:
        return []
    headers = _headers(sources, marks)
    target = sources.out_dir / "annotations_sr.dcm"
    return [export_sr(marks, headers, target, calibrations=doc.calibrations)]


def write_seg(sources: registry.Sources) -> list[Path]:
    """``seg/SEG_<n>.dcm``: the filled shapes as DICOM SEG, one per series."""
    from spineviewer.annotations.seg import export_seg

    doc = _document(sources)
    marks = _marks_or_note(sources, "SEG")
    if not marks:
        return []
    return list(
        export_seg(marks, _headers(sources, marks), sources.out_dir / "seg", author=doc.author)
    )


def write_coco(sources: registry.Sources) -> list[Path]:
    """``coco/``: a COCO training set of the annotated images."""
    from spineviewer.annotations.coco import export_training_set

    marks = _marks_or_note(sources, "COCO")
    if not marks:
        return []
    written = export_training_set(marks, image_getter(sources.stacks), sources.out_dir / "coco")
    sources.skipped.extend(written.skipped)
    return [written.coco_json, written.labels_csv]


def write_kos(sources: registry.Sources) -> list[Path]:
    """``key_images_kos.dcm``: the images the marks are on, as a Key Object Selection
    ("Of Interest")."""
    from spineviewer.annotations.kos import export_kos

    marks = study_marks(sources)
    if not marks:
        raise ValueError("no key image for a KOS: no finding and no annotation")
    headers = _headers(sources, marks)
    keys = [headers[uid] for uid in dict.fromkeys(a.image.sop_instance_uid for a in marks)]
    return [write_dicom(sources, "key_images_kos.dcm", lambda path: export_kos(keys, path))]


def write_gsps(sources: registry.Sources) -> list[Path]:
    """``presentation_state_gsps.dcm``: the accepted marks (and each image's window) as a
    Grayscale Softcopy Presentation State; none written when no mark is accepted yet."""
    from spineviewer.annotations.gsps import export_gsps

    marks = reviewed(study_marks(sources))
    if not marks:
        sources.skipped.append("GSPS: no accepted annotation (proposals are not presented)")
        return []
    headers = _headers(sources, marks)
    name = "presentation_state_gsps.dcm"
    return [write_dicom(sources, name, lambda path: export_gsps(marks, headers, path))]


def export_study(
    doc: AnnotationDocument,
    stacks: Sequence[Stack],
    out_dir: str | Path,
    formats: Sequence[str] = registry.defaults(registry.Family.ANNOTATIONS),
    progress: Progress | None = None,
) -> ExportResult:
    """Write ``formats`` of the study's annotations into ``out_dir`` (created).

    ``annotations-sr`` (or ``sr``) -> ``annotations_sr.dcm``; ``seg`` -> ``seg/SEG_<n>.dcm``;
    ``coco`` -> ``coco/``; ``kos`` -> ``key_images_kos.dcm``; ``gsps`` ->
    ``presentation_state_gsps.dcm``. ValueError for an unknown format (naming the valid ones)
    or a folder inside the source images.
    """
    chosen = registry.parse(formats, registry.Family.ANNOTATIONS)
    annotations = exportable(doc)
    result = ExportResult(exported=len(annotations))
    if not annotations:
        result.skipped.append("no annotations to export (rejected ones are left out)")
        return result
    report = progress or (lambda done, total, text: None)
    sources = registry.Sources(Path(out_dir), stacks=stacks, document=doc)
    sources.out_dir.mkdir(parents=True, exist_ok=True)
    for step, fmt in enumerate(chosen):
        report(step, len(chosen), f"Exporting {fmt.label}")
        result.files.extend(registry.write(fmt, sources))
    result.skipped += sources.skipped
    report(len(chosen), len(chosen), "Exported")
    return result


def import_study_sr(path: str | Path, stacks: Sequence[Stack]) -> list[Annotation]:
    """Annotations read from an SR, with image refs and patient points from ``stacks``."""
    from spineviewer.annotations.sr_read import import_sr

    return import_sr(path, planes=frame_planes(stacks), images=image_refs(stacks))
