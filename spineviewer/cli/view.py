"""``spineviewer view [PATH ...]``: open the workstation viewer on folders, zips, DICOMDIRs."""

from __future__ import annotations

import argparse
import importlib
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from spineviewer.cli.info import print_summary
from spineviewer.cli.screen import display_problem

if TYPE_CHECKING:  # imported when a command runs: `spineviewer --help` stays fast
    from spineviewer.gui.splash import Splash

LAYOUT_CHOICES = ("1x1", "1x2", "1x3", "2x2")


def add_view_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``view`` and ``demo``."""
    parser.add_argument(
        "--headless",
        action="store_true",
        help="do not open a window: print the study summary (as without a display)",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="open the window, wait until loading ends, save it as PNG and exit",
    )
    parser.add_argument("--layout", choices=LAYOUT_CHOICES, help="layout for --screenshot")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="run the AI models once the study is open (headless: print the findings)",
    )


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``view`` subcommand."""
    parser = subparsers.add_parser(
        "view",
        help="open the viewer on DICOM folders, zip archives or DICOMDIRs",
        description="Open the SpineViewer workstation window (not for clinical use).",
    )
    parser.add_argument("paths", nargs="*", type=Path, help="folders, zip files, DICOMDIRs, files")
    add_view_options(parser)
    parser.set_defaults(func=run)


def open_or_summarise(paths: list[Path], args: argparse.Namespace) -> int:
    """Open the viewer, or print the headless summary when no window can be shown."""
    problem = None if args.screenshot else display_problem()
    if args.headless or problem:
        if problem and not args.headless:
            print(
                f"No viewer window: {problem}; printing the study summary instead.", file=sys.stderr
            )
        from spineviewer.dicom import scan

        for path in paths:
            print_summary(scan(path), sys.stdout)
            if args.analyze:
                print_findings(path)
        return 0
    splash = start_splash(args)
    if splash is not None:
        from spineviewer.gui.splash import show_preview

        show_preview(splash, paths)  # the first image, before the window's heavy imports
    from spineviewer.gui.app import run_viewer

    return run_viewer(paths, args.screenshot, args.layout, analyze=args.analyze, splash=splash)


def start_splash(args: argparse.Namespace) -> Splash | None:
    """The start-up splash (not for scripted screenshots), painted before the viewer's heavy
    imports; None when there is none."""
    if args.screenshot:
        return None
    # the preview's reader (numpy, pydicom: about 0.3 s) is imported on another thread while
    # Qt starts and the window system maps the splash; show_preview waits for it
    threading.Thread(target=importlib.import_module, args=("spineviewer.dicom",)).start()
    from spineviewer import __version__
    from spineviewer.gui.splash import show_splash

    return show_splash(__version__)


def print_findings(path: Path) -> None:
    """Run the AI pipelines on ``path`` and print what they found."""
    from spineviewer.ai.analysis import analyse_path

    for findings in analyse_path(path):
        print(f"\nAI findings for study {findings.study_uid} (provider {findings.provider}):")
        print("\n".join(f"  {line}" for line in findings.summary_lines()))


def run(args: argparse.Namespace) -> int:
    """Open the viewer (or summarise headless)."""
    missing = [p for p in args.paths if not p.exists()]
    if missing:
        for p in missing:
            print(f"error: {p}: no such file or folder", file=sys.stderr)
        return 2
    return open_or_summarise(list(args.paths), args)
