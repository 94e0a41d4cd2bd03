"""How the spine CT segmentation model measures on held-out ``lumbar-ct`` phantoms, run exactly
as the viewer runs it: the package loaded through the registry, a session from
:class:`~spineviewer.ai.sessions.SessionCache`, :func:`~spineviewer.ai.sliding_window.segment`
on the series as :func:`~spineviewer.dicom.load_volume` reads it, and the vertebrae from the
label map by :func:`~spineviewer.ai.segmentation_findings.column_from_mask`.

Measures:

- **Dice** per structure on the series' own grid against the phantom's label map (a study
  where neither has the structure does not count for it); the mean over the vertebrae T12 to
  S1 (T11 is cut by the top of every phantom's field of view) and the lowest of them.
- **Identification rate** (VerSe, 20 mm: :func:`~spineviewer.training.metrics.
  identification`) of the vertebrae derived from the mask, against the truth's centres of
  the vertebrae in view (those with at least :data:`~spineviewer.ai.segmentation_findings.
  MIN_VERTEBRA_ML` in the truth label map).
- **Levels right**: the studies whose derived vertebrae are exactly the ones in view, each
  identified.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spineviewer.ai.registry import load_entry
from spineviewer.ai.segmentation_findings import MIN_VERTEBRA_ML, column_from_mask
from spineviewer.ai.sessions import SessionCache
from spineviewer.ai.sliding_window import segment
from spineviewer.training.metrics import identification
from spineviewer.training.segmentation_data import LEVELS, VERTEBRAE, SeriesCase

__all__ = ["SCORED_VERTEBRAE", "StudyResult", "dice", "evaluate", "second_generator", "summarise"]

#: The vertebrae the mean Dice is over (T11 is a sliver at the top of the phantoms).
SCORED_VERTEBRAE = VERTEBRAE[1:]
#: The identification radius (VerSe).
RADIUS_MM = 20.0


@dataclass(frozen=True)
class StudyResult:
    name: str
    dice: dict[str, float]
    found: dict[str, tuple[float, float, float]]
    in_view: dict[str, tuple[float, float, float]]
    seconds: float
    status: str


def dice(found: np.ndarray, found_value: int, truth: np.ndarray, truth_value: int) -> float | None:
    """Dice of ``found_value`` in ``found`` against ``truth_value`` in ``truth``; None when
    neither has it."""
    a, b = found == found_value, truth == truth_value
    total = int(a.sum()) + int(b.sum())
    return None if total == 0 else 2.0 * float(np.logical_and(a, b).sum()) / total


def evaluate(
    onnx_path: Path,
    cases: Sequence[SeriesCase],
    say: Callable[[str], None] = lambda text: None,
    threads: int = 2,
) -> list[StudyResult]:
    """Every case segmented by the package at ``onnx_path`` on the CPU, and scored."""
    entry = load_entry(onnx_path)
    session = SessionCache("cpu", threads).get(entry)
    results = []
    for case in cases:
        started = time.perf_counter()
        label_map = segment(session, case.hu, case.spacing)
        seconds = time.perf_counter() - started
        uids = [f"{case.name}.{k}" for k in range(case.hu.shape[0])]
        column = column_from_mask(label_map, case.affine, case.name, uids)
        voxel_ml = float(np.prod(case.spacing)) / 1000.0
        in_view = {
            name: case.centres[name]
            for name in VERTEBRAE
            if name in case.centres
            and (case.labels == LEVELS.index(name)).sum() * voxel_ml >= MIN_VERTEBRA_ML
        }
        values = {label.name: value for value, label in label_map.values.items()}
        scores = {}
        for truth_value, name in enumerate(LEVELS):
            if truth_value:
                found = dice(label_map.labels, values.get(name, -1), case.labels, truth_value)
                if found is not None:
                    scores[name] = round(found, 4)
        result = StudyResult(
            case.name,
            scores,
            {v.label: v.centre_mm for v in column.vertebrae},
            in_view,
            round(seconds, 2),
            column.review.result.status,
        )
        mean = np.mean([scores.get(n, 0.0) for n in SCORED_VERTEBRAE])
        say(f"{case.name}: mean vertebra Dice {mean:.3f}, {seconds:.1f} s, {result.status}")
        results.append(result)
    return results


def _levels_right(result: StudyResult) -> bool:
    if set(result.found) != set(result.in_view):
        return False
    return all(
        float(np.linalg.norm(np.subtract(result.found[n], c))) <= RADIUS_MM
        for n, c in result.in_view.items()
    )


def summarise(results: Sequence[StudyResult]) -> dict[str, Any]:
    """The numbers for the manifest and the card."""
    per_label: dict[str, list[float]] = {}
    for r in results:
        for name, value in r.dice.items():
            per_label.setdefault(name, []).append(value)
    means = {n: round(float(np.mean(v)), 4) for n, v in per_label.items()}
    vertebra_means = [means.get(n, 0.0) for n in SCORED_VERTEBRAE]
    per_study = [float(np.mean([r.dice.get(n, 0.0) for n in SCORED_VERTEBRAE])) for r in results]
    ident = identification(
        {r.name: r.found for r in results}, {r.name: r.in_view for r in results}, RADIUS_MM
    )
    lowest = min(
        (r.dice.get(n, 0.0) for r in results for n in SCORED_VERTEBRAE), default=float("nan")
    )
    return {
        "studies": len(results),
        "dice_mean_vertebrae": round(float(np.mean(vertebra_means)), 4),
        "dice_lowest_vertebra_in_a_study": round(lowest, 4),
        "dice_mean_vertebrae_per_study_min": round(min(per_study, default=float("nan")), 4),
        "dice": means,
        "identification_rate": ident["rate"],
        "localisation_error_mm_mean": ident["localisation_error_mm"]["identified"].get("mean"),
        "levels_right_studies": sum(_levels_right(r) for r in results),
        "labels_confident_studies": sum(r.status == "confident" for r in results),
        "seconds_per_study_mean": round(float(np.mean([r.seconds for r in results])), 2),
    }


def second_generator(
    onnx_path: Path,
    root: Path,
    seeds: Sequence[int],
    say: Callable[[str], None] = lambda text: None,
    threads: int = 2,
) -> dict[str, Any]:
    """The package at ``onnx_path`` on CT studies of the second, independent evaluation
    generator (:func:`spineviewer.evaluation.generate_ct_study`, generated under ``root`` when
    missing), scored by :func:`spineviewer.evaluation.score_segmentation.score_segmentation`
    with whole vertebrae (body and arch; S1 with the sacrum), as this model segments them."""
    from spineviewer.ai.segmentation_predict import label_values
    from spineviewer.dicom import load_volume, scan
    from spineviewer.evaluation import ct_study_folder_name, generate_ct_study
    from spineviewer.evaluation.score_segmentation import read_label_truth, score_segmentation

    entry = load_entry(onnx_path)
    session = SessionCache("cpu", threads).get(entry)
    names = {v: label.name for v, label in label_values(session.manifest).items()}
    scores = []
    for seed in seeds:
        folder = root / ct_study_folder_name(seed)
        if not (folder / "ground_truth.json").is_file():
            say(f"generating evaluation CT study {seed}")
            folder = generate_ct_study(root, seed)
        truth = read_label_truth(folder)
        volume = load_volume(scan(folder).studies[0].series[0].stacks[0])
        labels = segment(session, volume.array, volume.spacing).labels
        if not np.allclose(volume.positions[0], truth.origin, atol=1e-2):
            labels = labels[::-1]  # the truth's voxel order: its first slice first
        score = score_segmentation(labels, names, truth, whole_vertebrae=True)
        say(f"evaluation CT {seed}: {score.to_dict()}")
        scores.append(score)
    bodies = [b for s in scores for b in s.bodies]
    means = [s.mean_dice for s in scores if s.mean_dice is not None]
    lows = [s.min_dice for s in scores if s.min_dice is not None]
    return {
        "studies": len(scores),
        "dice_mean_vertebrae": round(float(np.mean(means)), 4) if means else None,
        "dice_lowest_vertebra": round(float(min(lows)), 4) if lows else None,
        "identification_rate": round(sum(b.identified for b in bodies) / len(bodies), 4)
        if bodies
        else None,
        "all_levels_right_studies": sum(s.all_levels_right for s in scores),
    }
