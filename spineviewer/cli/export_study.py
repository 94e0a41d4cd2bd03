"""``spineviewer export-study STUDY... --out FOLDER|FILE.zip [--with-annotations]
[--keep-annotation-text] [--burned-in-ok]``.

Exports every study found under the STUDY paths (folders, zips, DICOMDIRs or files),
anonymised by the DICOM PS3.15 Basic Profile with one UID map, into a new folder with a
DICOMDIR or, when ``--out`` ends in ``.zip``, into a zip of that folder
(:mod:`spineviewer.dicom.study_export`; the formats are the output-format registry's ``study``
family). ``--with-annotations`` adds each study's annotations from the workspace as DICOM SR,
SEG, KOS and GSPS (:mod:`spineviewer.annotations.study_objects`). A study whose images may show
burned-in text is refused, with the reason, unless ``--burned-in-ok``. Nothing is left behind
on failure or Ctrl+C, and the source files are only read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spineviewer import formats as registry
from spineviewer.cli.analyze import print_not_read

COMMAND = "export-study"


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    kinds = "; ".join(f"{f.label} ({f.suffix or 'any other name'})"
                      for f in registry.of(registry.Family.STUDY))  # fmt: skip
    parser = subparsers.add_parser(
        COMMAND,
        help="export studies anonymised (PS3.15 Basic Profile) to a DICOMDIR folder or a zip",
        description=(
            "Export whole studies anonymised by the DICOM PS3.15 Basic Profile (one UID map: "
            "references between the files still resolve) into a new folder with a DICOMDIR or "
            f"a zip. --out chooses: {kinds}."
        ),
    )
    parser.add_argument(
        "studies", nargs="+", type=Path, metavar="STUDY", help="study folder, zip, DICOMDIR or file"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="a new (or empty) folder, or a FILE.zip"
    )
    parser.add_argument(
        "--with-annotations",
        action="store_true",
        help="add each study's annotations from the workspace as DICOM SR, SEG, KOS and GSPS "
        "(no reader's name; free text [removed])",
    )
    parser.add_argument(
        "--keep-annotation-text",
        action="store_true",
        help="with --with-annotations: keep the annotations' notes and free-text labels",
    )
    parser.add_argument(
        "--burned-in-ok",
        action="store_true",
        help="export studies whose pixels may show burned-in text (BurnedInAnnotation YES, "
        "ultrasound, secondary captures) after checking them yourself",
    )
    parser.set_defaults(func=run)


def _fail(text: str) -> int:
    from spineviewer.dicom.errors import printable

    print(f"spineviewer {COMMAND}: {printable(text)}", file=sys.stderr)
    return 1


def run(args: argparse.Namespace) -> int:
    from spineviewer.annotations.study_objects import (
        export_studies_with_annotations,
        format_for,
        saved_documents,
    )
    from spineviewer.dicom import Study, scan
    from spineviewer.dicom.study_export import BurnedInRefused

    for path in args.studies:
        if not path.exists():
            return _fail(f"{path}: no such file or folder")
    studies: list[Study] = []
    for path in args.studies:
        result = scan(path)
        print_not_read(COMMAND, result.skipped)
        if not result.studies:
            return _fail(f"{path}: no DICOM study found")
        known = {s.uid for s in studies}
        for study in result.studies:
            if study.uid in known:
                said = f"{path}: study {study.uid} was found under an earlier path already"
                print(f"spineviewer {COMMAND}: {said}; exported once, from there", file=sys.stderr)
            else:
                studies.append(study)
    try:
        documents = saved_documents(studies) if args.with_annotations else None
        exported = export_studies_with_annotations(
            studies, args.out, documents, keep_text=args.keep_annotation_text,
            burned_in_ok=args.burned_in_ok,
        )  # fmt: skip
    except BurnedInRefused as exc:
        print(f"spineviewer {COMMAND}: {len(exc.reasons)} series refused:", file=sys.stderr)
        for reason in exc.reasons:
            print(f"  {reason}", file=sys.stderr)
        return _fail("nothing written; check the images and add --burned-in-ok to export them")
    except (OSError, ValueError) as exc:
        return _fail(str(exc))
    for note in exported.skipped:
        print(f"spineviewer {COMMAND}: {note}", file=sys.stderr)
    print(f"{exported.path} ({format_for(exported.path).label}): {exported.summary}")
    return 0
