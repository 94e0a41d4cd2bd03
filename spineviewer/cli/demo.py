"""``spineviewer demo``: build the embedded demo study (a lumbar MR phantom) and open it.

The demo study is synthesised by :mod:`spineviewer.phantom` from a fixed seed, so every
installation gets the same images without shipping patient data. It is generated once into
the user cache and reused. With a display the viewer opens on it; without one (or with
``--headless``) the study summary is printed. NOT FOR CLINICAL USE.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from spineviewer import config
from spineviewer.cli.info import print_summary
from spineviewer.cli.screen import display_problem
from spineviewer.cli.view import add_view_options, start_splash

if TYPE_CHECKING:  # imported when a command runs: `spineviewer --help` stays fast
    from spineviewer.phantom.truth import StudyGroundTruth

DEMO_KIND = "lumbar-mr"
DEMO_SEED = 1


def default_demo_dir() -> Path:
    """Where the demo study is written: ``demo`` in the ``cache_dir`` setting
    (:mod:`spineviewer.config`; ``~/.cache/spineviewer/demo`` on Linux by default)."""
    return config.load().cache_dir / "demo"


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="open the viewer on the embedded demo study (synthetic lumbar MR)",
        description=(
            "Generate the demo study once (a synthetic lumbar MR phantom with ground truth; not "
            "for clinical use) and open the viewer on it; without a display, print what the "
            "DICOM loader finds in it."
        ),
    )
    parser.add_argument(
        "--out", type=Path, default=None, help=f"output folder (default {default_demo_dir()})"
    )
    add_view_options(parser)
    parser.set_defaults(func=run)


def ensure_demo_study(out: Path) -> tuple[Path, StudyGroundTruth]:
    """The demo study folder, generated unless a complete one is already there."""
    from spineviewer.phantom import generate, load_ground_truth, study_folder_name

    study_dir = out / study_folder_name(DEMO_KIND, DEMO_SEED)
    try:
        truth = load_ground_truth(study_dir)
        complete = all(
            len(list((study_dir / s.folder).glob("*.dcm"))) == s.number_of_images
            for s in truth.series
        )
    except (OSError, ValueError, KeyError, AttributeError):
        complete = False
    if not complete:
        truth = generate(DEMO_KIND, out, DEMO_SEED)
    return study_dir, truth


def run(args: argparse.Namespace) -> int:
    """Generate the study (unless already there), then open it or print its summary."""
    out = args.out if args.out is not None else default_demo_dir()
    problem = None if args.screenshot else display_problem()
    window = not args.headless and problem is None
    splash = start_splash(args) if window else None
    study_dir, truth = ensure_demo_study(out)
    print(f"Demo study (synthetic phantom, NOT FOR CLINICAL USE): {study_dir}")
    if window:
        from spineviewer.gui.app import run_viewer

        return run_viewer(
            [study_dir], args.screenshot, args.layout, analyze=args.analyze, splash=splash
        )
    if problem is not None and not args.headless:
        print(f"No viewer window: {problem}; printing the study summary instead.", file=sys.stderr)
    print()
    from spineviewer.dicom import scan

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
    print(f"\nAll {loaded} images loaded.")
    from spineviewer.ai.analysis import analyse_path

    (findings,) = analyse_path(study_dir)
    print(f"\nAI findings (provider {findings.provider}):")
    print("\n".join(f"  {line}" for line in findings.summary_lines()))
    states = {d.level: d.state for d in truth.discs}
    agree = sum(d.state == states.get(d.level) for d in findings.discs)
    print(f"\nDisc states agreeing with the ground truth: {agree} of {len(findings.discs)}")
    print(f"Next: spineviewer analyze {study_dir} --json findings.json")
    return 0
