"""``spineviewer report PATH --out DIR [--format json,html,pdf] [--impression TEXT]
[--prior PRIOR] [--anonymize [--keep-annotation-text]]``.

Analyses every study under PATH with the AI models, joins what a person reviewed in the
annotation workspace (accepted, edited or rejected proposals, manual measurements), and writes
``OUT/<study>/report.json|html|pdf`` (and ``report_sr.dcm``). ``--anonymize`` de-identifies
every output (:mod:`spineviewer.dicom.anonymise`): no patient, no reader's name, and the
annotations' free text (notes, labels that are no vocabulary term) reads ``[removed]`` unless
``--keep-annotation-text``. Demo models: the reports say "not for clinical use". A
segmentation model's label map gives the reports their per-label volumes. ``--impression``
gives every report that impression (by the current user, now) instead of the one saved in
the workspace; the workspace is not changed. ``--prior`` names where the patient's earlier
studies are: each report then compares its study with the prior study of the same PatientID
found there (analysed and reviewed the same way), both dates' findings and measurements side
by side (:mod:`spineviewer.reports.comparison`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spineviewer import formats as registry
from spineviewer.cli.analyze import (
    add_model_options,
    add_vertebrae_option,
    output_folder_ok,
    print_not_read,
)


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write the report of each study (JSON, HTML, PDF)",
        description=(
            "Run the AI pipelines on every study under PATH, join the reviewed annotations of "
            "the workspace, and write report.json, report.html and report.pdf per study into "
            "OUT/<study>/. Not for clinical use with the demo models."
        ),
    )
    parser.add_argument("path", type=Path, help="study folder, zip, DICOMDIR or file")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    add_format_option(parser)
    parser.add_argument(
        "--anonymize",
        action="store_true",
        help=(
            "de-identify (DICOM PS3.15 Basic Profile): no patient identifiers or dates in the "
            "reports; the SR with remapped UIDs and shifted dates (key kept in OUT/"
            ".anonymisation-key for consistent reruns)"
        ),
    )
    parser.add_argument(
        "--keep-annotation-text",
        action="store_true",
        help=(
            "with --anonymize: keep the annotations' notes and free-text labels verbatim "
            "(default: they read [removed], as they may name people); the reader's name is "
            "left out either way"
        ),
    )
    parser.add_argument("--institution", default="", help="institution name in the header")
    parser.add_argument(
        "--impression",
        default=None,
        metavar="TEXT",
        help=(
            "the reader's impression for every report written (instead of the one saved with "
            "the annotations; '\\n' starts a new line); with --anonymize it reads [removed] "
            "unless --keep-annotation-text"
        ),
    )
    parser.add_argument(
        "--prior",
        type=Path,
        default=None,
        metavar="PRIOR",
        help=(
            "folder, zip or DICOMDIR with the patients' earlier studies: each report lists its "
            "findings and measurements beside those of the prior study of the same patient ID "
            "(the latest one dated before it)"
        ),
    )
    add_model_options(parser)
    add_vertebrae_option(parser)
    parser.set_defaults(func=run)


def add_format_option(parser: argparse.ArgumentParser) -> None:
    """``--format``: the report family of the output-format registry, comma-separated."""
    family = registry.Family.REPORT
    listed = ", ".join(
        f"{f.name}{f' (or {f.alias})' if f.alias else ''}" for f in registry.of(family)
    )
    parser.add_argument(
        "--format",
        default=",".join(registry.defaults(family)),
        help=f"comma-separated: {listed} (default %(default)s)",
    )


def report_formats(command: str, text: str) -> list[str] | None:
    """The registry names ``--format`` asks for; None (the reason printed) for an unknown one."""
    try:
        return [f.name for f in registry.parse(text, registry.Family.REPORT)]
    except ValueError as exc:
        print(f"spineviewer {command}: {exc}", file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    from spineviewer.ai.analysis import analyse_study
    from spineviewer.ai.pipelines.segmentation import chosen_models
    from spineviewer.ai.registry import find_models
    from spineviewer.ai.sessions import SessionCache
    from spineviewer.annotations import Workspace
    from spineviewer.dicom import scan
    from spineviewer.dicom.anonymise import Anonymiser, folder_key
    from spineviewer.reports import build_report
    from spineviewer.reports.comparison import prior_study, with_prior
    from spineviewer.reports.writer import write_report_set

    formats = report_formats("report", args.format)
    if formats is None:
        return 2
    if not args.path.exists():
        print(f"spineviewer report: {args.path}: no such file or folder", file=sys.stderr)
        return 1
    if not output_folder_ok("report", args.out):
        return 1
    result = scan(args.path)
    print_not_read("report", result.skipped)
    if not result.studies:
        print(f"spineviewer report: no DICOM study in {args.path}", file=sys.stderr)
        return 1
    earlier = None
    if args.prior is not None:
        if not args.prior.exists():
            print(f"spineviewer report: {args.prior}: no such file or folder", file=sys.stderr)
            return 1
        earlier = scan(args.prior)
        print_not_read("report", earlier.skipped)
    try:
        entries = chosen_models(find_models(args.models), args.vertebrae)
    except ValueError as exc:  # a bad SPINEVIEWER_VERTEBRAE
        print(f"spineviewer report: {exc}", file=sys.stderr)
        return 1
    sessions = SessionCache(args.provider)
    impression = args.impression.replace("\\n", "\n") if args.impression else None
    failed = 0
    try:
        opened = Workspace()
    except OSError as exc:
        print(f"spineviewer report: cannot open the annotation workspace: {exc}", file=sys.stderr)
        return 1
    with opened as workspace:
        for index, study in enumerate(result.studies, start=1):
            lost = result.skipped_of(study.uid)
            findings = analyse_study(study, entries, sessions, skipped=lost)
            loaded = workspace.load(study.uid)
            document = loaded.document if loaded is not None else None
            anonymiser = (
                Anonymiser(folder_key(args.out)).for_patient(study.info.get("PatientID", ""))
                if args.anonymize
                else None
            )
            keep = args.keep_annotation_text
            report = build_report(
                study, findings, document, args.institution, anonymiser, keep,
                impression=impression,
            )  # fmt: skip
            if earlier is not None:
                prior = prior_study(study, earlier.studies)
                if prior is None:
                    print(
                        f"spineviewer report: {study.uid}: no prior study of patient ID "
                        f"{study.info.get('PatientID', '') or '(none)'} in {args.prior}",
                        file=sys.stderr,
                    )
                else:
                    then = analyse_study(
                        prior, entries, sessions, skipped=earlier.skipped_of(prior.uid)
                    )
                    saved = workspace.load(prior.uid)
                    report = with_prior(
                        report,
                        build_report(
                            prior, then, saved.document if saved is not None else None,
                            args.institution, anonymiser, keep,
                        ),
                    )  # fmt: skip
            folder = args.out / (f"study-{index:03d}" if args.anonymize else study.uid)
            try:
                for path in write_report_set(
                    report, study, findings, document, folder, formats,
                    anonymiser=anonymiser, keep_annotation_text=keep,
                ):  # fmt: skip
                    print(path)
            except (OSError, ValueError) as exc:
                print(f"spineviewer report: {study.uid}: {exc}", file=sys.stderr)
                failed += 1
    return 1 if failed else 0
