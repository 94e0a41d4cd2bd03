"""A report's comparison with the prior study, as data: the two dates and the rows.

:func:`spineviewer.reports.comparison.compare_reports` builds it from two reports;
:attr:`spineviewer.reports.study_report.Report.comparison` carries it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ABSENT", "ComparedRow", "Comparison"]

#: What a row shows for the study that lacks it.
ABSENT = "—"


@dataclass(frozen=True)
class ComparedRow:
    """One finding or measurement of both studies: ``what`` is ``disc``, ``vertebra``,
    ``cobb`` or ``measurement``; ``current`` and ``prior`` its text on each date
    (:data:`ABSENT` when that study lacks it); ``change`` the difference of two numbers in one
    unit (``+2.1 mm``), ``changed`` / ``unchanged`` for words, ``new`` / ``gone``, or ""."""

    what: str
    label: str
    current: str
    prior: str
    change: str = ""


@dataclass(frozen=True)
class Comparison:
    """The comparison of a report with the prior study's: the two dates (ISO 8601; "" in an
    anonymised report), the prior's study UID (the anonymiser's when anonymised) and
    description, and the rows."""

    current_date: str
    prior_date: str
    prior_study_uid: str
    prior_description: str
    rows: tuple[ComparedRow, ...]

    @property
    def current_heading(self) -> str:
        """The current study's column: its date, else ``current``."""
        return self.current_date or "current"

    @property
    def prior_heading(self) -> str:
        """The prior study's column: its date, else ``prior``."""
        return self.prior_date or "prior"

    @property
    def sentences(self) -> tuple[str, ...]:
        """One sentence per row: ``L4-L5 disc: herniation on 2024-06-01, normal on 2023-06-02
        (prior; changed)``."""
        out = []
        for row in self.rows:
            name = row.label if row.what == "measurement" else f"{row.label} {row.what}"
            change = f"; {row.change}" if row.change else ""
            out.append(
                f"{name}: {row.current} on {self.current_heading}, "
                f"{row.prior} on {self.prior_heading} (prior{change})"
            )
        return tuple(out)
