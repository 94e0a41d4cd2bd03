"""``spineviewer phantom OUT_DIR --kind KIND [--count N] [--seed S]``: synthetic studies.

Study ``i`` gets seed ``S + i`` and goes to ``OUT_DIR/<kind>-<seed:05d>/``. Synthetic data:
not for clinical use.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from spineviewer.phantom import KINDS, generate, study_folder_name


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


def add_subparser(subparsers: Any) -> None:
    """Register the ``phantom`` subcommand."""
    parser = subparsers.add_parser(
        "phantom",
        help="write synthetic spine studies with ground truth (not for clinical use)",
        description=__doc__,
    )
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="output folder")
    parser.add_argument("--kind", required=True, choices=KINDS, help="study kind")
    parser.add_argument("--count", type=_positive_int, default=1, help="number of studies (1)")
    parser.add_argument("--seed", type=_seed, default=0, help="seed of the first study (0)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate the studies; print one line per study."""
    for seed in range(args.seed, args.seed + args.count):
        truth = generate(args.kind, args.out_dir, seed)
        images = sum(s.number_of_images for s in truth.series)
        folder = Path(args.out_dir) / study_folder_name(args.kind, seed)
        print(f"{folder}: {len(truth.series)} series, {images} images (synthetic phantom)")
    return 0
