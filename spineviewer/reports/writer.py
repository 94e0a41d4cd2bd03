"""Writing a report's files: ``report.json``, ``report.html``, ``report.pdf``, each atomically
(a partial file renamed over the target, so a reader never sees half a report)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from pydicom import dcmread

from spineviewer.ai.findings import Findings
from spineviewer.annotations import AnnotationDocument
from spineviewer.annotations.deidentify import deidentified_document
from spineviewer.dicom import Study
from spineviewer.dicom.anonymise import Anonymiser
from spineviewer.reports.html import render_html
from spineviewer.reports.model import Report

__all__ = [
    "FORMATS",
    "REPORT_FORMATS",
    "with_key_images",
    "write_report",
    "write_report_set",
    "write_sr",
]

#: What :func:`write_report` writes from the report model alone.
REPORT_FORMATS = ("json", "html", "pdf")
#: Every format of ``spineviewer report``: ``sr`` (DICOM SR, needs the study and its
#: annotations) and ``epdf`` (the PDF as a DICOM Encapsulated PDF in the study) go beyond them.
FORMATS = (*REPORT_FORMATS, "sr", "epdf")


def _write_text(path: Path, text: str) -> Path:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path


def write_report(
    report: Report, out_dir: str | Path, formats: Sequence[str] = REPORT_FORMATS
) -> list[Path]:
    """The files of ``report`` in ``out_dir`` (created), in the order of ``formats``."""
    unknown = sorted(set(formats) - set(REPORT_FORMATS))
    if unknown:
        raise ValueError(
            f"unknown report format {', '.join(unknown)}; choose from {', '.join(REPORT_FORMATS)}"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    html = render_html(report) if {"html", "pdf"} & set(formats) else ""
    for fmt in formats:
        if fmt == "json":
            written.append(_write_text(out / "report.json", report.to_json()))
        elif fmt == "html":
            written.append(_write_text(out / "report.html", html))
        else:
            from spineviewer.reports.pdf import render_pdf

            title = f"Spine report {report.study.get('description', '')}".strip()
            written.append(render_pdf(html, out / "report.pdf", title))
    return written


def _annotations(
    study: Study, findings: Findings, document: AnnotationDocument | None
) -> list[Any]:
    """The study's annotations, or the AI's proposals when nobody annotated it."""
    from spineviewer.annotations.proposals import proposals_from_findings

    if document is not None and len(document):
        return list(document)
    stacks = [st for series in study.series for st in series.stacks]
    return proposals_from_findings(findings, stacks)


def write_sr(
    study: Study,
    findings: Findings,
    document: AnnotationDocument | None,
    out_dir: str | Path,
    anonymiser: Anonymiser | None = None,
    keep_annotation_text: bool = False,
) -> Path:
    """``report_sr.dcm``: a DICOM SR TID 1500 Measurement Report of the reviewed findings (the
    annotation exporter's; rejected marks are left out), de-identified by ``anonymiser``
    (PS3.15 Basic Profile, UIDs remapped) when one is given: then it names no reader and the
    annotations' free text reads ``[removed]`` unless ``keep_annotation_text``. The
    identifiable SR is only ever written to a private temporary folder, never ``out_dir``."""
    from spineviewer.annotations.export import exportable
    from spineviewer.annotations.frames import source_headers
    from spineviewer.annotations.sr import export_sr

    calibrations = dict(document.calibrations) if document is not None else {}
    doc = document
    if doc is None or not len(doc):
        doc = AnnotationDocument(study.uid, annotations=_annotations(study, findings, None))
    if anonymiser is not None:
        doc = deidentified_document(doc, keep_annotation_text)
    marks = exportable(doc)
    if not marks:
        raise ValueError("nothing to put in an SR: no finding and no annotation")
    stacks = [st for series in study.series for st in series.stacks]
    headers = source_headers(stacks, only={a.image.sop_instance_uid for a in marks})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "report_sr.dcm"
    partial = out / ".report_sr.dcm.partial"
    if anonymiser is None:
        export_sr(marks, headers, partial, calibrations=calibrations)
    else:
        with tempfile.TemporaryDirectory(prefix="spineviewer-sr-") as private:
            private_sr = Path(private) / "report_sr.dcm"
            written = export_sr(marks, headers, private_sr, calibrations=calibrations)
            ds = anonymiser.dataset(dcmread(written))
        ds.save_as(partial, enforce_file_format=True)
    partial.replace(target)
    return target


def with_key_images(
    report: Report,
    study: Study,
    findings: Findings,
    document: AnnotationDocument | None,
    out_dir: str | Path,
    keep_annotation_text: bool = False,
) -> Report:
    """``report`` with its key images, rendered into ``out_dir/images`` with the study's
    annotations (the AI's proposals when nobody annotated the study); for an anonymised
    ``report`` the annotations' free text reads ``[removed]`` unless ``keep_annotation_text``."""
    from spineviewer.reports.images import render_key_images

    if report.anonymised and document is not None:
        document = deidentified_document(document, keep_annotation_text)
    annotations = _annotations(study, findings, document)
    images = render_key_images(study, findings, annotations, Path(out_dir) / "images")
    if report.anonymised:  # the file names are reference enough; no instance UIDs
        images = [replace(k, sop_instance_uid="") for k in images]
    return replace(report, key_images=tuple(asdict(k) for k in images))


def write_report_set(
    report: Report,
    study: Study,
    findings: Findings,
    document: AnnotationDocument | None,
    out_dir: str | Path,
    formats: Sequence[str],
    say: Callable[[str], None] | None = None,
    anonymiser: Anonymiser | None = None,
    keep_annotation_text: bool = False,
) -> list[Path]:
    """Every file of one study's report set: the key images (when HTML or PDF is asked for),
    the report in ``formats``, the DICOM SR when ``sr`` is among them and the Encapsulated PDF
    for ``epdf`` (both de-identified by ``anonymiser`` when given: pass the one ``report`` was
    built with, and the same ``keep_annotation_text``: anonymised, the annotations' free text
    reads ``[removed]`` in the key images and the SR unless it is True)."""
    tell = say or (lambda text: None)
    folder = Path(out_dir)
    images: list[Path] = []
    if {"html", "pdf", "epdf"} & set(formats):
        tell("Rendering the key images")
        report = with_key_images(report, study, findings, document, folder, keep_annotation_text)
        images = [folder / k["file"] for k in report.key_images]
    tell("Writing the report")
    plain = [f for f in formats if f in REPORT_FORMATS]
    if "epdf" in formats and "pdf" not in plain:
        plain.append("pdf")  # the Encapsulated PDF wraps it
    written = write_report(report, folder, plain)
    if "sr" in formats:
        tell("Writing the DICOM SR")
        written.append(
            write_sr(study, findings, document, folder, anonymiser, keep_annotation_text)
        )
    if "epdf" in formats:
        from spineviewer.reports.epdf import write_encapsulated_pdf

        tell("Writing the Encapsulated PDF")
        title = f"Spine report {report.study.get('description', '')}".strip()
        written.append(
            write_encapsulated_pdf(study, folder / "report.pdf", folder, anonymiser, title)
        )
    return written + images
