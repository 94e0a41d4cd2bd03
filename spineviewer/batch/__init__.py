"""Batch report exports: one job per study under the inputs, on a local process pool, with
resume, progress, a summary and the list of what was not read (no Qt; the PDF renderer runs
offscreen in the workers)."""

from spineviewer.batch.jobs import (
    JobResult,
    Plan,
    Problem,
    StudyJob,
    complete,
    finished,
    run_job,
    study_jobs,
)
from spineviewer.batch.runner import run_batch
from spineviewer.batch.summary import (
    SKIPPED_COLUMNS,
    STATUSES,
    SUMMARY_COLUMNS,
    write_skipped,
    write_summary,
)

__all__ = [
    "SKIPPED_COLUMNS",
    "STATUSES",
    "SUMMARY_COLUMNS",
    "JobResult",
    "Plan",
    "Problem",
    "StudyJob",
    "complete",
    "finished",
    "run_batch",
    "run_job",
    "study_jobs",
    "write_skipped",
    "write_summary",
]
