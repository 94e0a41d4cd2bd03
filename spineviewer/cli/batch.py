"""``spineviewer batch INPUT... --out DIR [--workers N] [--format ...] [--anonymize]
[--resume] [--scheduler tcp://HOST:PORT] [--store NODE]``: the report set of every study
under the inputs, one job per study, on a local process pool or a Dask cluster; with
``--store`` the DICOM outputs (SR, Encapsulated PDF) go to a PACS node too.

Outputs go to ``OUT/<study>/`` (``OUT/study-<keyed hash>/`` when anonymised) with a
``manifest.json`` written last; ``OUT/summary.csv`` and ``summary.json`` list every study with
its status, findings in brief, duration and error, and ``OUT/skipped.csv`` every file or
folder under the inputs that was not read. A failing study is recorded and the others go on;
what the exit status says is :data:`EXIT_HELP` (shown by ``--help``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from spineviewer import formats as registry
from spineviewer.cli.analyze import add_model_options, add_vertebrae_option, output_folder_ok
from spineviewer.cli.report import add_format_option, report_formats

if TYPE_CHECKING:
    from spineviewer.batch import Problem
    from spineviewer.dicom.errors import SkippedFile

#: What the exit status says (the command's help shows it).
EXIT_HELP = (
    "exit status: 0 when every study was done (or skipped as complete with --resume); 1 when "
    "a study failed or is unreadable, an input holds no DICOM study, or a folder could not be "
    "listed (their rows in summary.csv say why; a study whose files are all unreadable has "
    "one row per file); 2 for a usage error, an output folder that cannot be written or a "
    "Dask cluster that cannot be used; 130 when "
    "interrupted (Ctrl+C leaves no partial file: rerun with --resume). Files left out of a "
    "study that was done, and files that are not DICOM, do not change it: they are listed in "
    "skipped.csv and counted in the last line of the log, and a study's own in its "
    "skipped_files and its report's warnings."
)
#: How many files not read are named in the log (all of them are in skipped.csv).
LOGGED_SKIPPED = 10


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "batch",
        help="write the report set of every study under the inputs (resumable)",
        description=(
            "One job per study (StudyInstanceUID) found under the inputs, on a local process "
            "pool or a Dask cluster: analysis, reports, key images, a manifest; summary.csv "
            "and summary.json; skipped.csv lists every file or folder that was not read. "
            "Not for clinical use with the demo models."
        ),
        epilog=EXIT_HELP,
    )
    parser.add_argument("inputs", type=Path, nargs="+", metavar="INPUT")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    add_format_option(parser)
    parser.add_argument(
        "--anonymize",
        action="store_true",
        help="de-identify the outputs; folders are named study- and a keyed hash of the study",
    )
    parser.add_argument(
        "--keep-annotation-text",
        action="store_true",
        help="with --anonymize: keep annotation notes and free-text labels (replaced by "
        "[removed] otherwise); names are always left out",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="skip the studies whose folder holds their complete report set already",
    )
    parser.add_argument("--institution", default="")
    parser.add_argument(
        "--store",
        metavar="NODE",
        help=(
            "send each study's DICOM outputs "
            f"({', '.join(f.alias or f.name for f in registry.sendable())}) to this configured "
            "PACS node"
        ),
    )
    add_model_options(parser)
    add_vertebrae_option(parser)
    parser.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help=(
            "run the jobs on the Dask distributed cluster of this scheduler (extra 'dask'; the "
            "workers must see the inputs and OUT at the same paths)"
        ),
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from spineviewer.batch import run_batch, study_jobs, write_skipped, write_summary
    from spineviewer.batch.cluster import ClusterError
    from spineviewer.batch.runner import failed, last_line, not_read

    formats = report_formats("batch", args.format)
    if formats is None:
        return 2
    from spineviewer.ai.pipelines.segmentation import vertebrae_choice

    try:
        vertebrae_choice(args.vertebrae)  # a bad SPINEVIEWER_VERTEBRAE, said once, not per study
    except ValueError as exc:
        print(f"spineviewer batch: {exc}", file=sys.stderr)
        return 2
    store_node = local_ae = None
    if args.store:
        from spineviewer.pacs import PacsError, load_config

        if not {f.name for f in registry.sendable()} & set(formats):
            print(f"spineviewer batch: --store sends DICOM outputs: {registry.store_hint()}",
                  file=sys.stderr)  # fmt: skip
            return 2
        try:
            config = load_config()
            store_node, local_ae = config.node(args.store), config.local
        except PacsError as exc:
            print(f"spineviewer batch: {exc}", file=sys.stderr)
            return 2
    missing = [p for p in args.inputs if not p.exists()]
    if missing:
        print(f"spineviewer batch: no such file or folder: {', '.join(map(str, missing))}",
              file=sys.stderr)  # fmt: skip
        return 2
    if not output_folder_ok("batch", args.out):
        return 2
    plan = study_jobs(
        args.inputs, args.out, formats, anonymize=args.anonymize, institution=args.institution,
        keep_annotation_text=args.keep_annotation_text,
        model_dirs=tuple(str(m) for m in args.models), provider=args.provider,
        vertebrae=args.vertebrae,
        threads=None if args.scheduler else max(1, (os.cpu_count() or 1) // max(1, args.workers)),
        store_node=store_node, local_ae=local_ae,
    )  # fmt: skip
    jobs, problems = plan.jobs, plan.problems
    _log_not_read(problems, plan.skipped, args.out)
    where = f"Dask cluster {args.scheduler}" if args.scheduler else f"{args.workers} worker(s)"
    print(f"{len(jobs)} studies, {where}", file=sys.stderr)
    try:
        results = run_batch(jobs, args.workers, args.resume, scheduler=args.scheduler)
    except ClusterError as exc:
        print(f"spineviewer batch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        partial = getattr(exc, "results", [None] * len(jobs))
        shown, lost = _shown_paths(args, problems, not_read(plan.skipped, partial))
        write_summary(partial, jobs, args.out, shown)
        write_skipped(lost, args.out)
        print("interrupted: the studies not finished have no manifest; rerun with --resume",
              file=sys.stderr)  # fmt: skip
        return 130
    skipped = not_read(plan.skipped, results)
    shown, lost = _shown_paths(args, problems, skipped)
    for path in [
        *write_summary(results, jobs, args.out, shown),
        write_skipped(lost, args.out),
    ]:
        print(path)
    print(last_line(results, problems, skipped), file=sys.stderr)
    return 1 if failed(results) or problems else 0


def _shown_paths(
    args: argparse.Namespace, problems: list[Problem], skipped: list[SkippedFile]
) -> tuple[list[Problem], list[SkippedFile]]:
    """The input paths as the summary and skipped.csv show them: as they are, or (anonymised)
    by label, the real paths kept in the owner-only OUT/.input-paths.csv (a folder or file
    name may name the patient)."""
    if not args.anonymize:
        return problems, skipped
    from spineviewer.batch.summary import masked_paths
    from spineviewer.dicom.anonymise import folder_key

    return masked_paths(problems, skipped, folder_key(args.out), args.out)


def _log_not_read(problems: list[Problem], skipped: list[SkippedFile], out: Path) -> None:
    """The input paths that gave no study (each a summary row), then the other files or
    folders the scans did not read; the first of each, and how many there are."""
    from spineviewer.dicom.errors import printable

    for problem in problems[:LOGGED_SKIPPED]:
        print(f"spineviewer batch: {printable(problem.path)}: {problem.reason}", file=sys.stderr)
    if len(problems) > LOGGED_SKIPPED:
        print(f"spineviewer batch: ... and {len(problems) - LOGGED_SKIPPED} more unreadable "
              f"(all in {out / 'summary.csv'})", file=sys.stderr)  # fmt: skip
    shown = {p.path for p in problems}
    others = [s for s in skipped if s.path not in shown]
    if not others:
        return
    print(f"spineviewer batch: {len(others)} other files or folders not read "
          f"(all in {out / 'skipped.csv'}):", file=sys.stderr)  # fmt: skip
    for s in others[:LOGGED_SKIPPED]:
        print(f"  {printable(str(s))}", file=sys.stderr)
    if len(others) > LOGGED_SKIPPED:
        print(f"  ... and {len(others) - LOGGED_SKIPPED} more", file=sys.stderr)
