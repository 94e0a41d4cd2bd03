"""``spineviewer train-detector``: train the vertebral-body detector on phantoms, evaluate it on
held-out phantoms, ship ``vertebrae-sagittal.onnx/.json/.md`` and its evaluation report.

Needs the optional ``train`` extra (torch, onnx, matplotlib): ``pip install -e '.[train]'``.
"""

from __future__ import annotations

import argparse

from spineviewer.cli.train import add_common_arguments, training_ready


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
    add_common_arguments(parser, epochs=8, batch=16, lr=3e-3)
    parser.add_argument("--width", type=int, default=16, help="channels of the first block")
    parser.add_argument(
        "--max-minutes", type=float, default=None, help="stop training after this long"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    phantoms = training_ready("train-detector", args.phantoms)
    if phantoms is None:
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
