"""``spineviewer info PATH [--json]``: studies, series and stacks found, and files skipped."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # imported when a command runs: `spineviewer --help` stays fast
    from spineviewer.dicom import ScanResult, Stack


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
    parser.add_argument(
        "--json",
        action="store_true",
        help="print JSON (keys: studies, skipped; each stack with its frame_of_reference_uid)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Scan ``args.path`` and print the result; 1 when nothing could be loaded."""
    from spineviewer.dicom import scan

    result = scan(args.path)
    if args.json:
        json.dump(info_json(result), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _escape_unencodable(sys.stdout)
        print_summary(result, sys.stdout)
    return 0 if result.studies else 1


def _escape_unencodable(stream: TextIO) -> None:
    """Let ``stream`` write characters its encoding lacks (a Japanese series description on an
    ASCII terminal) as escapes rather than fail with UnicodeEncodeError."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None and getattr(stream, "errors", None) == "strict":
        reconfigure(errors="backslashreplace")


def frame_of_reference(stack: Stack) -> str | None:
    """The FrameOfReferenceUID of a stack's images (the one most of them name, should they
    differ); None when none names one."""
    counts = Counter(
        f.instance.frame_of_reference_uid for f in stack.frames if f.instance.frame_of_reference_uid
    )
    return counts.most_common(1)[0][0] if counts else None


def info_json(result: ScanResult) -> dict[str, Any]:
    """:meth:`ScanResult.to_json` with each stack's ``frame_of_reference_uid`` (None when
    absent): stacks that share one share a patient coordinate system."""
    data = result.to_json()
    for study, study_data in zip(result.studies, data["studies"], strict=True):
        for series, series_data in zip(study.series, study_data["series"], strict=True):
            for stack, stack_data in zip(series.stacks, series_data["stacks"], strict=True):
                stack_data["frame_of_reference_uid"] = frame_of_reference(stack)
    return data


def frames_of_reference(study: dict[str, Any]) -> dict[str | None, list[str]]:
    """The series of a study (of :func:`info_json`) by the frame of reference of their stacks:
    series number, or quoted description when it has none (None: no frame of reference)."""
    found: dict[str | None, list[str]] = {}
    for series in study["series"]:
        number = series["series_number"]
        label = str(number) if number is not None else repr(series["description"] or "?")
        for uid in dict.fromkeys(stack["frame_of_reference_uid"] for stack in series["stacks"]):
            found.setdefault(uid, []).append(label)
    return found


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

    data = info_json(result)
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
        for uid, labels in frames_of_reference(study).items():
            which = "no frame of reference" if uid is None else f"frame of reference {uid}"
            write(f"  {which}: series {', '.join(labels)}\n")
    if not data["studies"]:
        write("No DICOM images found.\n")
    if data["skipped"]:
        write(f"Skipped {len(data['skipped'])} file(s):\n")
        for item in data["skipped"]:
            write(f"  {item['path']}: {item['reason']}\n")
