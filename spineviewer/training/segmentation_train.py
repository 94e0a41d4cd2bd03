"""Train, export, evaluate and ship the demo spine CT segmentation model.

``python -m spineviewer.training.segmentation_train --out DIR`` generates ``lumbar-ct``
phantoms for the training seeds (:mod:`~spineviewer.training.segmentation_data`), fits the
3D U-Net (:mod:`~spineviewer.training.segmentation_fit`), saves its weights, exports it as
``spine-ct-segmentation.onnx`` with its manifest (:mod:`~spineviewer.training.
segmentation_ship`), runs it on held-out phantom seeds exactly as the viewer does (the
registry, :func:`~spineviewer.ai.sliding_window.segment`, :mod:`~spineviewer.ai.
segmentation_findings`) and writes the measured numbers into the manifest and the model card.
``--weights FILE`` skips the training and ships saved weights.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

__all__ = ["main"]

MODEL_ID = "spine-ct-segmentation"
#: The command line that runs :func:`main` (the model card records it).
PROG = "spineviewer train segmentation"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Train the demo spine CT segmentation model on lumbar-ct phantoms.",
    )
    p.add_argument("--out", type=Path, required=True, help="folder the package is written to")
    p.add_argument(
        "--cache", type=Path, default=None, help="phantom and case cache (default: OUT/cache)"
    )
    p.add_argument("--train-seeds", type=int, default=40, help="training phantoms (seeds 1000+)")
    p.add_argument(
        "--scoliotic-seeds",
        type=int,
        default=0,
        help="scoliotic training phantoms (seeds 1100+, curves drawn from the seed)",
    )
    p.add_argument("--test-seeds", type=int, default=10, help="held-out phantoms (seeds 9000+)")
    p.add_argument("--iterations", type=int, default=400)
    p.add_argument("--batch-size", type=int, default=2)
    p.add_argument("--learning-rate", type=float, default=3e-3)
    p.add_argument("--max-minutes", type=float, default=None, help="stop training after this")
    p.add_argument("--threads", type=int, default=2, help="torch threads")
    p.add_argument("--features", type=str, default=None, help="widths per stage: 4,8,16,48,96")
    p.add_argument("--weights", type=Path, default=None, help="ship these weights, no training")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--second-generator-seeds",
        type=int,
        default=0,
        help="also measure on this many CT studies of spineviewer.evaluation (seeds 1+)",
    )
    return p


TRAIN_FIRST_SEED = 1000
SCOLIOTIC_FIRST_SEED = 1100
TEST_FIRST_SEED = 9000


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    import torch

    from spineviewer.training.segmentation_data import ensure_cases
    from spineviewer.training.segmentation_fit import FEATURES, FitConfig, fit, network

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    out: Path = args.out
    cache = args.cache or out / "cache"
    features = tuple(int(v) for v in args.features.split(",")) if args.features else FEATURES
    train_seeds = range(TRAIN_FIRST_SEED, TRAIN_FIRST_SEED + args.train_seeds)
    scoliotic_seeds = range(SCOLIOTIC_FIRST_SEED, SCOLIOTIC_FIRST_SEED + args.scoliotic_seeds)
    test_seeds = range(TEST_FIRST_SEED, TEST_FIRST_SEED + args.test_seeds)
    say = _say
    words = sys.argv[1:] if argv is None else list(argv)
    command = " ".join([PROG, *map(shlex.quote, words)])
    if args.weights is None:
        cases = ensure_cases(cache / "train", train_seeds, say)
        cases += ensure_cases(cache / "train", scoliotic_seeds, say, scoliotic=True)
        say(f"{len(cases)} training cases ready ({time.perf_counter() - started:.0f} s)")
        config = FitConfig(
            iterations=args.iterations,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            max_minutes=args.max_minutes,
            seed=args.seed,
            features=features,
        )
        fitted = fit(cases, config, say)
        model, iterations = fitted.model, fitted.iterations
        weights = cache / f"{MODEL_ID}.pt"
        weights.parent.mkdir(parents=True, exist_ok=True)
        train_seconds = time.perf_counter() - started
        torch.save(
            {
                "features": features,
                "state": model.state_dict(),
                "iterations": iterations,
                "batch_size": args.batch_size,
                "seconds": train_seconds,
                "command": command,
                "train_seeds": args.train_seeds,
                "scoliotic_seeds": args.scoliotic_seeds,
                "trained": date.today().isoformat(),  # the card's date when shipped again
            },
            weights,
        )
        say(f"weights saved: {weights}")
        trained = date.today().isoformat()
    else:
        saved = torch.load(args.weights, weights_only=True)
        features = tuple(saved["features"])
        model = network(features)
        model.load_state_dict(saved["state"])
        model.eval()
        iterations, train_seconds = int(saved["iterations"]), float(saved["seconds"])
        args.batch_size = int(saved.get("batch_size", args.batch_size))
        command = str(saved.get("command", command))  # the run that trained them
        count = int(saved.get("train_seeds", args.train_seeds))
        train_seeds = range(TRAIN_FIRST_SEED, TRAIN_FIRST_SEED + count)
        bent = int(saved.get("scoliotic_seeds", 0))
        scoliotic_seeds = range(SCOLIOTIC_FIRST_SEED, SCOLIOTIC_FIRST_SEED + bent)
        # the day they were trained (weights saved before the date was kept: the file's day)
        trained = str(
            saved.get("trained")
            or date.fromtimestamp(Path(args.weights).stat().st_mtime).isoformat()
        )
    from spineviewer.training.segmentation_ship import Training, ship

    training = Training(
        command=command,
        train_seeds=train_seeds,
        scoliotic_seeds=scoliotic_seeds,
        test_seeds=test_seeds,
        iterations=iterations,
        batch_size=args.batch_size,
        features=features,
        train_seconds=train_seconds,
        threads=args.threads,
        second_generator_seeds=range(1, 1 + args.second_generator_seeds),
        trained=trained,
    )
    shipped = ship(model, training, out, cache / "test", say)
    say(f"shipped {shipped} ({time.perf_counter() - started:.0f} s in all)")
    return 0


def _say(text: str) -> None:
    print(text, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
