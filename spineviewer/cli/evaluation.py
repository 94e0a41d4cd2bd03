"""``spineviewer evaluation generate OUT --count N --seed S``, ``spineviewer evaluation
score STUDIES... [--json OUT.json]`` and ``spineviewer evaluation invariance OUT --pairs N
--seed S [--factor F ...] [--json FILE]``: the independent evaluation generator, its scorer and
the invariance check.

``generate`` writes studies of seeds S .. S+N-1 (``OUT/eval-lumbar-mr-<seed:06d>/``, or with
``--kind lumbar-ct`` ``OUT/eval-lumbar-ct-<seed:06d>/``, axial CT with a label map, or with
``--kind spine-xr`` ``OUT/eval-spine-xr-<seed:06d>/``, one AP radiograph, or with ``--kind
lumbar-mr-fracture`` ``OUT/eval-lumbar-mr-fracture-<seed:06d>/``, lumbar MR with compression
fractures) from
:mod:`spineviewer.evaluation`, a generator no model is trained or tuned on. ``score`` runs every
AI pipeline on each study (a study folder, or a folder of study folders, with its
``ground_truth.json``; studies of ``spineviewer phantom`` are read too), compares the findings
with the truth and prints a table per study kind (radiographs: vertebra labels, Cobb angle error
and implant AP@0.5; lumbar MR: also every vertebra's fracture answer, sensitivity by Genant grade,
specificity, coverage and AUC); ``--json`` writes every number. The models
run on the CPU unless ``--provider`` says otherwise. ``invariance`` writes, for each seed, a
base study and one variant per factor (non-square pixels, stored values x4, a stored offset
with RescaleIntercept, twice the noise; :mod:`spineviewer.evaluation.invariance`), runs the AI
on both as ``score`` does and counts the pairs whose labels and disc states are identical; it
prints a table and writes ``invariance.json`` and ``invariance.md`` (into OUT unless ``--json``
names the file; the Markdown goes beside it). Synthetic data: not for clinical use.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from spineviewer.cli.analyze import add_model_options
from spineviewer.cli.arguments import positive_int, seed_number

GROUND_TRUTH = "ground_truth.json"


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluation",
        help="generate independent evaluation studies and score the AI on them",
        description=(
            "The second, independent phantom generator (used only for evaluation: no model is "
            "trained or tuned on it) and the scorer of the AI pipelines on its studies."
        ),
    )
    commands = parser.add_subparsers(dest="evaluation_command", metavar="ACTION")
    gen = commands.add_parser(
        "generate", help="write evaluation studies (lumbar MR, lumbar CT or AP spine radiographs)"
    )
    gen.add_argument("out", type=Path, metavar="OUT", help="folder to write the studies into")
    gen.add_argument(
        "--kind",
        choices=STUDY_KINDS,
        default=STUDY_KINDS[0],
        help=(
            "lumbar-mr (default), lumbar-ct (an axial CT in HU with a label map), spine-xr "
            "(an AP radiograph, DX or CR, with curves and implants) or lumbar-mr-fracture "
            "(lumbar MR with vertebral compression fractures, Genant grades 1-3)"
        ),
    )
    gen.add_argument("--count", type=positive_int, default=1, help="number of studies (default 1)")
    gen.add_argument("--seed", type=seed_number, default=0, help="first seed (default 0)")
    gen.set_defaults(func=run_generate)
    score = commands.add_parser("score", help="run the AI on studies and score it")
    score.add_argument(
        "studies",
        type=Path,
        nargs="+",
        metavar="STUDIES",
        help="study folders, or folders holding study folders",
    )
    score.add_argument("--json", type=Path, metavar="OUT.json", help="write every number")
    add_model_options(score, provider="cpu")
    score.set_defaults(func=run_score)
    _add_invariance(commands)
    parser.set_defaults(func=lambda args: _usage(parser))


#: :data:`spineviewer.evaluation.study_kinds.STUDY_KINDS`, repeated so building the parser imports
#: nothing heavy (a test checks they agree).
STUDY_KINDS = ("lumbar-mr", "lumbar-ct", "spine-xr", "lumbar-mr-fracture")
#: :data:`spineviewer.evaluation.invariance.FACTORS`, MIN_PAIRS and DEFAULT_SEED, repeated so
#: building the parser imports nothing heavy (a test checks they agree).
INVARIANCE_FACTORS = ("non-square", "intensity-x4", "offset-intercept", "noise-2x")
INVARIANCE_PAIRS = 20
INVARIANCE_SEED = 710000


def _add_invariance(commands: argparse._SubParsersAction) -> None:
    inv = commands.add_parser(
        "invariance",
        help="paired studies, one acquisition factor changed: does the AI say the same?",
    )
    inv.add_argument("out", type=Path, metavar="OUT", help="folder to write the studies into")
    inv.add_argument(
        "--pairs",
        type=positive_int,
        default=INVARIANCE_PAIRS,
        help=f"seeds, each one pair per factor (default {INVARIANCE_PAIRS})",
    )
    inv.add_argument(
        "--seed",
        type=seed_number,
        default=INVARIANCE_SEED,
        help=f"first seed (default {INVARIANCE_SEED}, clear of the baseline's 700000-700039)",
    )
    inv.add_argument(
        "--factor",
        action="append",
        choices=INVARIANCE_FACTORS,
        metavar="F",
        help=f"a factor to vary, repeatable (default all: {', '.join(INVARIANCE_FACTORS)})",
    )
    inv.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="the JSON to write (default OUT/invariance.json; the Markdown goes beside it)",
    )
    add_model_options(inv, provider="cpu")
    inv.set_defaults(func=run_invariance)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_generate(args: argparse.Namespace) -> int:
    from spineviewer.evaluation import generate

    started = time.perf_counter()
    try:
        folders = generate(
            args.out,
            args.seed,
            args.count,
            progress=lambda folder: print(f"wrote {folder}", file=sys.stderr, flush=True),
            kind=args.kind,
        )
    except OSError as exc:
        print(f"spineviewer evaluation generate: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    print(
        f"{len(folders)} evaluation studies in {args.out} ({seconds:.1f} s; synthetic, "
        "for evaluation only)"
    )
    return 0


def study_folders(paths: list[Path]) -> list[Path]:
    """Each path that holds a ground truth, else its sub-folders that do, in name order."""
    out: list[Path] = []
    for path in paths:
        if not path.is_dir():
            raise ValueError(f"{path}: no such folder")
        if (path / GROUND_TRUTH).is_file():
            out.append(path)
            continue
        found = sorted(p for p in path.iterdir() if (p / GROUND_TRUTH).is_file())
        if not found:
            raise ValueError(f"{path}: no {GROUND_TRUTH} in it or in its sub-folders")
        out += found
    return out


def run_score(args: argparse.Namespace) -> int:
    from spineviewer.ai.registry import find_models
    from spineviewer.ai.sessions import SessionCache
    from spineviewer.evaluation.analyse import analyse_folder
    from spineviewer.evaluation.score import models_used
    from spineviewer.evaluation.score_fractures import (
        fracture_table,
        score_fracture_folder,
        summarise_fractures,
    )
    from spineviewer.evaluation.score_xr import is_xr_study
    from spineviewer.evaluation.totals import group, summary_table

    try:
        folders = study_folders(args.studies)
    except ValueError as exc:
        print(f"spineviewer evaluation score: {exc}", file=sys.stderr)
        return 1
    entries = find_models(args.models)
    sessions = SessionCache(args.provider)
    started = time.perf_counter()
    scores = []
    fracture_scores = []  # every MR study: its intact bodies count for specificity too
    for folder in folders:
        try:
            score, findings = analyse_folder(folder, entries, sessions)
            if not is_xr_study(folder):
                fracture_scores.append(score_fracture_folder(folder, findings))
        except ValueError as exc:
            print(f"spineviewer evaluation score: {exc}", file=sys.stderr)
            return 1
        scores.append(score)
        print(_study_line(folder, score), file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    grouped = group(scores)
    print(summary_table(grouped))
    fractures = summarise_fractures(fracture_scores) if fracture_scores else None
    if fractures is not None:
        print("\nVertebral fractures (lumbar MR)\n" + fracture_table(fractures))
    print(f"\n{len(scores)} studies scored in {seconds:.1f} s (provider {sessions.provider})")
    if args.json is not None:
        payload: dict[str, Any] = {
            "command": "spineviewer evaluation score " + " ".join(map(str, args.studies)),
            "provider": sessions.provider,
            "models": models_used(entries),
            "seconds": round(seconds, 1),
            **grouped,
            "studies": [s.to_dict() for s in scores],
        }
        if fractures is not None:
            payload["fractures"] = fractures
            payload["fracture_studies"] = [s.to_dict() for s in fracture_scores]
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        print(f"scores written to {args.json}")
    return 0


def _study_line(folder: Path, score: Any) -> str:
    """One progress line: the labels' verdict, and the discs (MR) or the Cobb angle and the
    implants (radiographs)."""
    from spineviewer.evaluation.score_xr import XrStudyScore

    if isinstance(score, XrStudyScore):
        cobb = (
            "none"
            if score.cobb_reported_deg is None
            else f"{score.cobb_reported_deg:.1f} (truth {score.cobb_truth_deg or 0:.1f})"
        )
        hits = sum(m.true_positive for m in score.implant_matches)
        what = (
            f"Cobb {cobb}, implants {hits}/{sum(score.implant_truth.values())} found, "
            f"{len(score.implant_matches) - hits} false"
        )
    else:
        what = f"discs {sum(d.right for d in score.discs)}/{len(score.discs)}"
    note = f" ERROR {score.error}" if score.error else ""
    return (
        f"{folder.name}: {score.kind}, labels {score.labels}, {what} ({score.seconds:.1f} s){note}"
    )


def run_invariance(args: argparse.Namespace) -> int:
    from spineviewer.ai.registry import find_models
    from spineviewer.ai.sessions import SessionCache
    from spineviewer.evaluation import invariance

    factors = tuple(dict.fromkeys(args.factor or INVARIANCE_FACTORS))
    json_path = args.json if args.json is not None else args.out / "invariance.json"
    last = args.seed + args.pairs - 1
    if args.seed <= 700039 and last >= 700000:
        print(
            "spineviewer evaluation invariance: note: these seeds overlap the baseline's "
            "700000-700039",
            file=sys.stderr,
        )
    try:
        payload = invariance.run_invariance(
            args.out,
            args.seed,
            args.pairs,
            factors,
            find_models(args.models),
            SessionCache(args.provider),
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except (OSError, ValueError) as exc:
        print(f"spineviewer evaluation invariance: {exc}", file=sys.stderr)
        return 1
    command = (
        f"spineviewer evaluation invariance {args.out} --pairs {args.pairs} --seed {args.seed}"
    )
    payload = {"command": command + "".join(f" --factor {f}" for f in factors), **payload}
    print(invariance.invariance_table(payload["summary"]))
    print(
        f"\n{args.pairs} seeds x {len(factors)} factors in {payload['seconds']:.1f} s "
        f"(provider {payload['provider']}; synthetic, for evaluation only)"
    )
    markdown = json_path.with_suffix(".md")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    markdown.write_text(invariance.invariance_markdown(payload), encoding="utf-8")
    print(f"written {json_path} and {markdown}")
    return 0
