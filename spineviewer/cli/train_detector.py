"""``spineviewer train-detector [--task T]``: train a detector on phantoms, evaluate it on
held-out phantoms, ship ``T.onnx/.json/.md`` and its evaluation report. Tasks:
``vertebrae-sagittal`` (sagittal MR), ``implants-ap`` and ``vertebrae-ap`` (AP radiographs).

Needs the optional ``train`` extra (torch, onnx, matplotlib): ``pip install -e '.[train]'``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TypedDict, cast

from spineviewer.cli.train import add_common_arguments, training_ready


class _Augmentation(TypedDict):
    """The keys of ``detection_pipeline.AUGMENT`` (a ``dict[str, float]`` there), so that
    mypy checks them against :class:`~spineviewer.training.detector.DetectorConfig`'s fields."""

    rotation: float
    intensity: float
    gamma: float
    noise: float
    blur: float
    zoom: float


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-detector",
        help="train a detector (vertebrae on sagittal MR, implants or vertebrae on AP "
        "radiographs) on phantoms, evaluate, export",
        description=(
            "Train a detector on phantom studies (generated once into --phantoms), keep the best "
            "validation epoch, evaluate it on held-out phantoms with onnxruntime and write "
            "TASK.onnx, .json (manifest) and .md (model card) into --out. vertebrae-sagittal: "
            "VerSe identification rate and localisation error on lumbar MR; implants-ap: AP@0.5 "
            "per implant class; vertebrae-ap: identification, endplate tilts and the Cobb angle "
            "(MAE, SMAPE) on AP radiographs. Not for clinical use."
        ),
    )
    parser.add_argument(
        "--task",
        choices=("vertebrae-sagittal", "implants-ap", "vertebrae-ap"),
        default="vertebrae-sagittal",
        help="which detector (default vertebrae-sagittal)",
    )
    add_common_arguments(parser, epochs=None, batch=16, lr=3e-3)
    parser.add_argument("--width", type=int, default=16, help="channels of the first block")
    parser.add_argument(
        "--max-minutes", type=float, default=None, help="stop training after this long"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    phantoms = training_ready("train-detector", args.phantoms)
    if phantoms is None:
        return 1
    from spineviewer.training.detector import DetectorConfig

    if args.task != "vertebrae-sagittal":
        return _run_xr(args, phantoms)
    from spineviewer.training.detection_pipeline import AUGMENT, train_and_ship_detector

    config = DetectorConfig(
        width=args.width,
        epochs=args.epochs or 8,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        seed=args.seed,
        max_minutes=args.max_minutes,
        **cast(_Augmentation, AUGMENT),
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


def _run_xr(args: argparse.Namespace, phantoms: Path) -> int:
    from spineviewer.training.detector import DetectorConfig
    from spineviewer.training.xr_pipeline import train_and_ship_xr
    from spineviewer.training.xr_tasks import XR_TASKS

    task = XR_TASKS[args.task]
    config = DetectorConfig(
        width=args.width,
        epochs=args.epochs or task.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        seed=args.seed,
        max_minutes=args.max_minutes,
    )
    shipped = train_and_ship_xr(
        task, phantoms, args.out, config, args.scale, args.report, lambda t: print(t, flush=True)
    )
    ap = shipped.evaluation["detection"]["mean_ap"]
    cobb = shipped.evaluation.get("cobb")
    print(
        f"held-out mAP50 {ap or 0:.4f}"
        + (f", Cobb angle MAE {cobb['mae_deg']:.2f} deg" if cobb else "")
        + f": {shipped.onnx_path}"
    )
    return 0
