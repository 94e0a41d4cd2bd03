"""``spineviewer analyze PATH [--json OUT.json] [--provider auto|cuda|cpu] [--models DIR]``.

Runs every pipeline on every study under PATH and prints what was found; ``--json`` writes the
findings (one study: its Findings object; several: a JSON array of them).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


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


def run(args: argparse.Namespace) -> int:
    from spineviewer.ai.analysis import analyse_path
    from spineviewer.dicom import DicomLoadError
    from spineviewer.dicom.errors import printable_lines

    if not args.path.exists():
        print(f"spineviewer analyze: {args.path}: no such file or folder", file=sys.stderr)
        return 1
    try:
        results = analyse_path(
            args.path,
            args.models,
            args.provider,
            progress=lambda step: print(f"... {step}", file=sys.stderr, flush=True),
        )
    except (DicomLoadError, OSError, ValueError) as exc:
        print(f"spineviewer analyze: {exc}", file=sys.stderr)
        return 1
    if not results:
        print(f"spineviewer analyze: no DICOM study in {args.path}", file=sys.stderr)
        return 1
    for findings in results:
        print(f"study {findings.study_uid} (provider {findings.provider})")
        print(printable_lines("\n".join(f"  {line}" for line in findings.summary_lines())))
    if args.json is not None:
        if len(results) == 1:
            results[0].save(args.json)
        else:
            payload: Any = [f.to_dict() for f in results]
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"findings written to {args.json}")
    return 0
