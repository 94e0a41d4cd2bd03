"""``spineviewer demo``: build the embedded demo study (a lumbar MR phantom) and show it.

The demo study is synthesised by :mod:`spineviewer.phantom` from a fixed seed, so every
installation gets the same images without shipping patient data. NOT FOR CLINICAL USE.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from spineviewer.cli.info import print_summary
from spineviewer.dicom import scan

DEMO_KIND = "lumbar-mr"
DEMO_SEED = 1


def default_demo_dir() -> Path:
    """Where the demo study is written: ``$XDG_CACHE_HOME/spineviewer/demo``."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "spineviewer" / "demo"


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="generate the embedded demo study (synthetic lumbar MR) and summarise it",
        description=(
            "Generate the demo study (a synthetic lumbar MR phantom with ground truth; not for "
            "clinical use) and print what the DICOM loader finds in it."
        ),
    )
    parser.add_argument(
        "--out", type=Path, default=None, help=f"output folder (default {default_demo_dir()})"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate the study (unless already there) and print its summary."""
    from spineviewer.phantom import generate, study_folder_name

    out = args.out if args.out is not None else default_demo_dir()
    truth = generate(DEMO_KIND, out, DEMO_SEED)
    study_dir = out / study_folder_name(DEMO_KIND, DEMO_SEED)
    print(f"Demo study (synthetic phantom, NOT FOR CLINICAL USE): {study_dir}\n")
    result = scan(study_dir)
    print_summary(result, sys.stdout)
    print("\nGround truth (ground_truth.json):")
    for disc in truth.discs:
        print(f"  {disc.level:8s} {disc.state}")
    loaded = sum(len(stack) for stack in result.stacks())
    expected = sum(series.number_of_images for series in truth.series)
    if loaded != expected:
        print(f"error: loaded {loaded} images, the generator wrote {expected}", file=sys.stderr)
        return 1
    print(f"\nAll {loaded} images loaded. Next: spineviewer info {study_dir} --json")
    return 0
