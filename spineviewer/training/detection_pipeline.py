"""Train, evaluate and ship the vertebral-body detector ``vertebrae-sagittal`` end to end.

1. Lumbar MR phantoms for the training, validation and held-out test seeds (generated once
   into a cache folder; disjoint from the disc-state task's 10000+, 20000+ and 90000+).
2. The CenterNet-style detector (:mod:`spineviewer.training.detector`) is trained on every
   sagittal slice of the training studies; the epoch with the best *validation* detection
   score is kept. The held-out studies are only used to report, never to choose.
3. The model is exported (one ONNX file, opset 17, the manifest embedded and beside it) and
   evaluated on the held-out studies with onnxruntime, as the viewer will run it: every slice
   of the sagittal stack is detected, the slices are fused and the bodies labelled by order
   (:mod:`spineviewer.ai.vertebra_labels`); the VerSe identification rate and the
   localisation error (mm, centres in patient coordinates through each slice's plane) are
   measured against ``ground_truth.json``, with the detection AP per slice and, for
   comparison, the identification from the middle slice alone.
4. The package ``vertebrae-sagittal.onnx/.json/.md`` and the evaluation report are written.
"""

from __future__ import annotations

import platform
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from spineviewer.ai.detection import Detections, detect
from spineviewer.ai.manifest import ModelManifest
from spineviewer.ai.preprocessing import Letterbox
from spineviewer.ai.vertebra_labels import (
    CLASS_NAMES,
    Labelling,
    SliceDetections,
    fuse_slices,
    label_slice,
)
from spineviewer.dicom import StackPixels
from spineviewer.phantom import load_ground_truth
from spineviewer.phantom.mr_options import MrOptions
from spineviewer.training.detection_data import (
    INPUT_SIZE,
    MM_PER_PIXEL,
    DetectionSample,
    collect_detection,
    sagittal_stack,
)
from spineviewer.training.detector_manifest import detector_manifest, manifest_labels
from spineviewer.training.detector_ship import load_phantom_sets, stage_and_ship
from spineviewer.training.eval_report import write_evaluation
from spineviewer.training.metrics import average_precision, identification
from spineviewer.training.phantom_data import PERCENTILES
from spineviewer.training.pipeline import rounded, seed_span
from spineviewer.training.tasks import Seeds

TASK_ID = "vertebrae-sagittal"
NAME = "Vertebral bodies on sagittal MR, T2, T1 or STIR (demo, phantom-trained)"
VERSION = "0.1.0"
PHANTOM_KIND = "lumbar-mr"
#: Wide-profile phantoms (:mod:`spineviewer.phantom.wide`): every field of view, contrast, pixel
#: grid, noise level and tissue signal drawn per study.
SEEDS = Seeds(train=(13_000, 200), val=(23_000, 20), test=(93_000, 40))
MR_OPTIONS = MrOptions.wide(series=("sagittal",))
#: Augmentation beyond the detector defaults: wide intensity, gamma, blur and noise changes,
#: and turns of up to 8 degrees (spines lie tilted on the table, sacral slopes vary).
AUGMENT: dict[str, float] = {
    "rotation": 8.0,
    "intensity": 0.3,
    "gamma": 0.5,
    "noise": 0.06,
    "blur": 1.5,
    "zoom": 0.15,
}
#: Slices per sagittal series used in training (the middle ones; None: all, lateral slices that
#: cut a body partly or not at all included).
TRAIN_MIDDLE: int | None = None
#: Score threshold of the precision-recall curves (the manifest's threshold labels the bodies).
AP_THRESHOLD = 0.05
VOCABULARY_KEYS = {"vertebra": None, "S1": "S1"}


@dataclass
class ShippedDetector:
    onnx_path: Path
    evaluation: dict[str, Any]
    report_files: list[Path]
    best_epoch: int
    train_seconds: float
    latency_ms: float
    size_bytes: int


def load_detection_sets(
    phantoms: Path, scale: float = 1.0, say: Callable[[str], None] = print
) -> tuple[dict[str, list[DetectionSample]], dict[str, list[Path]], dict[str, range]]:
    """Samples of the train and val studies, the folders of every set, the seeds used."""

    def describe(name: str, seeds: range, samples: list[DetectionSample]) -> str:
        boxes = sum(len(s.boxes) for s in samples)
        return f"{name}: {len(seeds)} studies, {len(samples)} slices, {boxes} boxes"

    def collect(folders: Sequence[Path]) -> list[DetectionSample]:
        return collect_detection(folders, middle=TRAIN_MIDDLE)

    return load_phantom_sets(
        PHANTOM_KIND, SEEDS, phantoms, collect, describe, scale, say, mr_options=MR_OPTIONS
    )


def manifest_for(
    evaluation: dict[str, Any] | None, n_train: int, seeds: dict[str, range]
) -> dict[str, Any]:
    """The model manifest (sha256 and opset are filled in by the export)."""
    summary: dict[str, Any] = {"data": "not evaluated yet", "metrics": {}}
    if evaluation is not None:
        summary = {"data": evaluation["data"], "metrics": manifest_metrics(evaluation)}
    return detector_manifest(
        identity={"id": TASK_ID, "name": NAME, "version": VERSION},
        applies_to={
            "modality": ["MR"],
            "view": ["sagittal"],
            "contrast": ["T2", "T1", "STIR"],
            "body_part": "LSPINE",
        },
        input_size=INPUT_SIZE,
        mm_per_pixel=MM_PER_PIXEL,
        labels=manifest_labels(CLASS_NAMES, VOCABULARY_KEYS),
        oriented=False,
        provenance={
            "training_data": {
                "description": (
                    f"{n_train} sagittal T2, T1 and STIR slices of {len(seeds['train'])} "
                    f"synthetic {PHANTOM_KIND} phantoms of the wide profile generated by "
                    "spineviewer.phantom (field of view, pixel grid, noise, bias and tissue "
                    f"signals drawn per study; seeds "
                    f"{seed_span(seeds['train'])}; validation seeds {seed_span(seeds['val'])}); "
                    "CenterNet-style network, random initialisation. Bodies are labelled by "
                    "order from the sacral one (S1) upward: "
                    "spineviewer.ai.vertebra_labels."
                ),
                "license": "Apache-2.0 (generated data)",
            },
            "evaluation": summary,
            "intended_use": (
                "Demonstration of the SpineViewer AI pipeline on phantom studies: vertebral "
                "bodies on the sagittal slices of a lumbar MR, labelled by order."
            ),
            "limitations": [
                "Trained and evaluated on synthetic phantoms only; says nothing about patients.",
                "Labels come from the order of the bodies above the sacral one: a missed or "
                "extra body, a transitional vertebra or a sacrum out of view shifts them.",
                "Not for clinical use.",
            ],
            "not_for_clinical_use": True,
        },
    )


def manifest_metrics(evaluation: dict[str, Any]) -> dict[str, Any]:
    """The numbers the manifest carries: identification, localisation, AP per class."""
    ident = evaluation["identification"]
    loc = ident["localisation_error_mm"]["identified"]
    ap = evaluation["detection"]["per_class"]
    metrics: dict[str, Any] = {
        "identification_rate": rounded(ident["rate"]),
        "localisation_error_mm_mean": rounded(loc["mean"]),
        "localisation_error_mm_median": rounded(loc["median"]),
        "localisation_error_mm_max": rounded(loc["max"]),
        "identification_rate_per_label": {
            k: rounded(v["rate"]) for k, v in ident["per_label"].items()
        },
        "ap50": {k: rounded(v["ap"]) for k, v in ap.items()},
        "sensitivity": {k: rounded(at_threshold(v)[0]) for k, v in ap.items()},
        "precision": {k: rounded(at_threshold(v)[1]) for k, v in ap.items()},
    }
    if "middle_slice" in evaluation:
        mid = evaluation["middle_slice"]
        metrics["identification_rate_middle_slice_only"] = rounded(mid["rate"])
        metrics["localisation_error_mm_mean_middle_slice_only"] = rounded(
            mid["localisation_error_mm"]["identified"]["mean"]
        )
    return metrics


def at_threshold(row: dict[str, Any], threshold: float | None = None) -> tuple[float, float | None]:
    """(recall, precision) of one class of :func:`average_precision` at the manifest's score
    threshold (default), read off its precision-recall curve."""
    from spineviewer.training.detector import SCORE_THRESHOLD

    limit = SCORE_THRESHOLD if threshold is None else threshold
    curve = row["pr_curve"]
    count = sum(1 for score in curve["scores"] if score >= limit)
    if not count:
        return 0.0, None
    return float(curve["recall"][count - 1]), float(curve["precision"][count - 1])


# -- evaluation ----------------------------------------------------------------------------------


@dataclass
class StudyResult:
    """One study analysed: the fused labelling, the middle slice's, per-slice detections."""

    study: str
    labelling: Labelling
    middle: Labelling
    slices: list[tuple[Detections, Letterbox, str]]  # detections (low threshold), box, SOP UID


def analyse_study(manifest: ModelManifest, session: Any, study_dir: Path) -> StudyResult:
    """Detect on every sagittal slice, fuse, label; as the viewer's pipeline does."""
    from spineviewer.ai.manifest import DetectionDecoding

    decoding = manifest.decoding
    assert isinstance(decoding, DetectionDecoding)
    stack = sagittal_stack(study_dir)
    pixels = StackPixels(stack)
    values = [pixels.slice(i) for i in range(len(stack))]
    found = detect(
        manifest,
        session,
        values,
        score_threshold=min(AP_THRESHOLD, 1.0),
        spacing=stack.pixel_spacing,
    )
    per_slice = []
    for index, (dets, box) in enumerate(found):
        keep = np.flatnonzero(dets.scores >= decoding.score_threshold)
        plane = stack.plane_of(index)
        per_slice.append(SliceDetections(dets.take(keep), box, plane, index))
    mid = len(stack) // 2
    middle = per_slice[mid]
    return StudyResult(
        study=study_dir.name,
        labelling=fuse_slices(per_slice, reference=mid),
        middle=label_slice(middle.detections, middle.box, middle.plane, middle.index),
        slices=[
            (dets, box, stack.frames[i].instance.sop_instance_uid)
            for i, (dets, box) in enumerate(found)
        ],
    )


def truth_centres(study_dir: Path) -> dict[str, list[float]]:
    """True centres (patient mm) of the vertebrae the sagittal series shows."""
    truth = load_ground_truth(study_dir)
    sag = {s.series_instance_uid for s in truth.series if s.plane == "sagittal"}
    return {
        v.label: v.centre_mm
        for v in truth.vertebrae
        if any(view.series_instance_uid in sag and view.box_px for view in v.views)
    }


def _truth_boxes(study_dir: Path) -> dict[str, list[tuple[list[int], str]]]:
    truth = load_ground_truth(study_dir)
    out: dict[str, list[tuple[list[int], str]]] = {}
    for v in truth.vertebrae:
        for view in v.views:
            if view.sop_instance_uid and view.box_px:
                cls = "S1" if v.label == "S1" else "vertebra"
                out.setdefault(view.sop_instance_uid, []).append((view.box_px, cls))
    return out


def evaluate_detector(onnx_path: Path, study_folders: Sequence[Path]) -> dict[str, Any]:
    """Held-out metrics of the detector on lumbar MR phantom studies, run with onnxruntime.

    Returns the result dict for :func:`~spineviewer.training.eval_report.write_evaluation`:
    ``identification`` (VerSe rate and localisation error, the fused slices),
    ``middle_slice`` (the same from the middle slice alone), ``detection`` (AP at IoU 0.5
    per class over every sagittal slice), ``model``, ``data``, and ``warnings`` per study.
    """
    from spineviewer.ai.registry import load_entry
    from spineviewer.ai.runtime import ModelSession

    onnx_path = Path(onnx_path)
    entry = load_entry(onnx_path)
    if entry.manifest is None or not entry.available:
        raise ValueError(f"{onnx_path}: not a usable model: {'; '.join(entry.problems)}")
    manifest = entry.manifest
    session = ModelSession(onnx_path, manifest, providers="cpu", threads=2)
    fused: dict[str, dict[str, tuple[float, float, float]]] = {}
    middle: dict[str, dict[str, tuple[float, float, float]]] = {}
    truths: dict[str, dict[str, list[float]]] = {}
    dets: list[dict[str, Any]] = []
    gts: list[dict[str, Any]] = []
    warnings: dict[str, list[str]] = {}
    started = time.perf_counter()
    n_slices = 0
    for folder in study_folders:
        result = analyse_study(manifest, session.session, Path(folder))
        fused[result.study] = result.labelling.centres_mm()
        middle[result.study] = result.middle.centres_mm()
        truths[result.study] = truth_centres(Path(folder))
        if result.labelling.warnings:
            warnings[result.study] = list(result.labelling.warnings)
        boxes = _truth_boxes(Path(folder))
        for found, box, uid in result.slices:
            n_slices += 1
            dets.append(
                {
                    "boxes": found.boxes,
                    "labels": [CLASS_NAMES[c] for c in found.classes],
                    "scores": found.scores,
                }
            )
            truth = boxes.get(uid, [])
            gts.append(
                {
                    "boxes": np.array([box.box_to_input(b) for b, _ in truth]).reshape(-1, 4),
                    "labels": [c for _, c in truth],
                }
            )
    seconds = time.perf_counter() - started
    seeds = [load_ground_truth(Path(f)).seed for f in study_folders]
    return {
        "model": f"{manifest.id} {manifest.version} ({onnx_path.name}, onnxruntime CPU)",
        "data": (
            f"{len(study_folders)} held-out {PHANTOM_KIND} phantoms "
            f"(seeds {', '.join(compact_seeds(seeds))}), {n_slices} sagittal slices; every slice "
            "detected, slices fused, bodies labelled by order"
        ),
        "identification": identification(fused, truths),
        "middle_slice": identification(middle, truths),
        "detection": average_precision(dets, gts, 0.5, classes=list(CLASS_NAMES)),
        "warnings": warnings,
        "seconds_per_study": seconds / max(1, len(study_folders)),
    }


def compact_seeds(seeds: Sequence[int]) -> list[str]:
    """[1, 2, 3, 7] -> ["1-3", "7"]."""
    out: list[str] = []
    ordered = sorted(seeds)
    start = prev = ordered[0] if ordered else 0
    for s in ordered[1:]:
        if s != prev + 1:
            out.append(f"{start}-{prev}" if prev != start else str(start))
            start = s
        prev = s
    if ordered:
        out.append(f"{start}-{prev}" if prev != start else str(start))
    return out


# -- training and shipping -----------------------------------------------------------------------


def train_and_ship_detector(
    phantoms: Path,
    out_dir: Path,
    config: Any = None,
    scale: float = 1.0,
    report_dir: Path | None = None,
    say: Callable[[str], None] = print,
) -> ShippedDetector:
    """Everything in the module docstring; returns the shipped model's evaluation."""
    from spineviewer.training.detector import DetectorConfig, train_detector

    config = config or DetectorConfig()
    sets, folders, seeds = load_detection_sets(phantoms, scale, say)
    result = train_detector(sets["train"], sets["val"], config, say)
    n_train = len(sets["train"])
    done = stage_and_ship(
        result.model,
        sets["val"],
        lambda evaluation: manifest_for(evaluation, n_train, seeds),
        lambda onnx: evaluate_detector(onnx, folders["test"]),
        lambda evaluation, latency, size: model_card(
            evaluation, sets, seeds, config, result, latency, size
        ),
        out_dir,
    )
    shipped, evaluation, latency = done.shipped, done.evaluation, done.latency_ms
    report = write_evaluation(
        evaluation,
        report_dir or out_dir / f"{TASK_ID}-evaluation",
        f"{NAME}: held-out evaluation",
    )
    ident = evaluation["identification"]
    say(
        f"shipped {shipped.onnx_path} ({shipped.size_bytes / 1e6:.2f} MB, max |ORT - torch| "
        f"{shipped.max_abs_diff:.1e}); identification {_f(ident['rate'], 4)}, mean error "
        f"{_f(ident['localisation_error_mm']['identified']['mean'], 2)} mm"
    )
    return ShippedDetector(
        shipped.onnx_path,
        evaluation,
        report,
        result.best_epoch,
        result.seconds,
        latency,
        shipped.size_bytes,
    )


def model_card(
    evaluation: dict[str, Any],
    sets: dict[str, list[DetectionSample]],
    seeds: dict[str, range],
    config: Any,
    result: Any,
    latency_ms: float,
    size_bytes: int,
) -> str:
    """The model card (Markdown)."""
    from spineviewer.training.detector import NMS_IOU, SCORE_THRESHOLD, STRIDE
    from spineviewer.training.networks import parameter_count

    ident = evaluation["identification"]
    mid = evaluation["middle_slice"]
    loc = ident["localisation_error_mm"]["identified"]
    mid_loc = mid["localisation_error_mm"]["identified"]
    ap = evaluation["detection"]
    n_boxes = sum(len(s.boxes) for s in sets["train"])
    lines = [
        f"# {NAME}",
        "",
        "**NOT FOR CLINICAL USE.** A demonstration model trained and evaluated on synthetic "
        "phantom studies generated by `spineviewer.phantom`. Its numbers say nothing about "
        "patients.",
        "",
        f"- id `{TASK_ID}`, version {VERSION}, task detection, classes: "
        + ", ".join(CLASS_NAMES)
        + " (a lumbar or thoracic vertebral body; the sacral S1 body)",
        f"- input: one MR sagittal slice (T2, T1 or STIR), percentiles {PERCENTILES[0]}/"
        f"{PERCENTILES[1]} -> 0/1 on the whole slice, letterboxed in its physical proportions "
        "(PixelSpacing: non-square pixels become square input pixels; centred, 0 padding) to "
        f"{INPUT_SIZE[0]} x {INPUT_SIZE[1]} at {MM_PER_PIXEL} mm per input pixel (a field "
        f"larger than {INPUT_SIZE[0] * MM_PER_PIXEL:.0f} mm zoomed out until it fits), then "
        "(x - 0.5) / 0.25; 1 channel",
        f"- output `predictions` (batch, {(INPUT_SIZE[0] // STRIDE) * (INPUT_SIZE[1] // STRIDE)}"
        ", 6): YOLO-style rows `cx, cy, w, h` (input pixels) + a score per class; scores are "
        "the sigmoid centre heatmap of each cell. The runner keeps rows scoring >= "
        f"{SCORE_THRESHOLD} and runs class-agnostic NMS (IoU {NMS_IOU})",
        "- labelling (`spineviewer.ai.vertebra_labels`): every slice of the sagittal "
        "stack is detected, detections are grouped across slices, and the groups are labelled "
        "by order: the sacral body is S1, then L5, L4 ... L1, T12, T11 upward; the centre in "
        "patient mm is the in-plane mean of the central sections and the width-weighted "
        "left-right position across the slices",
        "",
        "## Training",
        "",
        f"- data: {PHANTOM_KIND} phantoms of the wide profile (field of view, lumbar count, "
        "sagittal contrasts, pixel grid, slab, noise, bias and tissue signals drawn per study: "
        f"`spineviewer.phantom.wide`); train seeds {seed_span(seeds['train'])} "
        f"({len(seeds['train'])} studies, {len(sets['train'])} sagittal slices, {n_boxes} "
        f"boxes), validation seeds {seed_span(seeds['val'])} ({len(seeds['val'])} studies, "
        f"{len(sets['val'])} slices); "
        + ("every slice" if TRAIN_MIDDLE is None else f"the {TRAIN_MIDDLE} middle slices")
        + " of every sagittal series",
        f"- network: CenterNet-style tiny U-Net (width {config.width}, "
        f"{parameter_count(result.model):,} parameters), random initialisation (no pretrained "
        "weights)",
        f"- {result.epochs_run} of {config.epochs} epochs"
        + (f" (time limit {config.max_minutes:g} min)" if config.max_minutes else "")
        + f", batch {config.batch_size}, AdamW lr {config.learning_rate:g} "
        f"one-cycle, focal heatmap loss + L1 offset and log-size, seed {config.seed}; best "
        f"validation epoch {result.best_epoch} ({result.seconds / 60:.1f} min on "
        f"{platform.machine()} CPU, {config.threads} threads)",
        f"- augmentation: zoom +/-{config.zoom:g}, shifts +/-{config.shift_px:g} px, intensity "
        f"scale +/-{config.intensity:g}, gamma exp(+/-{config.gamma:g}), blur sigma up to "
        f"{config.blur:g} px, noise sigma up to {config.noise:g}; no flips",
        "",
        "## Held-out evaluation (onnxruntime, CPU)",
        "",
        f"{ident['n_cases']} phantoms with seeds {seed_span(seeds['test'])}, never used in "
        "training or model selection; the true vertebrae are those the sagittal series shows "
        f"({ident['n_truth']}).",
        "",
        "| measure | slices fused (shipped pipeline) | middle slice only |",
        "|---|---|---|",
        f"| identification rate (VerSe, 20 mm) | **{_f(ident['rate'], 4)}** | "
        f"{_f(mid['rate'], 4)} |",
        f"| localisation error mean (mm) | **{_f(loc['mean'], 2)}** | {_f(mid_loc['mean'], 2)} |",
        f"| localisation error median (mm) | {_f(loc['median'], 2)} | {_f(mid_loc['median'], 2)} |",
        f"| localisation error max (mm) | {_f(loc['max'], 2)} | {_f(mid_loc['max'], 2)} |",
        "",
        "Detection per slice (IoU 0.5, the right class, every sagittal slice; AP from "
        f"detections scoring >= {AP_THRESHOLD}, recall and precision at the manifest's "
        f"threshold {SCORE_THRESHOLD}):",
        "",
        "| class | AP50 | recall | precision | true boxes |",
        "|---|---|---|---|---|",
    ]
    for name, row in ap["per_class"].items():
        recall, precision = at_threshold(row)
        lines.append(
            f"| {name} | {_f(row['ap'])} | {_f(recall)} | {_f(precision)} | {row['n_truth']} |"
        )
    lines += ["", "Per vertebra:", "", "| label | n | identified | mean error mm |"]
    lines += ["|---|---|---|---|"]
    for label, row in ident["per_label"].items():
        lines.append(f"| {label} | {row['n']} | {row['identified']} | {_f(row['mean_error_mm'])} |")
    warned = evaluation.get("warnings") or {}
    lines += [
        "",
        f"Studies with labelling warnings: {len(warned)}"
        + (": " + "; ".join(f"{k}: {', '.join(v)}" for k, v in warned.items()) if warned else ""),
        "",
        "## Cost",
        "",
        f"- file size {size_bytes / 1e6:.2f} MB",
        f"- CPU latency {latency_ms:.1f} ms per slice (onnxruntime, 2 threads, median of 30); "
        f"{evaluation['seconds_per_study']:.2f} s per study in the evaluation (every sagittal "
        "slice, DICOM reading and decoding, fusion and labelling included)",
        "",
        "## Reproduce",
        "",
        "```sh",
        " ".join(shlex.quote(a) for a in ["spineviewer", *sys.argv[1:]])
        if sys.argv[1:]
        else "spineviewer train-detector",
        "```",
        "",
        f"Trained {date.today().isoformat()} with Python {platform.python_version()}.",
        "",
    ]
    return "\n".join(lines)


def _f(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
