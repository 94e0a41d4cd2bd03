"""Writing a report's files: ``report.json``, ``report.html``, ``report.pdf``, each atomically
(a partial file renamed over the target, so a reader never sees half a report), and the rest
of a study's report set (DICOM SR, Encapsulated PDF, KOS, GSPS): the registry's ``report``
family (:mod:`spineviewer.formats`), whose writers for the report itself are here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from spineviewer import formats as registry
from spineviewer.ai.findings import Findings
from spineviewer.annotations import AnnotationDocument
from spineviewer.annotations.deidentify import deidentified_document
from spineviewer.dicom import Study
from spineviewer.dicom.anonymise import Anonymiser
from spineviewer.formats import Family, Need, Sources
from spineviewer.reports.html import render_html
from spineviewer.reports.study_report import Report

__all__ = [
    "FORMATS",
    "REPORT_FORMATS",
    "with_key_images",
    "write_report",
    "write_report_set",
    "write_sr",
]

#: Every format of ``spineviewer report`` (the registry's ``report`` family,
#: :mod:`spineviewer.formats`).
FORMATS = registry.names(Family.REPORT)
#: What :func:`write_report` writes from the report model alone.
REPORT_FORMATS = tuple(
    f.name for f in registry.of(Family.REPORT) if f.needs <= {Need.REPORT, Need.KEY_IMAGES}
)


def _write_text(path: Path, text: str) -> Path:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path


def _title(report: Report) -> str:
    return f"Spine report {report.study.get('description', '')}".strip()


def write_json(sources: Sources) -> list[Path]:
    """``report.json``."""
    return [_write_text(sources.out_dir / "report.json", sources.report.to_json())]


def write_html(sources: Sources) -> list[Path]:
    """``report.html`` (its key images are the report's, drawn beforehand)."""
    return [_write_text(sources.out_dir / "report.html", render_html(sources.report))]


def write_pdf(sources: Sources) -> list[Path]:
    """``report.pdf``, from the HTML."""
    from spineviewer.reports.pdf import render_pdf

    report: Report = sources.report
    return [render_pdf(render_html(report), sources.out_dir / "report.pdf", _title(report))]


def write_epdf(sources: Sources) -> list[Path]:
    """``report_pdf.dcm``: the PDF report as a DICOM Encapsulated PDF in the study (the
    PDF written too, once per run)."""
    from spineviewer.reports.epdf import write_encapsulated_pdf

    if sources.study is None:
        raise ValueError("epdf needs the study's images")
    pdf = registry.write(registry.get("pdf"), sources)
    epdf = write_encapsulated_pdf(
        sources.study, pdf[0], sources.out_dir, sources.anonymiser, _title(sources.report)
    )
    return [*pdf, epdf]


def write_findings_sr(sources: Sources) -> list[Path]:
    """``report_sr.dcm`` (see :func:`write_sr`)."""
    if sources.study is None or sources.findings is None:
        raise ValueError("findings-sr needs the study and its findings")
    return [
        write_sr(
            sources.study,
            sources.findings,
            sources.document,
            sources.out_dir,
            sources.anonymiser,
            sources.keep_annotation_text,
            sources.report,
        )
    ]


def write_report(
    report: Report, out_dir: str | Path, formats: Sequence[str] = REPORT_FORMATS
) -> list[Path]:
    """The files of ``report`` in ``out_dir`` (created), in the order of ``formats``."""
    unknown = sorted(set(formats) - set(REPORT_FORMATS))
    if unknown:
        raise ValueError(
            f"unknown report format {', '.join(unknown)}; choose from {', '.join(REPORT_FORMATS)}"
        )
    sources = Sources(Path(out_dir), report=report)
    sources.out_dir.mkdir(parents=True, exist_ok=True)
    return [p for fmt in formats for p in _registry_write(fmt, sources)]


def _registry_write(name: str, sources: Sources) -> list[Path]:
    return registry.write(registry.get(name), sources)


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
    report: Report | None = None,
) -> Path:
    """``report_sr.dcm``: a DICOM SR TID 1500 Measurement Report of the reviewed findings (the
    annotation exporter's; rejected marks are left out), de-identified by ``anonymiser``
    (PS3.15 Basic Profile, UIDs remapped) when one is given: then it names no reader and the
    annotations' free text reads ``[removed]`` unless ``keep_annotation_text``. The
    identifiable SR is only ever written to a private temporary folder, never ``out_dir``.

    Its text is the report's (``report``, else one built here the same way): the reader's
    impression and the findings as sentences, in the TID 1500 Qualitative Evaluations
    container (:func:`spineviewer.reports.sr_text.add_report_text`)."""
    from spineviewer.annotations.export import study_marks, write_dicom
    from spineviewer.annotations.frames import source_headers
    from spineviewer.annotations.sr import export_sr
    from spineviewer.reports.sr_text import add_report_text
    from spineviewer.reports.study_report import build_report

    if report is None:
        report = build_report(
            study, findings, document, anonymiser=anonymiser,
            keep_annotation_text=keep_annotation_text,
        )  # fmt: skip
    calibrations = dict(document.calibrations) if document is not None else {}
    sources = Sources(
        Path(out_dir), study=study, findings=findings, document=document,
        anonymiser=anonymiser, keep_annotation_text=keep_annotation_text,
    )  # fmt: skip
    marks = study_marks(sources)
    if not marks:
        raise ValueError("nothing to put in an SR: no finding and no annotation")
    headers = source_headers(sources.stacks, only={a.image.sop_instance_uid for a in marks})
    return write_dicom(
        sources,
        "report_sr.dcm",
        lambda path: add_report_text(
            export_sr(marks, headers, path, calibrations=calibrations), report
        ),
    )


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
    left_out: Callable[[str], None] | None = None,
) -> list[Path]:
    """Every file of one study's report set: the key images (when HTML or PDF is asked for),
    the report in ``formats``, the DICOM SR when ``sr`` is among them and the Encapsulated PDF
    for ``epdf`` (both de-identified by ``anonymiser`` when given: pass the one ``report`` was
    built with, and the same ``keep_annotation_text``: anonymised, the annotations' free text
    reads ``[removed]`` in the key images and the SR unless it is True). ``say`` hears each
    step; what a writer left out (a GSPS of a study with no accepted mark) goes to
    ``left_out`` when given, else to ``say`` too."""
    tell = say or (lambda text: None)
    chosen = registry.parse(formats, Family.REPORT)
    folder = Path(out_dir)
    images: list[Path] = []
    if any(Need.KEY_IMAGES in f.needs for f in chosen):
        tell("Rendering the key images")
        report = with_key_images(report, study, findings, document, folder, keep_annotation_text)
        images = [folder / k["file"] for k in report.key_images]
    sources = Sources(
        folder, study=study, findings=findings, document=document, report=report,
        anonymiser=anonymiser, keep_annotation_text=keep_annotation_text,
    )  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in chosen:
        tell(f"Writing the {fmt.label}")
        written += [p for p in registry.write(fmt, sources) if p not in written]
    for note in sources.skipped:  # a GSPS of a study with no accepted mark, ...
        (left_out or tell)(note)
    return written + images
