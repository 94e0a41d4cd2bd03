"""``spineviewer models list [--json] [--models DIR]`` and ``spineviewer models check PATH``.

``list`` shows every model the registry finds (``--models`` folders, the user model folder,
the bundled ``onnx_models/``), whether it can run and, when not, why, and for two packages of
one id which one is used and why ("used (user folder)", "shadowed by PATH (the user folder
wins over the shipped folder)", "older version than PATH (1.0.0 < 1.2.0, ...)").

``check`` validates one package (the ONNX file, or its manifest beside it): manifest, sha256,
the graph's inputs and outputs; the exit status is 0 only for a usable model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a command runs: `spineviewer --help` stays fast
    from spineviewer.ai.registry import ModelEntry


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list the AI models found, or check one model package",
        description="List the AI models found or check one package (manifest, sha256, graph).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every model found, usable or not (and why)")
    listing.add_argument("--models", type=Path, action="append", default=[], metavar="DIR")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=_list)
    check = actions.add_parser("check", help="validate one model package")
    check.add_argument("path", type=Path, help="NAME.onnx (or NAME.json beside it)")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(func=_check)


def _summary(entry: ModelEntry) -> dict[str, Any]:
    m = entry.manifest
    out: dict[str, Any] = {
        "id": entry.id,
        "available": entry.available,
        "problems": list(entry.problems),
        "onnx": str(entry.onnx_path),
        "manifest": str(entry.manifest_path) if entry.manifest_path else "embedded",
        "card": str(entry.card_path) if entry.card_path else None,
    }
    if entry.origin:
        out.update({"origin": entry.origin, "choice": entry.choice})
    if m is not None:
        out.update(
            {
                "name": m.name,
                "version": m.version,
                "task": m.task,
                "modality": list(m.applies_to.modality),
                "view": list(m.applies_to.view),
                "labels": list(m.label_names),
                "sha256": m.sha256,
                "not_for_clinical_use": m.provenance.not_for_clinical_use,
            }
        )
    return out


def _line(row: dict[str, Any]) -> str:
    choice = row.get("choice", "")
    if not row["available"]:
        if choice.startswith(("shadowed by", "older version")):
            other = [p for p in row["problems"] if not p.startswith("shadowed by")]
            also = f"; also: {'; '.join(other)}" if other else ""
            name = " ".join(filter(None, (row["id"], row.get("version"))))
            return f"{name}: NOT USED, {choice}{also}  [{row['onnx']}]"
        return f"{row['id']}: UNAVAILABLE ({'; '.join(row['problems'])})  [{row['onnx']}]"
    demo = ", not for clinical use" if row["not_for_clinical_use"] else ""
    used = f" -- {choice}" if choice else ""
    return (
        f"{row['id']} {row['version']}: {row['task']} on {'/'.join(row['modality'])} "
        f"{'/'.join(row['view'])} ({', '.join(row['labels'])}){demo}{used}  [{row['onnx']}]"
    )


def _list(args: argparse.Namespace) -> int:
    from spineviewer.ai.registry import find_models, model_dirs

    rows = [_summary(e) for e in find_models(args.models)]
    if args.json:
        folders = [str(d) for d in model_dirs(args.models)]
        print(json.dumps({"folders": folders, "models": rows}, indent=2))
        return 0
    for row in rows:
        print(_line(row))
    if not rows:
        searched = ", ".join(str(d) for d in model_dirs(args.models))
        print(f"no models found (searched {searched})", file=sys.stderr)
    return 0


def _check(args: argparse.Namespace) -> int:
    from spineviewer.ai.registry import load_entry

    path = args.path.with_suffix(".onnx") if args.path.suffix == ".json" else args.path
    row = _summary(load_entry(path))
    if args.json:
        print(json.dumps(row, indent=2))
    elif row["available"]:
        print(f"OK {_line(row)}")
    else:
        print(f"{path}: not usable", file=sys.stderr)
        for problem in row["problems"]:
            print(f"  - {problem}", file=sys.stderr)
    return 0 if row["available"] else 1
