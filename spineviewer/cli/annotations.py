"""``spineviewer annotations {list,export,import}``: the annotation workspace without the viewer.

- ``list``: the worklist (studies, review status, counts);
- ``export PATH --out DIR``: DICOM SR, DICOM SEG and a COCO training set of the studies under
  PATH, from their workspace documents;
- ``import PATH SR``: read a DICOM SR Measurement Report into the study's document (merged
  with what a viewer that has the study open saves meanwhile: see ``annotations.merge``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from spineviewer import formats as registry

if TYPE_CHECKING:  # imported when a command runs: `spineviewer --help` stays fast
    from spineviewer.annotations import AnnotationDocument, Workspace

#: What ``export --format`` accepts: the registry's ``annotations`` family, then ``sr``.
EXPORT_FORMATS = registry.choices(registry.Family.ANNOTATIONS)


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``annotations`` and its actions."""
    parser = subparsers.add_parser(
        "annotations",
        help="list, export (SR / SEG / COCO / KOS / GSPS) or import (SR) annotations",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument(
        "--workspace", type=Path, help="annotation workspace (default: SPINEVIEWER_WORKSPACE)"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the worklist")
    listing.add_argument("--json", action="store_true")
    export = actions.add_parser(
        "export", help="write DICOM SR / SEG / KOS / GSPS and a COCO training set"
    )
    export.add_argument("path", help="the study's images (folder, zip or DICOMDIR)")
    export.add_argument("--out", type=Path, required=True, help="output folder (created)")
    export.add_argument(
        "--format",
        nargs="+",
        choices=EXPORT_FORMATS,
        default=list(registry.defaults(registry.Family.ANNOTATIONS)),
        dest="formats",
        help="default: %(default)s ('sr' is annotations-sr)",
    )
    imp = actions.add_parser("import", help="add the annotations of a DICOM SR to the study")
    imp.add_argument("path", help="the study's images (folder, zip or DICOMDIR)")
    imp.add_argument("sr", type=Path, help="a TID 1500 Measurement Report")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from spineviewer.annotations import Workspace
    from spineviewer.annotations.errors import AnnotationFileError, WorkspaceError
    from spineviewer.dicom import DicomLoadError

    try:
        with Workspace(args.workspace) as workspace:
            if args.action == "list":
                return _list(workspace, args.json)
            return _export(workspace, args) if args.action == "export" else _import(workspace, args)
    except (WorkspaceError, AnnotationFileError, DicomLoadError, ValueError, OSError) as exc:
        print(f"spineviewer annotations: {exc}", file=sys.stderr)
        return 1


def _list(workspace: Workspace, as_json: bool) -> int:
    entries = workspace.studies()
    if as_json:
        rows = [
            {
                "study_uid": e.study_uid,
                "patient": e.patient_name or e.patient_id,
                "status": e.review_status.value,
                "annotator": e.annotator,
                "total": e.total,
                "proposed": e.proposed,
            }
            for e in entries
        ]
        print(json.dumps(rows, indent=2))
        return 0
    for e in entries:
        print(
            f"{e.review_status.value:12s} {e.total:4d} marks {e.proposed:3d} proposed  "
            f"{e.patient_name or e.patient_id or '-'}  {e.study_date}  {e.study_uid}"
        )
    return 0


def _studies(workspace: Workspace, path: str) -> list[tuple[AnnotationDocument, list]]:
    from spineviewer.dicom import scan

    result = scan(path)
    out = []
    for study in result.studies:
        loaded = workspace.load(study.uid)
        if loaded is None:
            print(f"{study.uid}: no annotations in {workspace.root}", file=sys.stderr)
            continue
        for warning in loaded.warnings:
            print(warning, file=sys.stderr)
        stacks = [st for series in study.series for st in series.stacks]
        out.append((loaded.document, stacks))
    return out


def _export(workspace: Workspace, args: argparse.Namespace) -> int:
    from spineviewer.annotations.export import export_study

    studies = _studies(workspace, args.path)
    for doc, stacks in studies:
        folder = args.out if len(studies) == 1 else args.out / doc.study_uid
        result = export_study(doc, stacks, folder, args.formats)
        for path in result.files:
            print(path)
        for reason in result.skipped:
            print(f"skipped: {reason}", file=sys.stderr)
    return 0 if studies else 1


def _import(workspace: Workspace, args: argparse.Namespace) -> int:
    from spineviewer.annotations import AnnotationDocument, UndoStack
    from spineviewer.annotations.commands import AddAnnotations
    from spineviewer.annotations.export import import_study_sr
    from spineviewer.dicom import scan

    result = scan(args.path)
    for study in result.studies:
        stacks = [st for series in study.series for st in series.stacks]
        found = import_study_sr(args.sr, stacks)
        mine = [a for a in found if a.image.study_uid == study.uid]
        if not mine:
            continue
        loaded = workspace.load(study.uid)
        doc = (
            loaded.document
            if loaded is not None
            else AnnotationDocument(study.uid, source_paths=[args.path])
        )
        new = [a for a in mine if a.uid not in doc]
        UndoStack(doc).push(AddAnnotations(new, f"Import {len(new)} from {args.sr.name}"))
        # merges what a viewer (or another import) saved meanwhile: nothing is overwritten
        saved = workspace.commit(doc)
        for notice in saved.notices:
            print(f"{study.uid}: {notice}", file=sys.stderr)
        print(f"{study.uid}: {len(new)} imported, {len(mine) - len(new)} already present")
        return 0
    print(f"{args.sr}: no annotations of the studies under {args.path}", file=sys.stderr)
    return 1
