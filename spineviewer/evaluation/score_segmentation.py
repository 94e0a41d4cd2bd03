"""Scoring a predicted spine label map against an evaluation study's truth label map.

The prediction is a numpy array on the series' grid, in the truth NIfTI's voxel order
``(slice, row, column)`` (:mod:`~spineviewer.evaluation.label_map`: slices along the stack's
normal), with the names of its values. Vertebra names are read loosely: ``L3``,
``vertebrae_L3``, ``L3 vertebra``; ``L3_posterior_elements`` is L3's arch; ``sacrum`` is the
sacrum below and behind the S1 body. Two conventions:

- ``whole_vertebrae=False`` (default): a vertebra is its body; predicted arches are ignored.
- ``whole_vertebrae=True``: a vertebra is its body and arch (S1 with the whole sacrum), on both
  sides, for models trained on whole-vertebra masks (TotalSegmentator, VerSe,
  ``spineviewer.phantom``'s CT label maps).

Scored are the truth vertebrae with at least ``min_volume_mm3`` labelled (a body cut at the
edge of the volume by less counts for neither side); predicted vertebrae below that volume
are ignored as specks. Per body: the Dice coefficient, the truth and predicted centroids
(patient mm). A body is **identified** by the VerSe rule: its predicted centroid lies within
``max_distance_mm`` (20) of the truth centroid and, of all scored truth centroids, that one
is the nearest. The **identification rate** is over the scored bodies; **all levels right**
means every scored body identified and no predicted vertebra whose label the truth volume does
not hold at all (an L6 in a five-lumbar spine, say). The mean Dice leaves S1 out (where the
sacrum "starts" is a convention); its Dice is listed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BodyScore",
    "SegmentationScore",
    "TruthLabelMap",
    "read_label_truth",
    "score_segmentation",
    "vertebra_part",
]

GROUND_TRUTH_FILE = "ground_truth.json"
MAX_DISTANCE_MM = 20.0
MIN_VOLUME_MM3 = 500.0
_VERTEBRA = re.compile(r"(?:^|[^A-Za-z])([CTLS])(\d{1,2})(?:$|[^0-9A-Za-z-])")


def vertebra_part(name: str) -> tuple[str, str] | None:
    """(vertebra, ``"body"`` or ``"arch"``) of a label name, None for discs, canal and the rest:
    ``L3`` and ``vertebrae_L3`` -> (L3, body), ``L3_posterior_elements`` -> (L3, arch),
    ``sacrum`` -> (S1, arch)."""
    if name.strip().lower() == "sacrum":
        return "S1", "arch"
    if re.search(r"[CTLS]\d{1,2}\s*-\s*[CTLS]?\d", name):  # a disc level
        return None
    found = _VERTEBRA.search(f" {name} ")
    if found is None:
        return None
    vertebra = f"{found.group(1)}{int(found.group(2))}"
    arch = "posterior" in name.lower() or "arch" in name.lower()
    return vertebra, "arch" if arch else "body"


@dataclass(frozen=True)
class TruthLabelMap:
    """A study's truth label map: ``labels`` (slices, rows, columns), value -> name, and the
    grid: patient mm = ``origin + index @ axes`` for an index (slice, row, column)."""

    labels: NDArray[np.uint8]
    names: dict[int, str]
    origin: NDArray[np.float64]
    axes: NDArray[np.float64]  # (3, 3): rows are one step along slice, row and column
    series_instance_uid: str

    @property
    def voxel_mm3(self) -> float:
        return float(abs(np.linalg.det(self.axes)))

    def to_patient(self, index: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(self.origin + index @ self.axes)


def read_label_truth(folder: str | Path) -> TruthLabelMap:
    """The label map of the study in ``folder`` (a ValueError says why there is none)."""
    import SimpleITK as sitk

    folder = Path(folder)
    truth = json.loads((folder / GROUND_TRUTH_FILE).read_text(encoding="utf-8"))
    entry = truth.get("label_map")
    if not entry:
        raise ValueError(f"{folder}: the ground truth names no label map")
    image = sitk.ReadImage(str(folder / entry["file"]))
    labels = sitk.GetArrayFromImage(image)  # (slices, rows, columns)
    direction = np.asarray(image.GetDirection(), dtype=np.float64).reshape(3, 3)
    spacing = np.asarray(image.GetSpacing(), dtype=np.float64)
    # columns of ``direction`` are the i (column), j (row), k (slice) axes
    steps = (direction * spacing).T  # rows: one step along i, j, k
    return TruthLabelMap(
        labels=labels.astype(np.uint8, copy=False),
        names={int(v): str(n) for n, v in entry["values"].items()},
        origin=np.asarray(image.GetOrigin(), dtype=np.float64),
        axes=steps[::-1].copy(),  # (slice, row, column)
        series_instance_uid=str(entry["series_instance_uid"]),
    )


@dataclass(frozen=True)
class BodyScore:
    label: str
    dice: float
    truth_centroid_mm: tuple[float, float, float]
    predicted_centroid_mm: tuple[float, float, float] | None
    distance_mm: float | None
    identified: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "dice": round(self.dice, 4),
            "truth_centroid_mm": [round(v, 2) for v in self.truth_centroid_mm],
            "predicted_centroid_mm": None
            if self.predicted_centroid_mm is None
            else [round(v, 2) for v in self.predicted_centroid_mm],
            "distance_mm": None if self.distance_mm is None else round(self.distance_mm, 2),
            "identified": self.identified,
        }


@dataclass(frozen=True)
class SegmentationScore:
    bodies: tuple[BodyScore, ...]
    #: Predicted vertebrae whose label the truth volume does not hold at all.
    extra_labels: tuple[str, ...]
    whole_vertebrae: bool

    @property
    def identification_rate(self) -> float | None:
        if not self.bodies:
            return None
        return sum(b.identified for b in self.bodies) / len(self.bodies)

    @property
    def all_levels_right(self) -> bool:
        return (
            bool(self.bodies) and all(b.identified for b in self.bodies) and not self.extra_labels
        )

    def _dices(self) -> list[float]:
        return [b.dice for b in self.bodies if b.label != "S1"]

    @property
    def mean_dice(self) -> float | None:
        dices = self._dices()
        return float(np.mean(dices)) if dices else None

    @property
    def min_dice(self) -> float | None:
        dices = self._dices()
        return min(dices) if dices else None

    def to_dict(self) -> dict[str, Any]:
        mean, low, rate = self.mean_dice, self.min_dice, self.identification_rate
        return {
            "whole_vertebrae": self.whole_vertebrae,
            "identification_rate": None if rate is None else round(rate, 4),
            "mean_dice": None if mean is None else round(mean, 4),
            "min_dice": None if low is None else round(low, 4),
            "all_levels_right": self.all_levels_right,
            "extra_labels": list(self.extra_labels),
            "bodies": [b.to_dict() for b in self.bodies],
        }


def _vertebra_values(names: Mapping[int, str], whole: bool) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for value, name in names.items():
        part = vertebra_part(name)
        if part is not None and (whole or part[1] == "body"):
            out.setdefault(part[0], []).append(int(value))
    return out


def _vertebra_map(
    labels: NDArray[np.integer[Any]], values: dict[str, list[int]]
) -> tuple[NDArray[np.int16], list[str]]:
    """Each voxel's vertebra index (1-based into the returned names), 0 elsewhere."""
    order = sorted(values)
    table = np.zeros(int(labels.max(initial=0)) + 1, dtype=np.int16)
    for i, name in enumerate(order, start=1):
        for v in values[name]:
            if v < len(table):
                table[v] = i
    return table[labels], order


def _centroids(index_map: NDArray[np.int16], count: int) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """Voxels and mean (slice, row, column) index of each value 1..count (row 0 unused), a
    slice at a time (no volume of coordinates)."""
    voxels = np.zeros(count + 1, dtype=np.int64)
    sums = np.zeros((count + 1, 3))
    rows, cols = np.divmod(np.arange(index_map.shape[1] * index_map.shape[2]), index_map.shape[2])
    for k, plane in enumerate(index_map):
        flat = plane.reshape(-1)
        n = np.bincount(flat, minlength=count + 1)[: count + 1]
        voxels += n
        sums[:, 0] += n * k
        sums[:, 1] += np.bincount(flat, rows, minlength=count + 1)[: count + 1]
        sums[:, 2] += np.bincount(flat, cols, minlength=count + 1)[: count + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return voxels, sums / voxels[:, None]


def _overlaps(a: NDArray[np.int16], b: NDArray[np.int16], na: int, nb: int) -> NDArray[np.int64]:
    """Voxels of every (value of ``a``, value of ``b``) pair: (na + 1, nb + 1)."""
    pairs = np.zeros((na + 1) * (nb + 1), dtype=np.int64)
    for x, y in zip(a, b, strict=True):
        joint = x.reshape(-1).astype(np.int64) * (nb + 1) + y.reshape(-1)
        pairs += np.bincount(joint, minlength=len(pairs))
    return pairs.reshape(na + 1, nb + 1)


def score_segmentation(
    predicted: NDArray[np.integer[Any]],
    predicted_names: Mapping[int, str],
    truth: TruthLabelMap,
    *,
    whole_vertebrae: bool = False,
    max_distance_mm: float = MAX_DISTANCE_MM,
    min_volume_mm3: float = MIN_VOLUME_MM3,
) -> SegmentationScore:
    """Score ``predicted`` (the truth's grid and voxel order) against ``truth``."""
    if predicted.shape != truth.labels.shape:
        raise ValueError(
            f"the prediction's shape {predicted.shape} is not the truth's {truth.labels.shape}"
        )
    min_voxels = min_volume_mm3 / truth.voxel_mm3
    t_map, t_names = _vertebra_map(truth.labels, _vertebra_values(truth.names, whole_vertebrae))
    p_map, p_names = _vertebra_map(
        np.asarray(predicted), _vertebra_values(predicted_names, whole_vertebrae)
    )
    t_voxels, t_index = _centroids(t_map, len(t_names))
    p_voxels, p_index = _centroids(p_map, len(p_names))
    scored = [i for i in range(1, len(t_names) + 1) if t_voxels[i] >= min_voxels]
    t_centres = {t_names[i - 1]: truth.to_patient(t_index[i]) for i in scored}
    p_centres = {
        p_names[i - 1]: truth.to_patient(p_index[i])
        for i in range(1, len(p_names) + 1)
        if p_voxels[i] >= min_voxels
    }
    present = {t_names[i - 1] for i in range(1, len(t_names) + 1) if t_voxels[i] > 0}
    overlaps = _overlaps(t_map, p_map, len(t_names), len(p_names))
    bodies = []
    for i in scored:
        label = t_names[i - 1]
        j = p_names.index(label) + 1 if label in p_names else None
        overlap = int(overlaps[i, j]) if j is not None else 0
        size = int(t_voxels[i]) + (int(p_voxels[j]) if j is not None else 0)
        centre = p_centres.get(label)
        distance = None if centre is None else float(np.linalg.norm(centre - t_centres[label]))
        nearest = (
            None
            if centre is None
            else min(t_centres, key=lambda n: float(np.linalg.norm(t_centres[n] - centre)))
        )
        bodies.append(
            BodyScore(
                label,
                2.0 * overlap / size if size else 0.0,
                tuple(float(v) for v in t_centres[label]),  # type: ignore[arg-type]
                None if centre is None else tuple(float(v) for v in centre),  # type: ignore[arg-type]
                distance,
                distance is not None and distance <= max_distance_mm and nearest == label,
            )
        )
    extra = tuple(sorted(n for n in p_centres if n not in present))
    return SegmentationScore(tuple(bodies), extra, whole_vertebrae)


def score_study(
    folder: str | Path,
    predicted: NDArray[np.integer[Any]],
    predicted_names: Mapping[int, str],
    **options: Any,
) -> SegmentationScore:
    """:func:`score_segmentation` against the truth label map of the study in ``folder``."""
    return score_segmentation(predicted, predicted_names, read_label_truth(folder), **options)
