"""``spineviewer train TASK``: train, compare backbones, evaluate on held-out phantoms, ship.

Needs the optional ``train`` extra (torch, torchvision, onnx, matplotlib):
``pip install -e '.[train]'``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from spineviewer.cli.demo import default_demo_dir


def default_phantom_dir() -> Path:
    """Where training phantoms are generated once: beside the demo study in the user cache."""
    return default_demo_dir().parent / "phantoms"


def add_common_arguments(
    parser: argparse.ArgumentParser, epochs: int | None, batch: int, lr: float
) -> None:
    """Options every training command shares (output, phantoms, schedule, seed, scale, report)."""
    parser.add_argument("--out", type=Path, default=Path("onnx_models"))
    parser.add_argument("--phantoms", type=Path, default=None, help="phantom cache folder")
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--batch-size", type=int, default=batch)
    parser.add_argument("--lr", type=float, default=lr)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the phantom studies to use (tests)"
    )
    parser.add_argument(
        "--report", type=Path, help="evaluation report folder (default: OUT/NAME-evaluation)"
    )


def training_ready(command: str, phantoms: Path | None) -> Path | None:
    """The phantom folder (created), or None after saying the training extra is missing."""
    if importlib.util.find_spec("torch") is None:
        print(
            f"spineviewer {command} needs the training extra: pip install -e '.[train]'",
            file=sys.stderr,
        )
        return None
    folder = phantoms or default_phantom_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


#: ``spineviewer.training.tasks.TASKS`` (a test keeps them equal; importing it is slow).
TRAIN_TASKS = ("disc-state", "disc-state-sagittal", "vertebra-fracture")


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a demo model on phantoms, evaluate it on held-out phantoms, export it",
        description=(
            "Train TASK on phantom studies (generated once into --phantoms), compare backbones by "
            "validation accuracy, evaluate the best on held-out phantoms with onnxruntime and "
            "write NAME.onnx, NAME.json (manifest) and NAME.md (model card) into --out. With "
            "--data, train on annotation exports (spineviewer annotations export --format coco) "
            "instead, split by study into train, validation and test. Not for clinical use."
        ),
    )
    parser.add_argument("task", choices=TRAIN_TASKS)
    parser.add_argument(
        "--data",
        type=Path,
        nargs="+",
        default=[],
        metavar="EXPORT",
        help="annotation export folders (COCO + frames) to train on instead of phantoms",
    )
    add_common_arguments(parser, epochs=30, batch=32, lr=1e-3)
    parser.add_argument(
        "--backbone",
        nargs="+",
        default=["mobilenet_v2"],
        help="one or more of mobilenet_v2 efficientnet_b0 resnet18 resnet50 densenet121 vgg16",
    )
    parser.add_argument("--weights", type=Path, help="local pretrained state-dict file")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    phantoms = training_ready("train", args.phantoms)
    if phantoms is None:
        return 1
    from spineviewer.training.classifier import TrainConfig
    from spineviewer.training.coco_data import ExportError
    from spineviewer.training.pipeline import train_and_ship
    from spineviewer.training.tasks import task

    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        seed=args.seed,
        weights=args.weights,
        threads=args.threads,
    )
    try:
        shipped = train_and_ship(
            task(args.task),
            phantoms,
            args.out,
            args.backbone,
            config,
            args.scale,
            args.report,
            lambda text: print(text, flush=True),
            exports=args.data,
        )
    except ExportError as exc:
        print(f"spineviewer train: {exc}", file=sys.stderr)
        return 1
    fused, crop = shipped.metrics.fused, shipped.metrics.crop
    print(
        f"held-out accuracy per {shipped.metrics.unit} {fused['accuracy']:.4f}, per crop "
        f"{crop['accuracy']:.4f}: {shipped.onnx_path}"
    )
    return 0
