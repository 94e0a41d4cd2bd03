"""Train, evaluate and ship the AP radiograph models ``implants-ap`` and ``vertebrae-ap``.

1. ``spine-xr`` phantoms for the training, validation and held-out test seeds of the task
   (generated once into a cache folder; each task's seeds are disjoint from every other
   task's).
2. A CenterNet-style detector (:mod:`spineviewer.training.detector`) is trained on the whole
   radiographs; the epoch with the best *validation* score is kept. ``vertebrae-ap`` is an
   oriented network: each body also gets its tilt, output as the four corners of the body.
3. The model is exported (one ONNX file, opset 17, the manifest embedded and beside it) and
   evaluated on the held-out radiographs with onnxruntime, as the viewer runs it
   (:func:`evaluate_xr`):

   - ``implants-ap``: average precision at IoU 0.5 per class (pedicle screw, rod, interbody
     cage), NMS within each class (a screw head may lie under a rod);
   - ``vertebrae-ap``: bodies labelled by order from the sacral one (T10 .. L5, S1), the VerSe
     identification rate and localisation error in mm, the endplate tilts from the corners,
     and the Cobb angle (largest angle between an upper and a lower endplate,
     :func:`~spineviewer.ai.cobb.cobb_angle`) against the true one: MAE and SMAPE (AASCE 2019).
4. The package ``NAME.onnx/.json/.md`` and the evaluation report are written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spineviewer.ai.cobb import cobb_angle
from spineviewer.ai.detection import Detections, detect
from spineviewer.ai.manifest import DetectionDecoding, ModelManifest
from spineviewer.ai.pipelines.spine_xr import label_bodies
from spineviewer.ai.preprocessing import Letterbox
from spineviewer.phantom import load_ground_truth
from spineviewer.training.detection_data import DetectionSample
from spineviewer.training.detection_pipeline import compact_seeds
from spineviewer.training.detector_ship import load_phantom_sets, stage_and_ship
from spineviewer.training.eval_report import write_evaluation
from spineviewer.training.metrics import average_precision, cobb_metrics, identification
from spineviewer.training.phantom_data import ensure_phantoms
from spineviewer.training.xr_card import manifest_for, model_card
from spineviewer.training.xr_data import (
    collect_xr,
    ensure_wide_xr,
    radiograph,
    xr_sample,
)
from spineviewer.training.xr_tasks import (
    AP_THRESHOLD,
    PHANTOM_KIND,
    XrTask,
    task_of,
)

# -- evaluation ----------------------------------------------------------------------------------


@dataclass
class XrResult:
    """One radiograph analysed: detections (low threshold), letterbox, pixel spacing (mm)."""

    study: str
    found: Detections
    box: Letterbox
    spacing: tuple[float, float]
    truth: DetectionSample


def analyse_radiograph(
    manifest: ModelManifest, session: Any, task: XrTask, study_dir: Path
) -> XrResult:
    """Detect on a study's radiograph as the viewer's pipeline does."""
    stack, values, monochrome1 = radiograph(study_dir)
    (found, box), *_ = detect(
        manifest,
        session,
        [values],
        score_threshold=AP_THRESHOLD,
        monochrome1=monochrome1,
        spacing=stack.pixel_spacing,
    )
    spacing = stack.pixel_spacing or (1.0, 1.0)
    pre = manifest.preprocessing
    truth = xr_sample(study_dir, task.target, pre.size, pre.mm_per_pixel)
    return XrResult(study_dir.name, found, box, spacing, truth)


def _ap_entries(result: XrResult, classes: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    det = {
        "boxes": result.found.boxes,
        "labels": [classes[c] for c in result.found.classes],
        "scores": result.found.scores,
    }
    gt = {"boxes": result.truth.boxes, "labels": [classes[c] for c in result.truth.classes]}
    return det, gt


def evaluate_xr(onnx_path: Path, study_folders: Sequence[Path]) -> dict[str, Any]:
    """Held-out metrics of an AP radiograph model on spine-xr phantoms, run with onnxruntime.

    Returns the result dict for :func:`~spineviewer.training.eval_report.write_evaluation`:
    ``detection`` (AP at IoU 0.5 per class) and, for ``vertebrae-ap``, ``identification``,
    ``cobb`` (Cobb angle MAE, SMAPE), ``tilt`` (endplate angle errors) and ``end_vertebrae``
    (how often both end vertebrae are the true ones); ``model``, ``data``, warnings per study.
    """
    from spineviewer.ai.registry import load_entry
    from spineviewer.ai.runtime import ModelSession

    onnx_path = Path(onnx_path)
    entry = load_entry(onnx_path)
    if entry.manifest is None or not entry.available:
        raise ValueError(f"{onnx_path}: not a usable model: {'; '.join(entry.problems)}")
    manifest = entry.manifest
    task = task_of(manifest)
    decoding = manifest.decoding
    if not isinstance(decoding, DetectionDecoding):
        raise ValueError(f"{onnx_path}: not a detection model")
    session = ModelSession(onnx_path, manifest, providers="cpu", threads=2)
    dets, gts = [], []
    pred_centres: dict[str, dict[str, tuple[float, float, float]]] = {}
    true_centres: dict[str, dict[str, list[float]]] = {}
    cobb_pred: list[float] = []
    cobb_true: list[float] = []
    ends_right = 0
    tilt_errors: list[float] = []
    warnings: dict[str, list[str]] = {}
    started = time.perf_counter()
    for folder in study_folders:
        result = analyse_radiograph(manifest, session.session, task, Path(folder))
        det, gt = _ap_entries(result, task.classes)
        dets.append(det)
        gts.append(gt)
        if not task.oriented:
            continue
        truth = load_ground_truth(Path(folder))
        bodies, warned = label_bodies(result.found, result.box, decoding.score_threshold)
        if warned:
            warnings[result.study] = warned
        sp = result.spacing
        pred_centres[result.study] = {
            b.label: (b.centre_rc[1] * sp[1], 0.0, -b.centre_rc[0] * sp[0]) for b in bodies
        }
        true_centres[result.study] = {
            v.label: v.centre_mm for v in truth.vertebrae if any(w.box_px for w in v.views)
        }
        true_tilt = {v.label: w.tilt_deg for v in truth.vertebrae for w in v.views if w.tilt_deg}
        tilt_errors += [
            abs(t - true_tilt[b.label]) for b in bodies if b.label in true_tilt for t in b.tilts
        ]
        spine = [b for b in bodies if b.label != "S1"]
        cobb = cobb_angle([b.label for b in spine], [b.tilts for b in spine])
        assert truth.cobb is not None
        cobb_true.append(truth.cobb.angle_deg)
        cobb_pred.append(cobb.angle_deg if cobb is not None else 0.0)
        if cobb is not None and (cobb.upper, cobb.lower) == (
            truth.cobb.upper_end_vertebra,
            truth.cobb.lower_end_vertebra,
        ):
            ends_right += 1
    seconds = time.perf_counter() - started
    seeds = [load_ground_truth(Path(f)).seed for f in study_folders]
    out: dict[str, Any] = {
        "model": f"{manifest.id} {manifest.version} ({onnx_path.name}, onnxruntime CPU)",
        "data": (
            f"{len(study_folders)} held-out {PHANTOM_KIND} phantoms (seeds "
            f"{', '.join(compact_seeds(seeds))}), one AP radiograph each, "
            f"{sum(len(g['boxes']) for g in gts)} true {task.target}"
        ),
        "detection": average_precision(dets, gts, 0.5, classes=list(task.classes)),
        "warnings": warnings,
        "seconds_per_study": seconds / max(1, len(study_folders)),
    }
    if task.oriented:
        out["identification"] = identification(pred_centres, true_centres)
        out["cobb"] = cobb_metrics(cobb_pred, cobb_true)
        out["tilt"] = {
            "n": len(tilt_errors),
            "mean_error_deg": float(np.mean(tilt_errors)) if tilt_errors else None,
            "median_error_deg": float(np.median(tilt_errors)) if tilt_errors else None,
            "max_error_deg": float(np.max(tilt_errors)) if tilt_errors else None,
        }
        out["end_vertebrae"] = {"n": len(cobb_true), "both_right": ends_right}
    return out


# -- training and shipping -----------------------------------------------------------------------


@dataclass
class ShippedXr:
    onnx_path: Path
    evaluation: dict[str, Any]
    report_files: list[Path]


def load_xr_sets(
    task: XrTask, phantoms: Path, scale: float = 1.0, say: Callable[[str], None] = print
) -> tuple[dict[str, list[DetectionSample]], dict[str, list[Path]], dict[str, range]]:
    """Samples of the train and val studies, the folders of every set, the seeds used (the
    wide profile's studies as ``phantoms/spine-xr-<seed>-wide``, with the standard studies of
    the task's ``standard_share`` of the train and validation seeds; held out: the wide
    studies as ``test`` and the standard ones of the same seeds as ``test_standard``, on which
    the model is compared with the standard profile's)."""

    def collect(folders: list[Path]) -> list[DetectionSample]:
        return collect_xr(folders, task.target, task.input_size, task.mm_per_pixel)

    def describe(name: str, seeds: range, samples: list[DetectionSample]) -> str:
        return (
            f"{name}: seeds {', '.join(compact_seeds(seeds))}, {len(samples)} radiographs, "
            f"{sum(len(s.boxes) for s in samples)} {task.target}"
        )

    if task.profile == "standard":
        return load_phantom_sets(PHANTOM_KIND, task.seeds, phantoms, collect, describe, scale, say)
    sets: dict[str, list[DetectionSample]] = {}
    folders: dict[str, list[Path]] = {}
    used: dict[str, range] = {}
    for name, span in task.seeds.ranges().items():
        used[name] = span[: max(1, round(len(span) * scale))]
        folders[name] = ensure_wide_xr(phantoms, used[name], say)
        if name == "test":
            folders["test_standard"] = ensure_phantoms(PHANTOM_KIND, phantoms, used[name], say)
            continue
        standard = used[name][: round(len(used[name]) * task.standard_share)]
        extra = ensure_phantoms(PHANTOM_KIND, phantoms, standard, say) if standard else []
        sets[name] = collect(folders[name] + extra)
        say(describe(name, used[name], sets[name]))
    return sets, folders, used


def held_out_sets(task: XrTask, folders: dict[str, list[Path]]) -> dict[str, list[Path]]:
    """The held-out study folders a model is measured on, by profile: the task's own test
    studies and, for a wide-profile task, the standard studies of the same seeds."""
    out = {task.profile: folders["test"]}
    if "test_standard" in folders:
        out["standard"] = folders["test_standard"]
    return out


def compare_models(
    onnx_path: Path,
    held_out: dict[str, list[Path]],
    model: str,
    own: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One row per held-out set: the set, ``model`` (a description), the number of studies and
    the model's evaluation there (``own``: the evaluation already made on the task's own test
    set, the first of ``held_out``)."""
    rows = []
    for n, (name, studies) in enumerate(held_out.items()):
        evaluation = own if own is not None and n == 0 else evaluate_xr(onnx_path, studies)
        rows.append({**evaluation, "set": name, "model": model, "studies": len(studies)})
    return rows


def previous_model_rows(
    onnx_path: Path, held_out: dict[str, list[Path]], say: Callable[[str], None] = print
) -> list[dict[str, Any]]:
    """:func:`compare_models` for the package a new model will replace (none when there is
    none or it cannot run: then nothing is compared)."""
    from spineviewer.ai.registry import load_entry

    if not onnx_path.is_file():
        return []
    entry = load_entry(onnx_path)
    if entry.manifest is None or not entry.available:
        say(f"{onnx_path}: previous model not compared: {'; '.join(entry.problems)}")
        return []
    pre = entry.manifest.preprocessing
    size = " x ".join(str(v) for v in pre.size)
    scale = f"{pre.mm_per_pixel:g} mm per input pixel" if pre.mm_per_pixel else "as large as fits"
    described = f"previous {entry.manifest.version} ({size}, {scale})"
    say(f"evaluating the {described} on the held-out sets")
    return compare_models(onnx_path, held_out, described)


def evaluate_with_comparison(
    onnx_path: Path,
    task: XrTask,
    held_out: dict[str, list[Path]],
    previous: list[dict[str, Any]],
) -> dict[str, Any]:
    """:func:`evaluate_xr` on the task's own test set, with ``comparison``: this model and the
    previous one on every held-out set (rows of :func:`compare_models`)."""
    evaluation = evaluate_xr(onnx_path, held_out[task.profile])
    ours = compare_models(onnx_path, held_out, "this model", own=dict(evaluation))
    paired = zip(previous, ours, strict=True) if previous else ((row,) for row in ours)
    evaluation["comparison"] = [row for pair in paired for row in pair]
    return evaluation


def train_and_ship_xr(
    task: XrTask,
    phantoms: Path,
    out_dir: Path,
    config: Any = None,
    scale: float = 1.0,
    report_dir: Path | None = None,
    say: Callable[[str], None] = print,
) -> ShippedXr:
    """Everything in the module docstring for one task; returns the shipped evaluation."""
    from spineviewer.training.detector import DetectorConfig, train_detector

    started = time.perf_counter()
    config = config or DetectorConfig(epochs=task.epochs)
    sets, folders, seeds = load_xr_sets(task, phantoms, scale, say)
    held_out = held_out_sets(task, folders)
    previous = previous_model_rows(Path(out_dir) / f"{task.id}.onnx", held_out, say)
    result = train_detector(
        sets["train"],
        sets["val"],
        config,
        say,
        classes=task.classes,
        oriented=task.oriented,
        per_class_nms=task.per_class_nms,
    )
    done = stage_and_ship(
        result.model,
        sets["val"],
        lambda evaluation: manifest_for(task, evaluation, seeds),
        lambda onnx: evaluate_with_comparison(onnx, task, held_out, previous),
        lambda evaluation, latency, size: model_card(
            task,
            evaluation,
            sets,
            seeds,
            config,
            result,
            latency,
            size,
            wall_minutes=(time.perf_counter() - started) / 60,
        ),
        out_dir,
    )
    shipped, evaluation = done.shipped, done.evaluation
    report = write_evaluation(
        evaluation, report_dir or out_dir / f"{task.id}-evaluation", f"{task.name}: held-out"
    )
    ap = evaluation["detection"]
    say(
        f"shipped {shipped.onnx_path} ({shipped.size_bytes / 1e6:.2f} MB, max |ORT - torch| "
        f"{shipped.max_abs_diff:.1e}); mAP50 {ap['mean_ap'] or 0:.4f}"
        + (f", Cobb MAE {evaluation['cobb']['mae_deg']:.2f} deg" if "cobb" in evaluation else "")
    )
    return ShippedXr(shipped.onnx_path, evaluation, report)
