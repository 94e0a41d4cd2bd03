"""``spineviewer train-detector``: train the vertebral-body detector on phantoms, evaluate it on
held-out phantoms, ship ``vertebrae-sagittal.onnx/.json/.md`` and its evaluation report.

Needs the optional ``train`` extra (torch, onnx, matplotlib): ``pip install -e '.[train]'``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from spineviewer.cli.train import default_phantom_dir


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-detector",
        help="train the vertebral-body detector (sagittal MR) on phantoms, evaluate, export",
        description=(
            "Train the vertebrae-sagittal detector on lumbar MR phantom studies (generated once "
            "into --phantoms), keep the best validation epoch, evaluate it on held-out phantoms "
            "with onnxruntime (VerSe identification rate, localisation error in mm) and write "
            "vertebrae-sagittal.onnx, .json (manifest) and .md (model card) into --out. "
            "Not for clinical use."
        ),
    )
    parser.add_argument("--out", type=Path, default=Path("onnx_models"))
    parser.add_argument("--phantoms", type=Path, default=None, help="phantom cache folder")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--width", type=int, default=16, help="channels of the first block")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--max-minutes", type=float, default=None, help="stop training after this long"
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the phantom studies to use (tests)"
    )
    parser.add_argument("--report", type=Path, help="evaluation report folder")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("torch") is None:
        print(
            "spineviewer train-detector needs the training extra: pip install -e '.[train]'",
            file=sys.stderr,
        )
        return 1
    from spineviewer.training.detection_pipeline import train_and_ship_detector
    from spineviewer.training.detector import DetectorConfig

    config = DetectorConfig(
        width=args.width,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        seed=args.seed,
        max_minutes=args.max_minutes,
    )
    phantoms = args.phantoms or default_phantom_dir()
    phantoms.mkdir(parents=True, exist_ok=True)
    shipped = train_and_ship_detector(
        phantoms,
        args.out,
        config,
        args.scale,
        args.report,
        lambda text: print(text, flush=True),
    )
    ident = shipped.evaluation["identification"]
    error = ident["localisation_error_mm"]["identified"]["mean"]
    print(
        f"held-out identification rate {ident['rate'] or 0:.4f}, mean localisation error "
        + ("n/a" if error is None else f"{error:.2f} mm")
        + f": {shipped.onnx_path}"
    )
    return 0
