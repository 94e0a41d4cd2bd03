"""Classification samples from SpineViewer's annotation exports (COCO + frames; numpy only).

``spineviewer annotations export --format coco``
(:func:`spineviewer.annotations.export_training_set`) writes ``annotations.json`` (COCO, with
each annotation's label, state and review status) and the annotated frames as
``images/NNNNN.npy``. A task learns from the annotations whose
``state`` is one of its classes (a disc annotated ``L4-L5`` with state ``bulge``): each becomes
one crop of the task's physical size (``roi_mm``) centred on the annotation's centroid, cut
from the exported frame with its pixel spacing and resampled to the task's input size, with
the same intensity scaling as the phantom samples - the ROI technique of seed 000, so the
model sees what the viewer's runner will give it. The export's own ``crops/`` are not used:
their size is whatever the export chose, not necessarily the model's.

Annotations an annotator rejected are left out; so are frames without a pixel spacing. Sets
are split by study (never one study in two sets): :func:`split_by_study`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spineviewer.ai.preprocessing import percentile_crop
from spineviewer.training.phantom_data import PERCENTILES, Sample

#: Fractions of the studies in the train, val and test sets.
SPLIT = (0.7, 0.15, 0.15)


class ExportError(ValueError):
    """An annotation export that cannot be read, naming the file and the problem."""


def _load(export_dir: Path) -> dict[str, Any]:
    path = export_dir / "annotations.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(
            f"{path}: not found; export a training set first "
            "(spineviewer annotations export --format coco)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportError(f"{path}: cannot be read: {exc}") from None
    if not isinstance(data, dict) or not {"images", "annotations"} <= set(data):
        raise ExportError(f"{path}: not a COCO file (needs 'images' and 'annotations')")
    return data


def find_exports(paths: Sequence[Path]) -> list[Path]:
    """The export folders (holding ``annotations.json``) given or found under ``paths``."""
    found: list[Path] = []
    for path in paths:
        if (path / "annotations.json").is_file():
            found.append(path)
            continue
        inside = sorted(p.parent for p in path.glob("**/annotations.json"))
        if not inside:
            raise ExportError(
                f"{path}: no annotations.json in or under it; export a training set first "
                "(spineviewer annotations export --format coco)"
            )
        found += inside
    return found


def centroid_rc(annotation: dict[str, Any]) -> tuple[float, float]:
    """(row, col) of the annotation's centre: the mean of its points, else its bbox centre
    (COCO's ``x = col + 0.5``)."""
    points = annotation.get("points_xy")
    if points:
        xy = np.asarray(points, dtype=np.float64).reshape(-1, 2).mean(axis=0)
    else:
        x, y, w, h = (float(v) for v in annotation["bbox"])
        xy = np.array([x + w / 2, y + h / 2])
    return float(xy[1] - 0.5), float(xy[0] - 0.5)


def annotation_samples(
    export_dir: Path,
    classes: Sequence[str],
    roi_mm: tuple[float, float],
    size: tuple[int, int],
) -> tuple[list[Sample], list[str]]:
    """The samples of one export and what was left out (with the reason)."""
    data = _load(export_dir)
    images = {int(im["id"]): im for im in data["images"]}
    categories = {int(c["id"]): str(c["name"]) for c in data.get("categories", [])}
    frames: dict[int, np.ndarray] = {}
    samples: list[Sample] = []
    skipped: list[str] = []
    for ann in data["annotations"]:
        state, uid = ann.get("state"), ann.get("uid", ann.get("id"))
        if state not in classes:
            continue
        if ann.get("status") == "rejected":
            skipped.append(f"{uid}: rejected in review")
            continue
        image = images.get(int(ann["image_id"]))
        if image is None:
            skipped.append(f"{uid}: image {ann['image_id']} is not in the export")
            continue
        spacing = image.get("pixel_spacing")
        if not spacing:
            skipped.append(f"{uid}: its frame has no pixel spacing for a {roi_mm} mm crop")
            continue
        image_id = int(image["id"])
        if image_id not in frames:
            path = export_dir / image["npy_file"]
            try:
                frames[image_id] = np.load(path, allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise ExportError(f"{path}: cannot be read: {exc}") from None
        centre = centroid_rc(ann)
        pixel_spacing = (float(spacing[0]), float(spacing[1]))
        samples.append(
            Sample(
                image=percentile_crop(
                    frames[image_id], centre, pixel_spacing, roi_mm, size, PERCENTILES
                ),
                label=str(state),
                group=categories.get(int(ann.get("category_id", -1)), ""),
                study=str(image.get("study_uid", export_dir.name)),
                sop_instance_uid=str(image.get("sop_instance_uid", "")),
            )
        )
    return samples, skipped


def split_by_study(
    samples: Sequence[Sample], seed: int = 0, fractions: tuple[float, float, float] = SPLIT
) -> dict[str, list[Sample]]:
    """Train / val / test sets with whole studies in each (shuffled with ``seed``); every set
    gets at least one study."""
    studies = sorted({s.study for s in samples})
    if len(studies) < 3:
        raise ExportError(
            f"{len(studies)} annotated stud{'y' if len(studies) == 1 else 'ies'}: at least 3 "
            "are needed (train, validation and test hold whole studies)"
        )
    order = [studies[i] for i in np.random.default_rng(seed).permutation(len(studies))]
    n_val = max(1, round(len(studies) * fractions[1]))
    n_test = max(1, round(len(studies) * fractions[2]))
    parts = {
        "test": set(order[:n_test]),
        "val": set(order[n_test : n_test + n_val]),
        "train": set(order[n_test + n_val :]),
    }
    return {name: [s for s in samples if s.study in chosen] for name, chosen in parts.items()}
