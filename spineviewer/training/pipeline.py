"""Train, compare, evaluate and ship a classification task end to end.

1. Phantom studies for the task's training, validation and held-out test seeds (generated
   once into a cache folder).
2. Each candidate backbone is trained (best validation epoch kept) and exported; the backbone
   with the best *validation* accuracy wins (ties: the smaller file). The held-out test set is
   only used to report, never to choose.
3. The winner is evaluated on the held-out studies with onnxruntime, exactly as the viewer runs
   it, and shipped as NAME.onnx + NAME.json (metrics inside) + NAME.md (model card) with the
   evaluation report (JSON, Markdown, plots).
"""

from __future__ import annotations

import platform
import shlex
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from spineviewer.ai.manifest import ModelManifest
from spineviewer.ai.runtime import ModelSession
from spineviewer.training.classifier import (
    CHANNEL_MEAN,
    CHANNEL_STD,
    TrainConfig,
    network_input,
    to_tensor,
    train_classifier,
)
from spineviewer.training.export import cpu_latency_ms, export_model
from spineviewer.training.metrics import classification_metrics
from spineviewer.training.phantom_data import (
    PERCENTILES,
    Sample,
    class_counts,
    collect,
    ensure_phantoms,
)
from spineviewer.training.report import write_evaluation
from spineviewer.training.tasks import ClassificationTask

Say = Callable[[str], None]
VERSION = "0.1.0"


@dataclass
class Candidate:
    backbone: str
    val_accuracy: float
    test_accuracy: float
    size_mb: float
    latency_ms: float
    best_epoch: int
    train_seconds: float


@dataclass
class Shipped:
    onnx_path: Path
    metrics: Evaluation
    candidates: list[Candidate]
    report_files: list[Path]


def load_sets(
    task: ClassificationTask, phantoms: Path, scale: float = 1.0, say: Say = print
) -> tuple[dict[str, list[Sample]], dict[str, range]]:
    """Samples of the train / val / test studies, and the seeds used (``scale`` < 1 uses
    fewer studies)."""
    sets: dict[str, list[Sample]] = {}
    used: dict[str, range] = {}
    for name, seeds in task.seeds.ranges().items():
        used[name] = seeds[: max(1, round(len(seeds) * scale))]
        folders = ensure_phantoms(
            task.phantom_kind, task.phantom_dir(phantoms), used[name], say, task.fracture_rate
        )
        sets[name] = collect(folders, task.build)
        counts = class_counts(sets[name], task.classes)
        say(f"{name}: {len(used[name])} studies, {len(sets[name])} samples {counts}")
    return sets, used


def manifest_for(
    task: ClassificationTask,
    backbone: str,
    metrics: Evaluation | None,
    sets: dict[str, Any],
    seeds: dict[str, range],
) -> dict[str, Any]:
    """The model manifest (sha256 and opset are filled in by the export)."""
    n_train = len(sets.get("train", []))
    evaluation: dict[str, Any] = {"data": "not evaluated yet", "metrics": {}}
    if metrics is not None:
        test = seeds["test"]
        unit = metrics.unit
        evaluation = {
            "data": (
                f"{len(sets['test'])} crops ({metrics.fused['n']} {unit}s) "
                f"from {len(test)} held-out {task.phantom_kind} phantoms (seeds {seed_span(test)})"
            ),
            "metrics": {
                f"accuracy_per_{unit}": rounded(metrics.fused["accuracy"]),
                "accuracy_per_crop": rounded(metrics.crop["accuracy"]),
                f"sensitivity_per_{unit}": {
                    c: rounded(metrics.fused["per_class"][c]["sensitivity"]) for c in task.classes
                },
                f"specificity_per_{unit}": {
                    c: rounded(metrics.fused["per_class"][c]["specificity"]) for c in task.classes
                },
            },
        }
    return {
        "schema_version": 1,
        "id": task.id,
        "name": task.name,
        "version": VERSION,
        "sha256": "0" * 64,
        "opset": 17,
        "min_onnxruntime": "1.17",
        "license": "Apache-2.0",
        "authors": ["SpineViewer developers"],
        "task": "classification",
        "applies_to": {
            "modality": list(task.modality),
            "view": list(task.view),
            "sequence": list(task.sequence),
            "body_part": task.body_part,
        },
        "input": {
            "name": "image",
            "dtype": "float32",
            "shape": ["batch", 3, task.size[0], task.size[1]],
            "layout": "NCHW",
            "channels": "replicated_grey",
        },
        "preprocessing": {
            "size": list(task.size),
            "resize": "stretch",
            "roi_mm": list(task.roi_mm),
            "normalisation": {"percentile": {"low": PERCENTILES[0], "high": PERCENTILES[1]}},
            "mean": [CHANNEL_MEAN],
            "std": [CHANNEL_STD],
            "monochrome1": "invert",
        },
        "outputs": [{"name": "logits", "dtype": "float32", "shape": ["batch", len(task.classes)]}],
        "decoding": {
            "tensors": {"scores": "logits"},
            "activation": "softmax",
            "outputs_are_logits": True,
        },
        "labels": task.labels(),
        "provenance": {
            "training_data": {
                "description": (
                    f"{n_train} crops from synthetic {task.phantom_kind} phantoms generated by "
                    f"spineviewer.phantom (seeds {seed_span(seeds['train'])}); "
                    f"backbone {backbone}, random initialisation"
                ),
                "license": "Apache-2.0 (generated data)",
            },
            "evaluation": evaluation,
            "intended_use": "Demonstration of the SpineViewer AI pipeline on phantom studies.",
            "limitations": [
                "Trained and evaluated on synthetic phantoms only; says nothing about patients.",
                "Not for clinical use.",
            ],
            "not_for_clinical_use": True,
        },
    }


def rounded(value: float | None) -> float:
    """A metric for a manifest: 4 decimals, 0 for an undefined value."""
    return round(float(value), 4) if value is not None else 0.0


def seed_span(seeds: Sequence[int]) -> str:
    """``"10000-10059"`` for a range of seeds."""
    return f"{seeds[0]}-{seeds[-1]}" if len(seeds) else "none"


@dataclass
class Evaluation:
    """Metrics per crop, and per structure (a disc, a vertebra) with the probabilities of its
    crops averaged, as the viewer's pipeline fuses the slices of one level."""

    crop: dict[str, Any]
    fused: dict[str, Any]
    unit: str

    def sections(self) -> dict[str, Any]:
        return {"per_crop": self.crop, f"per_{self.unit}": self.fused}


def fuse(samples: Sequence[Sample], probs: np.ndarray) -> tuple[list[str], list[str], np.ndarray]:
    """(true label, group, mean probabilities) per structure = per (study, group)."""
    keys: dict[tuple[str, str], list[int]] = {}
    for i, s in enumerate(samples):
        keys.setdefault((s.study, s.group), []).append(i)
    labels = [samples[idx[0]].label for idx in keys.values()]
    groups = [group for _, group in keys]
    fused = np.stack([probs[idx].mean(axis=0) for idx in keys.values()])
    return labels, groups, fused


def evaluate_onnx(
    onnx_path: Path, samples: Sequence[Sample], classes: Sequence[str], unit: str = "structure"
) -> Evaluation:
    """Metrics of the ONNX model on ``samples``, run as the viewer runs it (onnxruntime, CPU)."""
    manifest = ModelManifest.load(onnx_path.with_suffix(".json"))
    session = ModelSession(onnx_path, manifest, providers="cpu", threads=2)
    probs = session.classify(np.stack([s.image for s in samples]))

    def metrics(truth: list[str], groups: list[str], p: np.ndarray) -> dict[str, Any]:
        predicted = [classes[i] for i in p.argmax(axis=1)]
        return classification_metrics(
            truth, predicted, list(classes), groups=groups, probabilities=p
        )

    crop = metrics([s.label for s in samples], [s.group for s in samples], probs)
    return Evaluation(crop, metrics(*fuse(samples, probs)), unit)


def train_and_ship(
    task: ClassificationTask,
    phantoms: Path,
    out_dir: Path,
    backbones: Sequence[str],
    config: TrainConfig,
    scale: float = 1.0,
    report_dir: Path | None = None,
    say: Say = print,
) -> Shipped:
    """Everything in the module docstring; returns the shipped model's metrics."""
    config = replace(config, augment=task.augment)
    sets, seeds = load_sets(task, phantoms, scale, say)
    example_images, _ = to_tensor(sets["val"][:4], task.classes)
    example = network_input(example_images)
    candidates: list[Candidate] = []
    trained: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for backbone in backbones:
            say(f"training {backbone}")
            result = train_classifier(
                sets["train"], sets["val"], task.classes, replace(config, backbone=backbone), say
            )
            staged = export_model(
                result.model,
                example,
                manifest_for(task, backbone, None, sets, seeds),
                "",
                Path(tmp) / backbone,
            )
            metrics = evaluate_onnx(staged.onnx_path, sets["test"], task.classes, task.unit)
            val_metrics = evaluate_onnx(staged.onnx_path, sets["val"], task.classes, task.unit)
            candidates.append(
                Candidate(
                    backbone,
                    float(val_metrics.fused["accuracy"]),
                    float(metrics.fused["accuracy"]),
                    staged.size_bytes / 1e6,
                    cpu_latency_ms(staged.onnx_path, "image", example[:1].numpy()),
                    result.best_epoch,
                    result.seconds,
                )
            )
            trained[backbone] = (result, metrics)
            say(
                f"{backbone}: val acc {candidates[-1].val_accuracy:.4f}, test acc "
                f"{candidates[-1].test_accuracy:.4f}, {candidates[-1].size_mb:.1f} MB"
            )
    best = max(candidates, key=lambda c: (c.val_accuracy, -c.size_mb))
    result, metrics = trained[best.backbone]
    manifest = manifest_for(task, best.backbone, metrics, sets, seeds)
    card = model_card(task, best, candidates, metrics, sets, seeds, config)
    shipped = export_model(result.model, example, manifest, card, out_dir)
    report = write_evaluation(
        {
            "model": f"{task.id} {VERSION} ({best.backbone})",
            "data": manifest["provenance"]["evaluation"]["data"],
            **metrics.sections(),
        },
        report_dir or out_dir / f"{task.id}-evaluation",
        f"{task.name}: held-out evaluation",
    )
    say(
        f"shipped {shipped.onnx_path} ({shipped.size_bytes / 1e6:.1f} MB, max |ORT - torch| "
        f"{shipped.max_abs_diff:.1e})"
    )
    return Shipped(shipped.onnx_path, metrics, candidates, report)


def model_card(
    task: ClassificationTask,
    best: Candidate,
    candidates: Sequence[Candidate],
    metrics: Evaluation,
    sets: dict[str, list[Sample]],
    seeds: dict[str, range],
    config: TrainConfig,
) -> str:
    """The model card (Markdown)."""
    lines = [
        f"# {task.name}",
        "",
        "**NOT FOR CLINICAL USE.** A demonstration model trained and evaluated on synthetic "
        "phantom studies generated by `spineviewer.phantom`. Its numbers say nothing about "
        "patients.",
        "",
        f"- id `{task.id}`, version {VERSION}, task classification, classes: "
        + ", ".join(task.classes),
        f"- input: {task.modality[0]} {task.view[0]}, a {task.roi_mm[0]:g} x {task.roi_mm[1]:g} mm "
        f"crop resampled to {task.size[0]} x {task.size[1]}, percentiles "
        f"{PERCENTILES[0]}/{PERCENTILES[1]} -> 0/1, grey replicated to 3 channels",
        f"- {task.description}",
        "",
        "## Training",
        "",
        f"- data: {task.phantom_kind} phantoms; train seeds {seed_span(seeds['train'])} "
        f"({len(sets['train'])} crops, {class_counts(sets['train'], task.classes)}), validation "
        f"seeds {seed_span(seeds['val'])} ({len(sets['val'])} crops)",
        f"- backbone {best.backbone}, "
        + (
            "random initialisation (no pretrained weights available here)"
            if config.weights is None
            else f"initialised from `{config.weights.name}`"
        ),
        f"- {config.epochs} epochs, batch {config.batch_size}, AdamW lr {config.learning_rate:g} "
        f"one-cycle, class-weighted cross-entropy, seed {config.seed}; best validation epoch "
        f"{best.best_epoch} ({best.train_seconds / 60:.1f} min on {platform.machine()} CPU, "
        f"{config.threads} threads)",
        "- augmentation: intensity scale and gamma, noise, rotation +/-"
        f"{config.augment.rotation_deg:g} deg, shifts, zoom"
        + (", left-right flips" if config.augment.flip_horizontal else ", no flips"),
        "",
        "## Held-out evaluation (onnxruntime, CPU)",
        "",
        f"{len(sets['test'])} crops from {len(seeds['test'])} phantoms with seeds "
        f"{seed_span(seeds['test'])}, never used in training or model selection.",
        "",
    ]
    unit = metrics.unit
    for title, part in (
        (
            f"Per {unit} (the probabilities of its crops averaged, as the viewer fuses them)",
            metrics.fused,
        ),
        ("Per crop", metrics.crop),
    ):
        lines += [f"### {title}", "", *_metric_table(task.classes, part)]
        if part.get("per_group"):
            lines += ["", "| level | accuracy | n |", "|---|---|---|"]
            lines += [
                f"| {g['group']} | {_f(g['accuracy'])} | {g['n']} |" for g in part["per_group"]
            ]
        lines.append("")
    lines += [
        "",
        f"## Backbones compared (chosen by validation accuracy per {unit}, ties by size)",
        "",
        f"| backbone | val accuracy per {unit} | test accuracy per {unit} | size MB | "
        "CPU ms (1 crop, 2 threads) |",
        "|---|---|---|---|---|",
    ]
    for cand in candidates:
        mark = " (shipped)" if cand is best else ""
        lines.append(
            f"| {cand.backbone}{mark} | {cand.val_accuracy:.4f} | {cand.test_accuracy:.4f} | "
            f"{cand.size_mb:.1f} | {cand.latency_ms:.1f} |"
        )
    lines += [
        "",
        "## Reproduce",
        "",
        "```sh",
        " ".join(shlex.quote(a) for a in ["spineviewer", *sys.argv[1:]]) if sys.argv[1:] else "",
        "```",
        "",
        f"Trained {date.today().isoformat()} with Python {platform.python_version()}.",
        "",
    ]
    return "\n".join(lines)


def _metric_table(classes: Sequence[str], part: dict[str, Any]) -> list[str]:
    rows = [
        f"Accuracy **{part['accuracy']:.4f}** ({part['n']} samples)",
        "",
        "| class | sensitivity | specificity | precision | F1 | support |",
        "|---|---|---|---|---|---|",
    ]
    for c in classes:
        p = part["per_class"][c]
        rows.append(
            f"| {c} | {_f(p['sensitivity'])} | {_f(p['specificity'])} | {_f(p['precision'])} | "
            f"{_f(p['f1'])} | {p['support']} |"
        )
    return rows


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
