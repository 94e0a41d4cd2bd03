"""``spineviewer evaluate --model M --data DIR --out DIR``: metrics of a model package on studies.

The model runs through onnxruntime exactly as in the viewer; DIR holds phantom studies (with
their ``ground_truth.json``) of the kind the model's task is trained on. Writes metrics.json,
metrics.md and PNG plots. Numpy and onnxruntime only (plots need matplotlib).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a command runs: `spineviewer --help` stays fast
    from spineviewer.ai.manifest import ModelManifest


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a model package on phantom studies (JSON, Markdown, plots)",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--model", type=Path, required=True, help="NAME.onnx (NAME.json beside)")
    parser.add_argument("--data", type=Path, required=True, help="folder of phantom studies")
    parser.add_argument("--out", type=Path, required=True, help="report folder (created)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from spineviewer.ai.manifest import ManifestError, ModelManifest
    from spineviewer.training.eval_report import write_evaluation
    from spineviewer.training.phantom_data import collect
    from spineviewer.training.pipeline import evaluate_onnx
    from spineviewer.training.tasks import TASKS

    try:
        manifest = ModelManifest.load(args.model.with_suffix(".json"))
    except (ManifestError, OSError) as exc:
        print(f"spineviewer evaluate: {exc}", file=sys.stderr)
        return 1
    folders = sorted(p.parent for p in args.data.glob("*/ground_truth.json"))
    if not folders:
        print(f"spineviewer evaluate: no phantom studies in {args.data}", file=sys.stderr)
        return 1
    if manifest.task in ("detection", "keypoints"):
        return _evaluate_detector(args, manifest, folders)
    spec = TASKS.get(manifest.id)
    if spec is None:
        print(
            f"spineviewer evaluate: no evaluation data builder for model {manifest.id!r} "
            f"(known: {', '.join(TASKS)})",
            file=sys.stderr,
        )
        return 1
    samples = collect(folders, spec.build)
    evaluation = evaluate_onnx(args.model, samples, spec.classes, spec.unit)
    files = write_evaluation(
        {
            "model": f"{manifest.id} {manifest.version}",
            "data": f"{len(samples)} samples from {len(folders)} studies in {args.data}",
            **evaluation.sections(),
        },
        args.out,
        f"{manifest.name}: evaluation",
    )
    for name, part in evaluation.sections().items():
        print(f"{name}: accuracy {part['accuracy']:.4f} on {part['n']} samples")
        for cls, row in part["per_class"].items():
            sens, spec_ = row["sensitivity"], row["specificity"]
            print(
                f"  {cls:12s} sensitivity {_f(sens)}  specificity {_f(spec_)}  n={row['support']}"
            )
    for path in files:
        print(path)
    return 0


def _evaluate_detector(
    args: argparse.Namespace, manifest: ModelManifest, folders: list[Path]
) -> int:
    """Detectors: AP radiograph models (by their view) or the sagittal vertebral-body one."""
    from spineviewer.training.eval_report import write_evaluation

    if "AP" in manifest.applies_to.projection:
        from spineviewer.training.xr_pipeline import evaluate_xr

        result = evaluate_xr(args.model, folders)
    else:
        from spineviewer.training.detection_pipeline import evaluate_detector

        result = evaluate_detector(args.model, folders)
    files = write_evaluation(result, args.out, f"{manifest.name}: evaluation")
    for name, row in result["detection"]["per_class"].items():
        print(f"{name:16s} AP50 {_f(row['ap'])}  true boxes {row['n_truth']}")
    if "identification" in result:
        ident = result["identification"]
        error = ident["localisation_error_mm"]["identified"]["mean"]
        print(f"identification rate {_f(ident['rate'])}, mean error {_f(error)} mm")
    if "cobb" in result:
        cobb = result["cobb"]
        print(f"Cobb angle MAE {_f(cobb['mae_deg'])} deg, SMAPE {_f(cobb['smape_percent'])} %")
    for path in files:
        print(path)
    return 0


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
