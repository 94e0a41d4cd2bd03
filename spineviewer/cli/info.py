"""``spineviewer info PATH [--json]``: studies, series and stacks found, and files skipped."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # imported when a command runs: `spineviewer --help` stays fast
    from spineviewer.dicom import ScanResult


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``info`` subcommand."""
    parser = subparsers.add_parser(
        "info",
        help="list the studies, series and stacks under a path",
        description=(
            "Scan a file, folder, zip archive or DICOMDIR (headers only) and list the studies, "
            "series and stacks found, with every skipped file and the reason."
        ),
    )
    parser.add_argument("path", help="file, folder, zip archive or DICOMDIR")
    parser.add_argument("--json", action="store_true", help="print JSON (keys: studies, skipped)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Scan ``args.path`` and print the result; 1 when nothing could be loaded."""
    from spineviewer.dicom import scan

    result = scan(args.path)
    if args.json:
        json.dump(result.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_summary(result, sys.stdout)
    return 0 if result.studies else 1


def _mm(values: Any) -> str:
    if values is None:
        return "?"
    if isinstance(values, list | tuple):
        return " x ".join(f"{v:.3g}" for v in values) + " mm"
    return f"{values:.3g} mm"


def print_summary(result: ScanResult, out: TextIO) -> None:
    """Human-readable listing of a scan result (control characters of the files' texts shown
    as escapes: a header cannot drive the terminal)."""
    from spineviewer.dicom.errors import printable_lines

    def write(text: str) -> None:
        out.write(printable_lines(text))

    data = result.to_json()
    for study in data["studies"]:
        who = study.get("PatientName") or study.get("PatientID") or "(no patient name)"
        when = study.get("StudyDate", "")
        uid = study["study_instance_uid"] or "(no Study Instance UID)"
        write(f"Study {uid}\n  patient {who}  date {when}\n")
        if study.get("StudyDescription"):
            write(f"  {study['StudyDescription']}\n")
        for series in study["series"]:
            for stack in series["stacks"]:
                syntaxes = ", ".join(t["name"] for t in stack["transfer_syntaxes"])
                rows, cols = stack["size"]
                write(
                    f"  {stack['name']}\n"
                    f"    {stack['modality']} {stack['plane']}, {stack['images']} images of "
                    f"{rows}x{cols}, pixels {_mm(stack['pixel_spacing_mm'])}, "
                    f"slices {_mm(stack['slice_spacing_mm'])} apart"
                    f" ({stack['photometric']}; {syntaxes})\n"
                )
                for warning in stack["warnings"]:
                    write(f"    ! {warning}\n")
            for warning in series["warnings"]:
                write(f"    ! series {series['series_number'] or '?'}: {warning}\n")
    if not data["studies"]:
        write("No DICOM images found.\n")
    if data["skipped"]:
        write(f"Skipped {len(data['skipped'])} file(s):\n")
        for item in data["skipped"]:
            write(f"  {item['path']}: {item['reason']}\n")
