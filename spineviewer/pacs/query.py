"""What a user asks a PACS for (:class:`Query`) and what comes back (:class:`StudyMatch`,
:class:`SeriesMatch`), the same for DIMSE C-FIND and DICOMweb QIDO-RS."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from pydicom.dataset import Dataset

from spineviewer.pacs.errors import PacsError

__all__ = [
    "Query",
    "RetrieveResult",
    "SeriesMatch",
    "StudyMatch",
    "by_number",
    "date_range",
    "newest_first",
]

#: ``progress(done, total, text)`` and ``cancelled() -> bool`` of long PACS operations.
Progress = Callable[[int, int, str], None]
Cancelled = Callable[[], bool]

_DATE = re.compile(r"^\d{8}$")


def date_range(start: str = "", end: str = "") -> str:
    """A DICOM date range (``YYYYMMDD-YYYYMMDD``, either side open); '' for no limit."""
    for value in (start, end):
        if value and not _DATE.match(value):
            raise PacsError(f"date {value!r}: write it as YYYYMMDD")
    if start and end and start > end:
        raise PacsError(f"the date range {start}-{end} ends before it starts")
    if not start and not end:
        return ""
    return start if start == end else f"{start}-{end}"


@dataclass(frozen=True)
class Query:
    """Study-level matching keys; '' matches anything. ``patient_name`` takes ``*`` and ``?``
    wildcards; dates are ``YYYYMMDD``."""

    patient_name: str = ""
    patient_id: str = ""
    accession: str = ""
    date_from: str = ""
    date_to: str = ""
    modality: str = ""
    study_uid: str = ""

    def dates(self) -> str:
        return date_range(self.date_from, self.date_to)

    def identifier(self) -> Dataset:
        """The C-FIND identifier at STUDY level (with the return keys we show)."""
        ds = Dataset()
        ds.QueryRetrieveLevel = "STUDY"
        ds.PatientName = self.patient_name
        ds.PatientID = self.patient_id
        ds.AccessionNumber = self.accession
        ds.StudyDate = self.dates()
        ds.StudyTime = ""
        ds.ModalitiesInStudy = self.modality
        ds.StudyInstanceUID = self.study_uid
        ds.StudyDescription = ""
        ds.PatientBirthDate = ""
        ds.NumberOfStudyRelatedSeries = ""
        ds.NumberOfStudyRelatedInstances = ""
        return ds

    def qido_params(self) -> dict[str, str]:
        """The same keys as QIDO-RS query parameters (only those set)."""
        params = {
            "PatientName": self.patient_name,
            "PatientID": self.patient_id,
            "AccessionNumber": self.accession,
            "StudyDate": self.dates(),
            "ModalitiesInStudy": self.modality,
            "StudyInstanceUID": self.study_uid,
        }
        return {k: v for k, v in params.items() if v}


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    if value is None:
        return ""
    if keyword == "ModalitiesInStudy" and not isinstance(value, str):
        return "\\".join(str(v) for v in value)
    return str(value)


def _count(ds: Dataset, keyword: str) -> int | None:
    value = ds.get(keyword)
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class StudyMatch:
    """One study a PACS reported."""

    study_uid: str
    patient_name: str
    patient_id: str
    birth_date: str
    study_date: str
    study_time: str
    accession: str
    description: str
    modalities: str
    series_count: int | None
    image_count: int | None

    @classmethod
    def from_dataset(cls, ds: Dataset) -> StudyMatch:
        return cls(
            study_uid=_text(ds, "StudyInstanceUID"),
            patient_name=_text(ds, "PatientName"),
            patient_id=_text(ds, "PatientID"),
            birth_date=_text(ds, "PatientBirthDate"),
            study_date=_text(ds, "StudyDate"),
            study_time=_text(ds, "StudyTime"),
            accession=_text(ds, "AccessionNumber"),
            description=_text(ds, "StudyDescription"),
            modalities=_text(ds, "ModalitiesInStudy"),
            series_count=_count(ds, "NumberOfStudyRelatedSeries"),
            image_count=_count(ds, "NumberOfStudyRelatedInstances"),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SeriesMatch:
    """One series of a study a PACS reported."""

    study_uid: str
    series_uid: str
    modality: str
    number: str
    description: str
    image_count: int | None

    @classmethod
    def from_dataset(cls, ds: Dataset) -> SeriesMatch:
        return cls(
            study_uid=_text(ds, "StudyInstanceUID"),
            series_uid=_text(ds, "SeriesInstanceUID"),
            modality=_text(ds, "Modality"),
            number=_text(ds, "SeriesNumber"),
            description=_text(ds, "SeriesDescription"),
            image_count=_count(ds, "NumberOfSeriesRelatedInstances"),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def newest_first(matches: list[StudyMatch]) -> list[StudyMatch]:
    """Studies sorted by date and time, newest first."""
    return sorted(matches, key=lambda m: (m.study_date, m.study_time), reverse=True)


def by_number(matches: list[SeriesMatch]) -> list[SeriesMatch]:
    """Series sorted by series number (those without one last), then UID."""
    return sorted(
        matches, key=lambda m: (int(m.number) if m.number.isdigit() else 1 << 30, m.series_uid)
    )


def series_identifier(study_uid: str) -> Dataset:
    """The C-FIND identifier at SERIES level for one study."""
    ds = Dataset()
    ds.QueryRetrieveLevel = "SERIES"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = ""
    ds.Modality = ""
    ds.SeriesNumber = ""
    ds.SeriesDescription = ""
    ds.NumberOfSeriesRelatedInstances = ""
    return ds


@dataclass(frozen=True)
class RetrieveResult:
    """What a retrieve brought: the instances written and what the PACS said was expected.

    ``complete`` is False whenever fewer arrived than expected or any failed: the caller
    says "partial", never shows the study as whole."""

    study_uid: str
    folder: str
    received: int
    expected: int | None
    failed: int = 0
    warnings: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return self.failed == 0 and (self.expected is None or self.received >= self.expected)

    def summary(self) -> str:
        of = f" of {self.expected}" if self.expected is not None else ""
        text = f"{self.received}{of} instances of study {self.study_uid} in {self.folder}"
        if not self.complete:
            text = f"PARTIAL retrieve: {text}" + (f", {self.failed} failed" if self.failed else "")
        return text
