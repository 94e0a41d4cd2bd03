"""``spineviewer train TASK``: train, compare backbones, evaluate on held-out phantoms, ship.

TASK is one of the classifiers (:data:`TRAIN_TASKS`) or ``segmentation``: the demo spine CT
segmentation model, the options of :mod:`spineviewer.training.segmentation_train` (``spineviewer
train segmentation --out onnx_models --iterations 1000 ...``).

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


#: The task of ``spineviewer train segmentation`` (the demo spine CT segmentation model).
SEGMENTATION_TASK = "segmentation"


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a demo model on phantoms, evaluate it on held-out phantoms, export it",
        description=(
            "Train TASK on phantom studies (generated once into --phantoms), compare backbones by "
            "validation accuracy, evaluate the best on held-out phantoms with onnxruntime and "
            "write NAME.onnx, NAME.json (manifest) and NAME.md (model card) into --out. With "
            "--data, train on annotation exports (spineviewer annotations export --format coco) "
            "instead, split by study into train, validation and test. 'segmentation' trains "
            "the demo spine CT segmentation model (a 3D U-Net on lumbar-ct phantom label maps; "
            "spineviewer train segmentation --help). Not for clinical use."
        ),
    )
    tasks = parser.add_subparsers(dest="task", metavar="TASK", required=True)
    for name in TRAIN_TASKS:
        _add_classifier_task(tasks, name)
    _add_segmentation_task(tasks)


def _add_classifier_task(tasks: argparse._SubParsersAction, name: str) -> None:
    parser = tasks.add_parser(
        name,
        help=f"the {name} classifier",
        description=f"Train the {name} classifier on phantoms (or --data exports), evaluate "
        "it on held-out phantoms, export it. Not for clinical use.",
    )
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


def _add_segmentation_task(tasks: argparse._SubParsersAction) -> None:
    """``spineviewer train segmentation``: the options of
    :func:`spineviewer.training.segmentation_train.parser` (one definition of them)."""
    from spineviewer.training.segmentation_train import parser as segmentation_parser

    own = segmentation_parser()
    parser = tasks.add_parser(
        SEGMENTATION_TASK,
        parents=[own],
        conflict_handler="resolve",  # the parent's own -h
        help="the demo spine CT segmentation model (3D U-Net, sliding window)",
        description=(
            f"{own.description} Generates the phantoms (seeds 1000+) into --cache, fits the "
            "network, exports spine-ct-segmentation.onnx with its manifest and card into --out "
            "and measures it on held-out phantoms (seeds 9000+) through the registry, as the "
            "viewer runs it (docs/segmentation.md). Not for clinical use."
        ),
    )
    parser.set_defaults(func=run_segmentation, segmentation_parser=own)


def segmentation_argv(args: argparse.Namespace, own: argparse.ArgumentParser) -> list[str]:
    """The command line of :func:`spineviewer.training.segmentation_train.main` that gives
    the values ``args`` holds for ``own``'s options (those left at their default omitted)."""
    argv: list[str] = []
    for action in own._actions:
        if not action.option_strings or action.dest == "help":
            continue
        value = getattr(args, action.dest, action.default)
        if value != action.default:
            argv += [action.option_strings[-1], str(value)]
    return argv


def run_segmentation(args: argparse.Namespace) -> int:
    if training_ready(f"train {SEGMENTATION_TASK}", None) is None:
        return 1
    from spineviewer.training.segmentation_train import main

    return main(segmentation_argv(args, args.segmentation_parser))


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
