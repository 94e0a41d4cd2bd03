"""The ``spineviewer`` command: ``main(argv=None) -> int``, one module per subcommand.

Each subcommand module exposes ``add_subparser(subparsers)`` which registers its parser and
sets ``func`` to a ``run(args) -> int`` callable.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from spineviewer import __version__

#: Subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS: tuple[str, ...] = (
    "demo",
    "view",
    "info",
    "analyze",
    "report",
    "export-images",
    "export-study",
    "batch",
    "pacs",
    "annotations",
    "train",
    "train-detector",
    "evaluate",
    "evaluation",
    "models",
    "doctor",
    "phantom",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="spineviewer",
        description="SpineViewer: spine radiology viewer with local AI (not for clinical use).",
    )
    parser.add_argument("--version", action="version", version=f"spineviewer {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"spineviewer.cli.{name.replace('-', '_')}")
        module.add_subparser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``spineviewer`` command line and return its exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 2
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
