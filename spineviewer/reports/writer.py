"""Writing a report's files: ``report.json``, ``report.html``, ``report.pdf``, each atomically
(a partial file renamed over the target, so a reader never sees half a report)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from spineviewer.reports.html import render_html
from spineviewer.reports.model import Report

__all__ = ["FORMATS", "write_report"]

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
