"""``spineviewer phantom OUT_DIR --kind KIND [--count N] [--seed S]``: synthetic studies.

Study ``i`` gets seed ``S + i`` and goes to ``OUT_DIR/<kind>-<seed:05d>/``. Vertebral
compression fractures: ``--fracture-rate R`` (chance per vertebra) and ``--fracture
LABEL:KIND[:GRADE]`` (e.g. ``L1:wedge:2``; repeatable). Synthetic data: not for clinical use.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a command runs: `spineviewer --help` stays fast
    from spineviewer.phantom.fractures import FractureRequest

#: ``spineviewer.phantom.KINDS`` (a test keeps them equal).
PHANTOM_KINDS = ("lumbar-mr", "spine-xr", "lumbar-ct")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must lie between 0 and 1, got {value}")
    return value


def _fracture(text: str) -> FractureRequest:
    from spineviewer.phantom.fractures import parse_fracture

    try:
        return parse_fracture(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_subparser(subparsers: Any) -> None:
    """Register the ``phantom`` subcommand."""
    parser = subparsers.add_parser(
        "phantom",
        help="write synthetic spine studies with ground truth (not for clinical use)",
        description=__doc__,
    )
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="output folder")
    parser.add_argument("--kind", required=True, choices=PHANTOM_KINDS, help="study kind")
    parser.add_argument("--count", type=_positive_int, default=1, help="number of studies (1)")
    parser.add_argument("--seed", type=_seed, default=0, help="seed of the first study (0)")
    parser.add_argument(
        "--fracture-rate",
        type=_rate,
        default=0.0,
        metavar="R",
        help="chance that each vertebra has a compression fracture (0; X-ray: crush only)",
    )
    parser.add_argument(
        "--fracture",
        type=_fracture,
        action="append",
        default=[],
        metavar="LABEL:KIND[:GRADE]",
        help="a fracture at one vertebra: wedge, crush or biconcave, Genant grade 1-3 (repeatable)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from spineviewer.phantom import generate, study_folder_name

    """Generate the studies; print one line per study."""
    for seed in range(args.seed, args.seed + args.count):
        try:
            truth = generate(
                args.kind,
                args.out_dir,
                seed,
                fracture_rate=args.fracture_rate,
                fractures=args.fracture,
            )
        except ValueError as exc:
            print(f"spineviewer phantom: error: {exc}", file=sys.stderr)
            return 2
        images = sum(s.number_of_images for s in truth.series)
        folder = Path(args.out_dir) / study_folder_name(args.kind, seed)
        broken = [
            f"{v.label} {v.fracture} grade {v.genant_grade}" for v in truth.vertebrae if v.fracture
        ]
        note = f"; fractures: {', '.join(broken)}" if broken else ""
        print(f"{folder}: {len(truth.series)} series, {images} images (synthetic phantom){note}")
    return 0
