"""What every detector task does around its training: load the phantom sets, and ship the
trained network (stage it, evaluate the staged ONNX file on the held-out studies, then export
the package with the measured numbers in its manifest and card)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spineviewer.phantom.mr_options import MrOptions
from spineviewer.training.detection_data import DetectionSample
from spineviewer.training.phantom_data import ensure_phantoms, options_folder
from spineviewer.training.tasks import Seeds

__all__ = ["Staged", "load_phantom_sets", "stage_and_ship"]

Sets = dict[str, list[DetectionSample]]


def load_phantom_sets(
    kind: str,
    seeds: Seeds,
    phantoms: Path,
    collect: Callable[[list[Path]], list[DetectionSample]],
    describe: Callable[[str, range, list[DetectionSample]], str],
    scale: float = 1.0,
    say: Callable[[str], None] = print,
    mr_options: MrOptions | None = None,
) -> tuple[Sets, dict[str, list[Path]], dict[str, range]]:
    """Samples of the train and val studies, the folders of every set, the seeds used
    (``scale`` < 1 uses fewer studies); ``describe`` says what each set holds; lumbar MR
    phantoms with ``mr_options`` (the wide profile) are kept in their own folder
    (:func:`~spineviewer.training.phantom_data.options_folder`)."""
    phantoms = options_folder(phantoms, mr_options)
    sets: Sets = {}
    folders: dict[str, list[Path]] = {}
    used: dict[str, range] = {}
    for name, span in seeds.ranges().items():
        used[name] = span[: max(1, round(len(span) * scale))]
        folders[name] = ensure_phantoms(kind, phantoms, used[name], say, mr_options=mr_options)
        if name != "test":
            sets[name] = collect(folders[name])
            say(describe(name, used[name], sets[name]))
    return sets, folders, used


@dataclass
class Staged:
    """The shipped package, its held-out evaluation and its CPU latency."""

    shipped: Any
    evaluation: dict[str, Any]
    latency_ms: float


def stage_and_ship(
    model: Any,
    val: list[DetectionSample],
    manifest_of: Callable[[dict[str, Any] | None], dict[str, Any]],
    evaluate: Callable[[Path], dict[str, Any]],
    card_of: Callable[[dict[str, Any], float, int], str],
    out_dir: Path,
) -> Staged:
    """Export ``model`` to a scratch folder, evaluate that ONNX file, then export the package
    into ``out_dir`` with the evaluation in its manifest and model card."""
    import torch

    from spineviewer.training.detector import network_input
    from spineviewer.training.model_package import cpu_latency_ms, export_model

    example = network_input(torch.from_numpy(np.stack([s.image for s in val[:2]])[:, None].copy()))
    names = ("predictions",)
    with tempfile.TemporaryDirectory() as tmp:
        staged = export_model(model, example, manifest_of(None), "", Path(tmp), output_names=names)
        evaluation = evaluate(staged.onnx_path)
        latency = cpu_latency_ms(staged.onnx_path, "image", example[:1].numpy())
    card = card_of(evaluation, latency, staged.size_bytes)
    shipped = export_model(
        model, example, manifest_of(evaluation), card, out_dir, output_names=names
    )
    return Staged(shipped, evaluation, latency)
