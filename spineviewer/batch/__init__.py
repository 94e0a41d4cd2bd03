"""Batch report exports: one job per study under the inputs, on a local process pool, with
resume, progress and a summary (no Qt; the PDF renderer runs offscreen in the workers)."""

from spineviewer.batch.jobs import JobResult, StudyJob, complete, run_job, study_jobs
from spineviewer.batch.runner import run_batch
from spineviewer.batch.summary import STATUSES, SUMMARY_COLUMNS, write_summary

__all__ = [
    "STATUSES",
    "SUMMARY_COLUMNS",
    "JobResult",
    "StudyJob",
    "complete",
    "run_batch",
    "run_job",
    "study_jobs",
    "write_summary",
]
