"""The batch's ``summary.csv`` and ``summary.json``: one row per study, per input in which no
study could be read, and per unreadable file of a study none of whose images could be read
(:class:`~spineviewer.batch.jobs.Problem`), with the columns of :data:`SUMMARY_COLUMNS`, the
one definition of both files (the JSON rows have exactly these keys, in this order).

A study's ``status`` is one of :data:`STATUSES`; ``findings`` never reads "all normal" for a
study where nothing was found: it says "nothing found" and the reason the pipelines gave.

``skipped.csv`` (:data:`SKIPPED_COLUMNS`) lists every file or folder under the inputs that was
not read, with the reason: DICOM files refused, files that are not DICOM, special files,
folders that could not be listed.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from spineviewer.annotations.store import write_atomic
from spineviewer.batch.jobs import JobResult, Problem, StudyJob
from spineviewer.dicom.errors import SkippedFile

__all__ = [
    "SKIPPED_COLUMNS",
    "STATUSES",
    "SUMMARY_COLUMNS",
    "Column",
    "summary_row",
    "write_skipped",
    "write_summary",
]


@dataclass(frozen=True)
class Column:
    """A column of the summary, and what it holds."""

    name: str
    doc: str


#: The columns of ``summary.csv`` and the keys of every ``summary.json`` row, in order.
SUMMARY_COLUMNS: tuple[Column, ...] = (
    Column(
        "study_uid",
        "the StudyInstanceUID (when anonymised its folder name, study- and 16 hex digits of a "
        "keyed hash; empty for an input holding no study or a file whose study is unknown)",
    ),
    Column("folder", "the study's report folder under OUT (empty when it has none)"),
    Column("status", "done, failed, skipped or unreadable (see STATUSES)"),
    Column(
        "findings",
        "the findings in brief, e.g. 'vertebrae 8; discs 6 (L4-L5 herniation)'; 'nothing "
        "found (...)' with the reason when no finding was made, never 'all normal'",
    ),
    Column(
        "warnings",
        "how many warnings the analysis gave (files left out of a step, labels to check, ...; "
        "they are listed in the report)",
    ),
    Column(
        "skipped_files",
        "how many DICOM files of the study could not be read at all (not counting files that "
        "are not DICOM)",
    ),
    Column("seconds", "how long the study took, to 0.01 s"),
    Column("error", "why the study failed, was skipped or is unreadable; empty when done"),
    Column("files", "how many report files the study's folder holds"),
)

#: What ``status`` says.
STATUSES: dict[str, str] = {
    "done": "analysed and its report set written",
    "failed": "an error stopped its analysis or its report set (see error)",
    "skipped": "not run this time: its report set was complete already (--resume), or the "
    "batch was interrupted before it",
    "unreadable": "no image of it could be read (one row per unreadable file of it, with the "
    "reason), or the input holds no DICOM study, or a folder could not be listed",
}

#: The columns of ``skipped.csv``.
SKIPPED_COLUMNS: tuple[Column, ...] = (
    Column("path", "the file or folder not read (a zip member as ARCHIVE!MEMBER)"),
    Column("reason", "why: not DICOM, truncated pixel data, a FIFO, cannot be listed, ..."),
)


def summary_row(result: JobResult, job: StudyJob | None = None) -> dict[str, Any]:
    """``result`` as a summary row (the keys of :data:`SUMMARY_COLUMNS`)."""
    assert result.status in STATUSES, result.status
    values: dict[str, Any] = {
        "study_uid": job.label if job is not None and job.anonymize else result.study_uid,
        "folder": job.out_dir.name if job is not None else "",
        "status": result.status,
        "findings": "; ".join(f"{k} {v}" for k, v in result.findings.items()),
        "warnings": result.warnings,
        "skipped_files": result.skipped_files,
        "seconds": round(float(result.seconds), 2),
        "error": result.error,
        "files": len(result.files),
    }
    return {column.name: values[column.name] for column in SUMMARY_COLUMNS}


def write_summary(
    results: Sequence[JobResult | None],
    jobs: Sequence[StudyJob],
    out_dir: Path,
    problems: Sequence[Problem | tuple[str, str]] = (),
) -> list[Path]:
    """``summary.csv`` and ``summary.json`` (atomically): every study (those never run say
    so), then every input path that gave no study (``problems``; a plain (path, reason) is
    an input holding no study)."""
    rows = []
    for job, result in zip(jobs, results, strict=True):
        if result is None:
            result = JobResult(job.study_uid, "skipped", error="not run: the batch was interrupted")
        rows.append(summary_row(result, job))
    for problem in problems:
        if not isinstance(problem, Problem):
            problem = Problem(*problem)
        error = f"{problem.path}: {problem.reason}"
        rows.append(
            summary_row(
                JobResult(problem.study, "unreadable", error=error, skipped_files=problem.files)
            )
        )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[c.name for c in SUMMARY_COLUMNS])
    writer.writeheader()
    writer.writerows(rows)
    return [
        _write(out_dir, "summary.csv", buffer.getvalue()),
        _write(out_dir, "summary.json", json.dumps(rows, indent=2) + "\n"),
    ]


def write_skipped(skipped: Sequence[SkippedFile], out_dir: Path) -> Path:
    """``skipped.csv`` (atomically): every file or folder not read, and why (a header only
    when everything was read)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.name for c in SKIPPED_COLUMNS])
    writer.writerows((s.path, s.reason) for s in skipped)
    return _write(out_dir, "skipped.csv", buffer.getvalue())


#: Where an anonymised batch keeps the input paths its outputs name by label only (owner-only,
#: beside the anonymisation key: the operator's, not for sharing).
PRIVATE_PATHS = ".input-paths.csv"


def path_label(key: bytes, path: str) -> str:
    """How an anonymised output names an input file or folder: ``input-`` and 12 hex digits of
    a keyed hash of its path (folder and file names may name the patient)."""
    digest = hmac.new(key, b"batch-input:" + path.encode("utf-8", "replace"), hashlib.sha256)
    return f"input-{digest.hexdigest()[:12]}"


def masked_paths(
    problems: Sequence[Problem], skipped: Sequence[SkippedFile], key: bytes, out_dir: Path
) -> tuple[list[Problem], list[SkippedFile]]:
    """``problems`` and ``skipped`` with every path replaced by its :func:`path_label`, and
    the labels' real paths written to ``out_dir / PRIVATE_PATHS`` (mode 0600)."""
    paths = dict.fromkeys([*(p.path for p in problems), *(f.path for f in skipped)])
    labels = {path: path_label(key, path) for path in paths}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["label", "path"])
    writer.writerows((label, path) for path, label in labels.items())
    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(out_dir / PRIVATE_PATHS, buffer.getvalue().encode())  # mkstemp: mode 0600
    return (
        [replace(p, path=labels[p.path]) for p in problems],
        [replace(f, path=labels[f.path]) for f in skipped],
    )


def _write(out_dir: Path, name: str, text: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = out_dir / f".{name}.partial"
    partial.write_text(text, encoding="utf-8")
    partial.replace(out_dir / name)
    return out_dir / name
