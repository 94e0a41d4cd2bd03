"""The report's words in its DICOM SR: the reader's impression and the findings as sentences.

TID 1500 (Measurement Report) ends with an optional "Qualitative Evaluations" container
(C0034375, UMLS) of CODE and TEXT items; the findings SR (``report_sr.dcm``) puts there

- TEXT (121073, DCM, "Impression"): the reader's impression, when there is one;
- TEXT (121071, DCM, "Finding"): one per sentence of
  :func:`spineviewer.reports.sentences.report_sentences`, in the report's order;
- TEXT (121069, DCM, "Previous Finding"): with a prior study compared, one per row of the
  comparison (:attr:`spineviewer.reports.comparison.Comparison.sentences`: the finding or
  measurement on both dates).

Text that is not ASCII (the sentences' dash and degree sign, a name's accents) makes the SR
UTF-8 (SpecificCharacterSet ``ISO_IR 192``).

:func:`report_text` reads them back (tests, and any tool checking what was signed).
"""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
from highdicom.sr import CodedConcept
from pydicom import dcmread
from pydicom.dataset import Dataset

from spineviewer.reports.study_report import Report

__all__ = [
    "FINDING",
    "IMPRESSION",
    "PREVIOUS_FINDING",
    "QUALITATIVE_EVALUATIONS",
    "add_report_text",
    "report_text",
]

IMPRESSION = CodedConcept("121073", "DCM", "Impression")
FINDING = CodedConcept("121071", "DCM", "Finding")
PREVIOUS_FINDING = CodedConcept("121069", "DCM", "Previous Finding")
QUALITATIVE_EVALUATIONS = CodedConcept("C0034375", "UMLS", "Qualitative Evaluations")
_CONTAINS = hd.sr.RelationshipTypeValues.CONTAINS


def _text(name: CodedConcept, value: str) -> hd.sr.TextContentItem:
    return hd.sr.TextContentItem(name=name, value=value, relationship_type=_CONTAINS)


def _previous(report: Report) -> tuple[str, ...]:
    return report.comparison.sentences if report.comparison is not None else ()


def add_report_text(path: Path, report: Report) -> Path:
    """Add ``report``'s impression and sentences to the SR at ``path`` (rewritten in place;
    left as it is when there is neither)."""
    items = [
        *([_text(IMPRESSION, report.impression["text"])] if report.impression else []),
        *(_text(FINDING, sentence) for sentence in report.sentences),
        *(_text(PREVIOUS_FINDING, s) for s in _previous(report)),
    ]
    if not items:
        return path
    ds = dcmread(path)
    container = hd.sr.ContainerContentItem(
        name=QUALITATIVE_EVALUATIONS, relationship_type=_CONTAINS
    )
    container.ContentSequence = hd.sr.ContentSequence(items)
    ds.ContentSequence.append(container)
    if not all(item.TextValue.isascii() for item in items):  # a dash, a degree sign, a name
        ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: every value re-encoded on writing
    ds.save_as(path, enforce_file_format=True)
    return path


def _is(item: Dataset, concept: CodedConcept) -> bool:
    names = item.get("ConceptNameCodeSequence") or []
    return bool(names) and (names[0].CodeValue, names[0].CodingSchemeDesignator) == (
        concept.value,
        concept.scheme_designator,
    )


def report_text(ds: Dataset) -> dict[str, list[str]]:
    """``{"impression": [...], "findings": [...], "previous": [...]}``: the TEXT items of
    the SR ``ds``'s Qualitative Evaluations containers (empty lists when it has none)."""
    out: dict[str, list[str]] = {"impression": [], "findings": [], "previous": []}
    for container in ds.get("ContentSequence", []):
        if not _is(container, QUALITATIVE_EVALUATIONS):
            continue
        for item in container.get("ContentSequence", []):
            if _is(item, IMPRESSION):
                out["impression"].append(str(item.TextValue))
            elif _is(item, FINDING):
                out["findings"].append(str(item.TextValue))
            elif _is(item, PREVIOUS_FINDING):
                out["previous"].append(str(item.TextValue))
    return out
