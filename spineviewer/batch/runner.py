"""Running the study jobs of a batch on a local process pool (or a Dask cluster), with
progress, resume and a summary.

- ``resume``: a study whose folder holds a complete report set of that study (its manifest's
  files all present with their hashes, and the StudyInstanceUID it records the study's,
  :func:`~spineviewer.batch.jobs.finished`) is not done again; it is listed as ``skipped``,
  with the counts and findings of the run that made it. A folder holding another study's
  set is done again.
- Progress on stderr: a bar with the count, the rate and an ETA on a terminal, one line per
  finished study otherwise. Studies resumed from an earlier run are counted, but the rate
  and ETA are those of the studies run this time.
- Ctrl+C: the studies not started are cancelled, the running ones end, no partial file is
  left (every file is written atomically and the manifest last); the summary says which
  studies were done.
- ``summary.csv``, ``summary.json`` and ``skipped.csv`` in the output folder
  (:mod:`spineviewer.batch.summary` defines their columns). The exit status is non-zero when
  any study failed or is unreadable, or an input path gave no study.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import replace
from typing import TextIO

from spineviewer.batch.jobs import JobResult, Problem, StudyJob, finished, run_job
from spineviewer.batch.summary import write_summary
from spineviewer.dicom.errors import SkippedFile

__all__ = ["counts", "failed", "last_line", "not_read", "run_batch", "write_summary"]

#: Statuses shown above the progress bar and counted as a failed batch.
FAILED = ("failed", "unreadable")

#: ``report(result, done, total, elapsed, ran)``: ``done`` of ``total`` studies are finished,
#: ``ran`` of them run this time in ``elapsed`` seconds (``elapsed`` is None for a study
#: resumed from an earlier run: no pace to tell).
Report = Callable[[JobResult, int, int, float | None, int | None], None]


#: Characters of the progress bar.
BAR_WIDTH = 30


def progress_bar(done: int, total: int) -> str:
    """``[#####-----]`` for ``done`` of ``total``."""
    filled = round(BAR_WIDTH * done / total) if total else BAR_WIDTH
    return "[" + "#" * filled + "-" * (BAR_WIDTH - filled) + "]"


def _progress_line(stream: TextIO) -> Report:
    """On a terminal one bar, redrawn in place (failures stay above it); elsewhere (a log, a
    pipe) one line per finished study."""
    terminal = stream.isatty()

    def report(
        result: JobResult, done: int, total: int, elapsed: float | None, ran: int | None = None
    ) -> None:
        ran = done if ran is None else ran
        status = result.status + (f": {result.error}" if result.error else "")
        pace = ""
        if elapsed is not None and ran > 0 and elapsed > 0:
            rate = ran / elapsed * 60
            eta = (total - done) * elapsed / ran
            pace = f" ({rate:.1f} studies/min, ETA {eta:.0f} s)"
        if not terminal:
            stream.write(f"[{done}/{total}] {result.study_uid[-24:]} {status}{pace}\n")
        else:
            if result.status in FAILED:
                stream.write(f"\r\033[K{result.study_uid[-24:]} {status}\n")
            stream.write(f"\r\033[K{progress_bar(done, total)} {done}/{total}{pace}")
            if done == total:
                stream.write("\n")
        stream.flush()

    return report


def die_with_parent() -> None:
    """Pool worker initialiser: on Linux the kernel kills the worker when the batch process
    dies, even by SIGKILL, so no orphan goes on writing into OUT beside a resumed run."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the call: nothing to work for
        os._exit(1)


def _shown(job: StudyJob, result: JobResult) -> JobResult:
    """The result as the progress log shows it: an anonymised study by its folder label, never
    by its UID."""
    return replace(result, study_uid=job.label or "study") if job.anonymize else result


def run_batch(
    jobs: Sequence[StudyJob],
    workers: int = 1,
    resume: bool = False,
    report: Report | None = None,
    scheduler: str | None = None,
) -> list[JobResult]:
    """Every job's result, in job order (a KeyboardInterrupt is re-raised after cleanup, with
    the results so far attached as ``exc.results``). The jobs run here (``workers`` 1), on a
    local process pool, or on the Dask cluster whose scheduler is at ``scheduler``."""
    report = report or _progress_line(sys.stderr)
    results: dict[int, JobResult] = {}
    todo = []
    for i, job in enumerate(jobs):
        manifest = finished(job) if resume else None
        if manifest is not None:
            results[i] = JobResult(
                job.study_uid, "skipped", 0.0, "its report set is complete already (--resume)",
                dict(manifest.get("findings", {})), [f["name"] for f in manifest.get("files", [])],
                int(manifest.get("warnings", 0)), int(manifest.get("skipped_files", 0)),
            )  # fmt: skip
        else:
            todo.append(i)
    total = len(jobs)
    for done, i in enumerate(sorted(results), start=1):
        report(_shown(jobs[i], results[i]), done, total, None, 0)
    resumed = len(results)
    started = time.perf_counter()
    if workers <= 1 and not scheduler:
        for i in todo:
            results[i] = run_job(jobs[i])
            elapsed = time.perf_counter() - started
            report(
                _shown(jobs[i], results[i]), len(results), total, elapsed, len(results) - resumed
            )
        return [results[i] for i in range(total)]
    if scheduler:
        from spineviewer.batch.cluster import dask_executor

        pool: Executor = dask_executor(scheduler)
    else:
        context = multiprocessing.get_context("spawn")  # no forked onnxruntime or Qt state
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=die_with_parent
        )
    pending: dict[Future[JobResult], int] = {pool.submit(run_job, jobs[i]): i for i in todo}
    try:
        while pending:
            ready, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in ready:
                i = pending.pop(future)
                try:
                    results[i] = future.result()
                except Exception as exc:  # a worker that died (killed, out of memory)
                    results[i] = JobResult(jobs[i].study_uid, "failed", 0.0, f"worker: {exc}")
                elapsed = time.perf_counter() - started
                report(
                    _shown(jobs[i], results[i]),
                    len(results),
                    total,
                    elapsed,
                    len(results) - resumed,
                )
    except KeyboardInterrupt as exc:
        pool.shutdown(wait=True, cancel_futures=True)
        exc.results = [results.get(i) for i in range(total)]  # type: ignore[attr-defined]
        raise
    pool.shutdown(wait=True)
    return [results[i] for i in range(total)]


def failed(results: Sequence[JobResult | None]) -> int:
    """How many studies failed or are unreadable."""
    return sum(1 for r in results if r is not None and r.status in FAILED)


def counts(results: Sequence[JobResult | None], problems: Sequence[Problem] = ()) -> dict[str, int]:
    """How many summary rows have each status (``problems`` are ``unreadable`` rows)."""
    out: dict[str, int] = {}
    for r in results:
        key = r.status if r is not None else "not run"
        out[key] = out.get(key, 0) + 1
    if problems:
        out["unreadable"] = out.get("unreadable", 0) + len(problems)
    return out


def last_line(
    results: Sequence[JobResult | None],
    problems: Sequence[Problem],
    skipped: Sequence[SkippedFile],
) -> str:
    """The log's last line: the summary rows by status, and how many files or folders under
    the inputs were not read (those of ``skipped.csv``)."""
    rows = ", ".join(f"{n} {status}" for status, n in counts(results, problems).items())
    dicom = sum(1 for s in skipped if s.dicom)
    return (
        f"summary: {rows or 'no study'}; not read: {len(skipped)} files or folders "
        f"({dicom} DICOM, {len(skipped) - dicom} other), listed in skipped.csv"
    )


def not_read(
    skipped: Sequence[SkippedFile], results: Sequence[JobResult | None]
) -> list[SkippedFile]:
    """``skipped`` (what the scans did not read) and what the workers could not read besides,
    once each."""
    out = list(skipped)
    listed = {s.path for s in out}
    for result in results:
        for s in result.unread if result is not None else ():
            if s.path not in listed:
                listed.add(s.path)
                out.append(s)
    return out
