"""``spineviewer batch INPUT... --out DIR [--workers N] [--format ...] [--anonymize]
[--resume] [--scheduler tcp://HOST:PORT] [--store NODE]``: the report set of every study
under the inputs, one job per study, on a local process pool or a Dask cluster; with
``--store`` the DICOM outputs (SR, Encapsulated PDF) go to a PACS node too.

Outputs go to ``OUT/<study>/`` with a ``manifest.json`` written last; ``OUT/summary.csv`` and
``summary.json`` list every study with its status, findings in brief, duration and error. A
failing study is recorded and the others go on; the exit status is 1 when any failed, 130 when
interrupted (Ctrl+C leaves no partial file; ``--resume`` then skips the complete studies).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from spineviewer.cli.analyze import add_model_options


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "batch",
        help="write the report set of every study under the inputs (resumable)",
        description=(
            "One job per study (StudyInstanceUID) found under the inputs, on a local process "
            "pool or a Dask cluster: analysis, reports, key images, a manifest; summary.csv "
            "and summary.json. "
            "Not for clinical use with the demo models."
        ),
    )
    parser.add_argument("inputs", type=Path, nargs="+", metavar="INPUT")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument(
        "--format", default="json,html,pdf", help="comma-separated: json, html, pdf, sr, epdf"
    )
    parser.add_argument("--anonymize", action="store_true")
    parser.add_argument("--resume", action="store_true", help="skip studies already complete")
    parser.add_argument("--institution", default="")
    parser.add_argument(
        "--store",
        metavar="NODE",
        help="send each study's DICOM outputs (sr, epdf) to this configured PACS node",
    )
    add_model_options(parser)
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
    from spineviewer.batch import run_batch, study_jobs, write_summary
    from spineviewer.batch.cluster import ClusterError
    from spineviewer.batch.runner import counts, failed
    from spineviewer.reports.writer import FORMATS

    formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        print(f"spineviewer batch: unknown format {', '.join(unknown)}", file=sys.stderr)
        return 2
    store_node = local_ae = None
    if args.store:
        from spineviewer.pacs import PacsError, load_config

        if not {"sr", "epdf"} & set(formats):
            print("spineviewer batch: --store sends DICOM outputs: add sr or epdf to --format",
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
    jobs, problems = study_jobs(
        args.inputs, args.out, formats, anonymize=args.anonymize, institution=args.institution,
        model_dirs=tuple(str(m) for m in args.models), provider=args.provider,
        threads=None if args.scheduler else max(1, (os.cpu_count() or 1) // max(1, args.workers)),
        store_node=store_node, local_ae=local_ae,
    )  # fmt: skip
    for path, reason in problems:
        print(f"spineviewer batch: {path}: {reason}", file=sys.stderr)
    where = f"Dask cluster {args.scheduler}" if args.scheduler else f"{args.workers} worker(s)"
    print(f"{len(jobs)} studies, {where}", file=sys.stderr)
    try:
        results = run_batch(jobs, args.workers, args.resume, scheduler=args.scheduler)
    except ClusterError as exc:
        print(f"spineviewer batch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        partial = getattr(exc, "results", [None] * len(jobs))
        write_summary(partial, jobs, args.out, problems)
        print("interrupted: the studies not finished have no manifest; rerun with --resume",
              file=sys.stderr)  # fmt: skip
        return 130
    for path in write_summary(results, jobs, args.out, problems):
        print(path)
    print(f"summary: {counts(results)}", file=sys.stderr)
    return 1 if failed(results) or problems else 0
