"""``spineviewer analyze PATH [--json OUT.json] [--provider auto|cuda|cpu] [--models DIR]
[--vertebrae detector|segmentation]``.

Runs every pipeline on every study under PATH and prints what was found; ``--json`` writes the
findings (one study: its Findings object; several: a JSON array of them). ``--vertebrae``
(default: the ``vertebrae`` setting, else ``detector``) says what reads the vertebrae of a
series a detector and a segmentation model both accept (:func:`spineviewer.ai.pipelines.
segmentation.chosen_models`); the output names, per series, the method and the model that
read its vertebrae.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spineviewer.ai.findings import Findings
    from spineviewer.dicom.errors import SkippedFile

#: How many files not read are named on stderr (the count says how many more).
LOGGED_SKIPPED = 10


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="run the AI pipelines on a study and print or save the findings",
        description=(
            "Detect and label vertebrae, classify discs and fractures (lumbar MR), detect "
            "implants and measure the Cobb angle (spine X-ray), run other classifiers; print "
            "the findings, optionally save them as JSON. Demo models: not for clinical use."
        ),
    )
    parser.add_argument("path", type=Path, help="study folder, zip, DICOMDIR or file")
    parser.add_argument("--json", type=Path, metavar="OUT.json", help="write the findings")
    add_model_options(parser)
    add_vertebrae_option(parser)
    parser.set_defaults(func=run)


def add_model_options(parser: argparse.ArgumentParser, provider: str | None = None) -> None:
    """``--provider`` and ``--models``, for every command that runs the models; ``provider``:
    a fixed default provider (else $SPINEVIEWER_PROVIDER, else auto)."""
    parser.add_argument(
        "--provider",
        choices=("auto", "cuda", "cpu"),
        default=provider,
        help=f"onnxruntime provider (default {provider})"
        if provider
        else "onnxruntime provider (default: $SPINEVIEWER_PROVIDER, else auto)",
    )
    parser.add_argument(
        "--models",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="model folder (default: the installed models)",
    )


def add_vertebrae_option(parser: argparse.ArgumentParser) -> None:
    """``--vertebrae detector|segmentation``, for every command that runs the analysis: pass
    its value to :func:`spineviewer.ai.pipelines.segmentation.chosen_models`."""
    from spineviewer.config import VERTEBRAE_METHODS

    parser.add_argument(
        "--vertebrae",
        choices=VERTEBRAE_METHODS,
        default=None,
        help="what reads the vertebrae of a series a detector and a segmentation model both "
        "accept (sagittal MR): detector or segmentation (default: $SPINEVIEWER_VERTEBRAE, "
        "the config file's vertebrae, else detector)",
    )


def vertebrae_lines(findings: Findings) -> list[str]:
    """One line per series with vertebrae: the method and the model that read them."""
    from spineviewer.ai.segmentation_findings import vertebrae_methods

    return [
        f"vertebrae of series {uid}: {method} ({model})"
        for uid, (method, model) in vertebrae_methods(findings).items()
    ]


def run(args: argparse.Namespace) -> int:
    from spineviewer.ai.analysis import analyse_study
    from spineviewer.ai.pipelines.segmentation import chosen_models
    from spineviewer.ai.registry import find_models
    from spineviewer.ai.sessions import SessionCache
    from spineviewer.dicom import DicomLoadError, scan
    from spineviewer.dicom.errors import printable_lines

    if not args.path.exists():
        print(f"spineviewer analyze: {args.path}: no such file or folder", file=sys.stderr)
        return 1
    try:
        result = scan(args.path)
        print_not_read("analyze", result.skipped)
        entries = chosen_models(find_models(args.models), args.vertebrae)
        sessions = SessionCache(args.provider)
        results = [
            analyse_study(
                study,
                entries,
                sessions,
                lambda step: print(f"... {step}", file=sys.stderr, flush=True),
                skipped=result.skipped_of(study.uid),
            )
            for study in result.studies
        ]
    except (DicomLoadError, OSError, ValueError) as exc:
        print(f"spineviewer analyze: {exc}", file=sys.stderr)
        return 1
    if not results:
        print(f"spineviewer analyze: no DICOM study in {args.path}", file=sys.stderr)
        return 1
    for findings in results:
        print(f"study {findings.study_uid} (provider {findings.provider})")
        lines = [*findings.summary_lines(), *vertebrae_lines(findings)]
        print(printable_lines("\n".join(f"  {line}" for line in lines)))
    if args.json is not None:
        try:
            if len(results) == 1:
                results[0].save(args.json)
            else:
                from spineviewer.annotations.store import write_atomic

                payload: Any = [f.to_dict() for f in results]
                args.json.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(args.json, (json.dumps(payload, indent=2) + "\n").encode("utf-8"))
        except OSError as exc:  # a folder that cannot be written: said, not a traceback
            reason = exc.strerror or type(exc).__name__
            print(f"spineviewer analyze: cannot write {args.json}: {reason}", file=sys.stderr)
            return 1
        print(f"findings written to {args.json}")
    return 0


def print_not_read(command: str, skipped: Sequence[SkippedFile]) -> None:
    """Name on stderr the files and folders under the path that were not read (a FIFO, a
    device, a file that is not DICOM, a folder that could not be listed), with the reason:
    the first :data:`LOGGED_SKIPPED` of them, and how many more."""
    from spineviewer.dicom.errors import printable

    if not skipped:
        return
    print(f"spineviewer {command}: {len(skipped)} files or folders not read:", file=sys.stderr)
    for s in skipped[:LOGGED_SKIPPED]:
        print(f"  {printable(str(s))}", file=sys.stderr)
    if len(skipped) > LOGGED_SKIPPED:
        print(f"  ... and {len(skipped) - LOGGED_SKIPPED} more", file=sys.stderr)


def output_folder_ok(command: str, folder: Path) -> bool:
    """Create ``folder`` (an output folder) if needed; False, with the reason on stderr, when
    it cannot be made or written to (said before any work, not as a traceback after it)."""
    import os

    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        print(f"spineviewer {command}: cannot write to {folder}: {reason}", file=sys.stderr)
        return False
    return True
