"""Writing a report's files: ``report.json``, ``report.html``, ``report.pdf``, each atomically
(a partial file renamed over the target, so a reader never sees half a report)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

from spineviewer.ai.findings import Findings
from spineviewer.annotations import AnnotationDocument
from spineviewer.dicom import Study
from spineviewer.reports.html import render_html
from spineviewer.reports.model import Report

__all__ = ["FORMATS", "with_key_images", "write_report"]

FORMATS = ("json", "html", "pdf")


def _write_text(path: Path, text: str) -> Path:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path


def write_report(
    report: Report, out_dir: str | Path, formats: Sequence[str] = FORMATS
) -> list[Path]:
    """The files of ``report`` in ``out_dir`` (created), in the order of ``formats``."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(
            f"unknown report format {', '.join(unknown)}; choose from {', '.join(FORMATS)}"
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


def with_key_images(
    report: Report,
    study: Study,
    findings: Findings,
    document: AnnotationDocument | None,
    out_dir: str | Path,
) -> Report:
    """``report`` with its key images, rendered into ``out_dir/images`` with the study's
    annotations (the AI's proposals when nobody annotated the study)."""
    from spineviewer.annotations.proposals import proposals_from_findings
    from spineviewer.reports.images import render_key_images

    if document is not None and len(document):
        annotations = list(document)
    else:
        stacks = [st for series in study.series for st in series.stacks]
        annotations = proposals_from_findings(findings, stacks)
    images = render_key_images(study, findings, annotations, Path(out_dir) / "images")
    if report.anonymised:  # the file names are reference enough; no instance UIDs
        images = [replace(k, sop_instance_uid="") for k in images]
    return replace(report, key_images=tuple(asdict(k) for k in images))
