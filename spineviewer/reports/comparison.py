"""A report beside its prior: each finding and measurement of the current study next to the
prior study's, with both study dates (issue 22, item 1: "the report lists both dates'
measurements").

:func:`compare_reports` matches two reports of one patient row by row:

- the discs by level (``L4-L5``): the state reported (a rejected proposal reads ``rejected``);
- the vertebrae by label, when the fracture model said something of either: the fracture
  answer and the height loss (one within the measurement's scatter,
  :data:`~spineviewer.reports.sentences.NO_LOSS`, is left out);
- the Cobb angle;
- the reader's measurements by kind and label (``length "canal"``; unlabelled ones by their
  order among the same kind), with the change when both values are numbers in one unit
  (``+2.1 mm``).

A row missing on one date reads ``—`` there (``not measured``). The rows keep the current
report's order, then what only the prior has. :func:`with_prior` puts the comparison in the
current report (:attr:`~spineviewer.reports.study_report.Report.comparison`); JSON, HTML,
PDF and the findings SR (TEXT items "Previous Finding", :mod:`spineviewer.reports.sr_text`)
carry it. An anonymised report has no dates: the columns read ``current`` and ``prior``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from spineviewer.reports.compared import ABSENT, ComparedRow, Comparison
from spineviewer.reports.sentences import NO_LOSS

if TYPE_CHECKING:
    from spineviewer.dicom import Study
    from spineviewer.reports.report_rows import MeasurementRow
    from spineviewer.reports.study_report import Report

__all__ = ["ABSENT", "ComparedRow", "Comparison", "compare_reports", "prior_study", "with_prior"]

_NUMBER = re.compile(r"^(-?\d+(?:\.\d+)?)\s*(.*)$")


def _number(text: str) -> tuple[float, str] | None:
    found = _NUMBER.match(text.strip())
    return (float(found.group(1)), found.group(2)) if found else None


def _change(current: str, prior: str) -> str:
    if current == ABSENT:
        return "gone"
    if prior == ABSENT:
        return "new"
    now, then = _number(current), _number(prior)
    if now is not None and then is not None and now[1] == then[1]:
        diff = now[0] - then[0]
        return f"{diff:+.1f} {now[1]}".rstrip()
    return "unchanged" if current == prior else "changed"


def _merged(what: str, now: Mapping[str, str], then: Mapping[str, str]) -> list[ComparedRow]:
    """Rows of every key of ``now`` (in its order), then of those only ``then`` has."""
    keys = [*now, *(k for k in then if k not in now)]
    rows = []
    for key in keys:
        current, prior = now.get(key, ABSENT), then.get(key, ABSENT)
        rows.append(ComparedRow(what, key, current, prior, _change(current, prior)))
    return rows


def _discs(report: Report) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in report.levels:
        out.setdefault(row.level, "rejected" if row.review == "rejected" else row.state)
    return out


def _vertebrae(report: Report) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in report.vertebrae:
        if row.fracture is None and row.height_loss is None:
            continue
        lost = row.height_loss if (row.height_loss or 0.0) >= NO_LOSS else None  # else scatter
        loss = f", height loss {lost * 100:.0f} %" if lost is not None else ""
        text = f"{row.fracture or 'no answer'}{loss}"
        out.setdefault(f"{row.series} {row.label}".strip(), text)
    return out


def _cobb(report: Report) -> dict[str, str]:
    cobb: dict[str, Any] | None = report.cobb
    if not cobb:
        return {}
    return {"Cobb angle": f"{cobb['angle_deg']:.1f} deg"}


def _measurements(rows: Iterable[MeasurementRow]) -> dict[str, str]:
    """``kind "label"`` (``kind 2`` for the second unlabelled one of a kind) -> value; a
    key met again (two marks with one label) is numbered, ``length "canal" (2)``."""
    out: dict[str, str] = {}
    count: dict[str, int] = {}
    for row in rows:
        if row.label:
            base = f'{row.kind} "{row.label}"'
        else:
            count[row.kind] = count.get(row.kind, 0) + 1
            base = f"{row.kind} {count[row.kind]}"
        key, n = base, 1
        while key in out:
            n += 1
            key = f"{base} ({n})"
        out[key] = row.value
    return out


def compare_reports(current: Report, prior: Report) -> Comparison:
    """The rows of ``current`` beside ``prior`` (the same patient's earlier study)."""
    rows = [
        *_merged("disc", _discs(current), _discs(prior)),
        *_merged("vertebra", _vertebrae(current), _vertebrae(prior)),
        *_merged("cobb", _cobb(current), _cobb(prior)),
        *_merged(
            "measurement", _measurements(current.measurements), _measurements(prior.measurements)
        ),
    ]
    return Comparison(
        current_date=current.study.get("date", ""),
        prior_date=prior.study.get("date", ""),
        prior_study_uid=prior.study_uid,
        prior_description=prior.study.get("description", ""),
        rows=tuple(rows),
    )


def with_prior(current: Report, prior: Report | None) -> Report:
    """``current`` with its comparison to ``prior`` (unchanged when there is no prior)."""
    if prior is None:
        return current
    return replace(current, comparison=compare_reports(current, prior))


def prior_study(study: Study, candidates: Iterable[Study]) -> Study | None:
    """The prior of ``study`` among ``candidates``: another study of the same (non-empty)
    PatientID, the latest dated before it, else the latest other one; None when there is none."""
    pid = study.info.get("PatientID", "")
    others = [
        s for s in candidates if pid and s.uid != study.uid and s.info.get("PatientID", "") == pid
    ]
    if not others:
        return None
    date = study.info.get("StudyDate", "")
    older = [s for s in others if s.info.get("StudyDate", "") < date]
    return max(older or others, key=lambda s: s.info.get("StudyDate", ""))
