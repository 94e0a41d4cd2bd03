"""Exporting and importing one study's annotations: DICOM SR, DICOM SEG, a COCO training set.

The viewer's File menu and the command line both call these; they read the study's stacks
(headers, and pixels for the training set) and never write anywhere near the source images.
Rejected annotations stay in the workspace document but are left out of every export.
The writers (highdicom) are imported when an export runs, not when the menu or the command
line is built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spineviewer.annotations.document import AnnotationDocument
from spineviewer.annotations.frames import frame_planes, image_refs, source_headers
from spineviewer.annotations.model import Annotation, ImageRef, Status
from spineviewer.dicom import Stack, StackPixels

FORMATS = ("sr", "seg", "coco")

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


def export_study(
    doc: AnnotationDocument,
    stacks: Sequence[Stack],
    out_dir: str | Path,
    formats: Sequence[str] = FORMATS,
    progress: Progress | None = None,
) -> ExportResult:
    """Write ``formats`` of the study's annotations into ``out_dir`` (created).

    ``sr`` -> ``annotations_sr.dcm``; ``seg`` -> ``seg/SEG_<n>.dcm``; ``coco`` -> ``coco/``.
    ValueError for an unknown format or a folder inside the source images.
    """
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown export format(s) {sorted(unknown)}; expected {FORMATS}")
    out = Path(out_dir)
    annotations = exportable(doc)
    result = ExportResult(exported=len(annotations))
    if not annotations:
        result.skipped.append("no annotations to export (rejected ones are left out)")
        return result
    from spineviewer.annotations.coco import export_training_set
    from spineviewer.annotations.seg import export_seg
    from spineviewer.annotations.sr import export_sr

    report = progress or (lambda done, total, text: None)
    wanted = {a.image.sop_instance_uid for a in annotations}
    headers = source_headers(stacks, only=wanted)
    out.mkdir(parents=True, exist_ok=True)
    for step, fmt in enumerate(formats):
        report(step, len(formats), f"Exporting {fmt.upper()}")
        if fmt == "sr":
            target = out / "annotations_sr.dcm"
            result.files.append(
                export_sr(annotations, headers, target, calibrations=doc.calibrations)
            )
        elif fmt == "seg":
            result.files.extend(export_seg(annotations, headers, out / "seg", author=doc.author))
        else:
            written = export_training_set(annotations, image_getter(stacks), out / "coco")
            result.files += [written.coco_json, written.labels_csv]
            result.skipped += list(written.skipped)
    report(len(formats), len(formats), "Exported")
    return result


def import_study_sr(path: str | Path, stacks: Sequence[Stack]) -> list[Annotation]:
    """Annotations read from an SR, with image refs and patient points from ``stacks``."""
    from spineviewer.annotations.sr import import_sr

    return import_sr(path, planes=frame_planes(stacks), images=image_refs(stacks))
